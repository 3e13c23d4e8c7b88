"""Browser security headers on every kind of response, and templates that need no inline script or style."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from litestar.testing import TestClient

from portal.http.app import create_app
from tests.conftest import BASE_URL, make_settings

ROOT = Path(__file__).resolve().parents[3]


def directives(response_header: str) -> dict[str, str]:
    return dict((part.strip() + " ").split(" ", 1) for part in response_header.split(";"))  # type: ignore[misc]


@pytest.mark.parametrize(
    "path",
    ["/", "/login", "/no-such-page", "/api/me", "/api/no-such-thing", "/static/js/portal.js", "/health"],
)
def test_every_response_carries_the_security_headers(client: TestClient, path: str) -> None:
    response = client.get(path)
    policy = directives(response.headers["content-security-policy"])
    assert policy["frame-ancestors"].strip() == "'none'"
    assert policy["script-src"].strip() == "'self'" and "unsafe-inline" not in policy["style-src"]
    assert policy["object-src"].strip() == "'none'"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert response.headers["x-frame-options"] == "DENY"
    assert "strict-transport-security" not in response.headers  # the test base URL is http://


def test_the_api_documentation_may_use_inline_styles_but_no_inline_script(client: TestClient) -> None:
    response = client.get("/api/docs/")
    policy = directives(response.headers["content-security-policy"])
    assert policy["script-src"].strip() == "'self'" and "'unsafe-inline'" in policy["style-src"]
    assert "<script>" not in response.text


def test_hsts_when_the_base_url_is_https(database_url: str) -> None:
    app = create_app(make_settings(database_url, base_url="https://portal.example"))
    with TestClient(app, base_url=BASE_URL) as https_client:
        response = https_client.get("/login")
    assert response.headers["strict-transport-security"].startswith("max-age=31536000")


INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+\s*=|javascript:", re.IGNORECASE)


def test_no_template_has_inline_script_style_or_event_handlers() -> None:
    templates = [p for p in ROOT.rglob("*.html") if ".venv" not in p.parts and "node_modules" not in p.parts]
    assert len(templates) > 20
    found = [f"{p.relative_to(ROOT)}: {m.group(0)}" for p in templates for m in INLINE.finditer(p.read_text())]
    assert found == []
