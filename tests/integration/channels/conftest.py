"""The OAuth tests speak to the app over plain http (the test client's base URL is http://testserver.local):
Authlib accepts that only when told, as it would a loopback address."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def plain_http_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
