"""What the WeChat tests share: a partner invited with a mobile number, and the mini-program's sign-in."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass

import httpx
from litestar.testing import TestClient

from tests.wechat import WORLD_APP_ID, FakeWeChat
from tests.world import Credential, TenantWorld, complete_setup, partner_type_id


def sign_in_path(slug: str) -> str:
    return f"/api/wechat/{slug}/mini/sign-in"


@dataclass(frozen=True)
class Partner:
    link_id: str
    membership_id: str
    email: str
    mobile: str  # as WeChat gives it: the number without the country code


def new_mobile() -> str:
    return "139" + "".join(random.choices("0123456789", k=8))


def invite_with_mobile(
    client: TestClient, tenant: TenantWorld, *, typed_as: str = "+86{}", mobile: str | None = None
) -> Partner:
    """A dealer whose admin the manufacturer invited with a mobile number (a new one unless given, typed as
    `typed_as` says) and who set a password through the one-time link."""
    mobile = mobile or new_mobile()
    email = f"wx-{uuid.uuid4().hex[:8]}@partner.example"
    made = client.post(
        "/api/interconnect/enterprises",
        headers=tenant.admin.bearer,
        json={
            "name": f"WeChat dealer {uuid.uuid4().hex[:6]}",
            "partner_type_id": partner_type_id(client, tenant.admin),
            "admin": {"display_name": "WeChat dealer admin", "email": email, "mobile": typed_as.format(mobile)},
        },
    )
    assert made.status_code == 201, made.text
    body = made.json()
    complete_setup(client, body["setup_url"])
    return Partner(body["enterprise"]["id"], body["admin_id"], email, mobile)


def mini_sign_in(
    client: TestClient,
    slug: str,
    fake: FakeWeChat,
    openid: str,
    *,
    app_id: str = WORLD_APP_ID,
    unionid: str | None = None,
    phone: str | None = None,
    country: str = "86",
    **body: str,
) -> httpx.Response:
    """What the mini-program sends: a fresh wx.login code, and the phone number code when `phone` is given
    (WeChat answers it as that number of that country)."""
    sent = {"code": fake.login_code(app_id, openid, unionid), **body}
    if phone is not None:
        sent["phone_code"] = fake.phone_code(app_id, phone, country)
    return client.post(sign_in_path(slug), json=sent)


def bearer(answer: httpx.Response) -> Credential:
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return Credential("", "", body["access_token"], body["refresh_token"])


def openid() -> str:
    return "o" + uuid.uuid4().hex[:27]
