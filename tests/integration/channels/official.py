"""What the official account's tests share: its registration, and WeChat's browser opening the portal from the
official account's menu (through the fake WeChat's authorisation page and back)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx
from litestar.testing import TestClient

from tests.wechat import OFFICIAL_APP_ID, OFFICIAL_APP_SECRET, FakeWeChat, base_url
from tests.world import TenantWorld

OFFICIAL_PATH = "/api/channels/wechat/official-account"


def register_official_account(
    client: TestClient, tenant: TenantWorld, app_id: str = OFFICIAL_APP_ID, secret: str = OFFICIAL_APP_SECRET
) -> None:
    saved = client.put(OFFICIAL_PATH, headers=tenant.admin.bearer, json={"app_id": app_id, "secret": secret})
    assert saved.status_code == 200, saved.text


def to_wechat(answer: httpx.Response) -> dict[str, str]:
    """The query of a redirect to WeChat's authorisation page."""
    assert answer.status_code in (302, 303), answer.text
    location = answer.headers["location"]
    assert location.startswith(base_url() + "/connect/oauth2/authorize?"), location
    assert location.endswith("#wechat_redirect")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def through_wechat(client: TestClient, answer: httpx.Response) -> httpx.Response:
    """Follow the portal's redirects to WeChat's authorisation page and back, as WeChat's browser does; the
    portal's last answer."""
    while answer.status_code in (302, 303) and answer.headers["location"].startswith(base_url()):
        wechat = httpx.get(answer.headers["location"], follow_redirects=False)
        assert wechat.status_code in (302, 303, 307), wechat.text
        answer = client.get(wechat.headers["location"], follow_redirects=False)
    return answer


def open_in_wechat(
    client: TestClient, slug: str, fake: FakeWeChat, openid: str, unionid: str | None = None, **params: str
) -> httpx.Response:
    """The person `openid` opens the official account's menu address in WeChat's browser."""
    fake.in_browser(openid, unionid)
    return through_wechat(client, client.get(f"/p/{slug}/wechat", params=params, follow_redirects=False))


def signed_in_page(client: TestClient, slug: str) -> bool:
    """Whether this browser sees the partner home (a browser signed in nowhere is sent to sign in)."""
    return client.get(f"/p/{slug}/", follow_redirects=False).status_code == 200


def link_with_password(client: TestClient, slug: str, login: str, password: str) -> httpx.Response:
    """The link page's form, sent (its CSRF token read from the page)."""
    page = client.get(f"/p/{slug}/wechat/link", follow_redirects=False)
    assert page.status_code == 200, page.text
    match = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert match
    data = {"_csrf_token": match.group(1), "login": login, "password": password}
    return client.post(f"/p/{slug}/wechat/link", data=data, follow_redirects=False)
