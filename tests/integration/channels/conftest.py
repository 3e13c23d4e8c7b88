"""The OAuth tests speak to the app over plain http (the test client's base URL is http://testserver.local):
Authlib accepts that only when told, as it would a loopback address. The WeChat tests talk to a fake WeChat
server (tests.wechat)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.wechat import (
    OFFICIAL_APP_ID,
    OFFICIAL_APP_SECRET,
    OTHER_OFFICIAL_APP_ID,
    OTHER_OFFICIAL_APP_SECRET,
    WORLD_APP_ID,
    WORLD_APP_SECRET,
    FakeWeChat,
    Running,
)


@pytest.fixture(autouse=True)
def plain_http_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")


@pytest.fixture(scope="session")
def fake_wechat_server() -> Iterator[FakeWeChat]:
    """The fake WeChat server, started once per test process on the address every test app is configured with."""
    running = Running()
    fake = running.start()
    fake.register(WORLD_APP_ID, WORLD_APP_SECRET)
    fake.register(OFFICIAL_APP_ID, OFFICIAL_APP_SECRET)
    fake.register(OTHER_OFFICIAL_APP_ID, OTHER_OFFICIAL_APP_SECRET)
    yield fake
    running.stop()


@pytest.fixture
def fake_wechat(fake_wechat_server: FakeWeChat) -> FakeWeChat:
    """The fake as new: no codes, no tokens, no failures queued, nothing counted."""
    fake_wechat_server.reset()
    return fake_wechat_server
