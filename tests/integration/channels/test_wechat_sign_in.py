"""A partner signs in from the manufacturer's WeChat mini-program: the first time with the phone number they
were invited with or once with their password, then with WeChat alone; the tokens are the partner API's own.
People nobody invited, disabled people and suspended enterprises are refused, and one manufacturer's
mini-program knows nothing of another's partners."""

from __future__ import annotations

import asyncio
import uuid

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import func, select

from channels.wechat.models import WeChatBinding
from channels.wechat.service import WeChat
from channels.wechat.signin import MiniSignIn, sign_in
from portal.config import Settings
from portal.db.context import PUBLIC, tenant_context
from portal.db.engine import Database
from portal.identity.throttle import SignInClient
from tests.db import run_with_database
from tests.integration.channels.miniapp import bearer, invite_with_mobile, mini_sign_in, new_mobile, openid
from tests.wechat import WORLD_APP_ID, FakeWeChat
from tests.world import PASSWORD, World


def test_the_phone_number_links_wechat_once_then_wechat_alone_signs_in(
    client: TestClient, world: World, fake_wechat: FakeWeChat
) -> None:
    partner = invite_with_mobile(client, world.a)
    me = openid()
    first = mini_sign_in(client, world.a.slug, fake_wechat, me)
    assert first.status_code == 401 and first.json()["code"] == "wechat_not_linked", first.text
    linked = mini_sign_in(client, world.a.slug, fake_wechat, me, phone=partner.mobile)
    assert linked.json()["linked_by"] == "phone"
    token = bearer(linked)
    profile = client.get("/api/partner/me", headers=token.bearer)
    assert profile.status_code == 200 and profile.json()["membership_id"] == partner.membership_id
    assert profile.json()["enterprise_id"] == partner.link_id
    # from now on WeChat alone, without a phone number code
    again = mini_sign_in(client, world.a.slug, fake_wechat, me)
    assert again.json()["linked_by"] is None
    again_token = bearer(again)
    assert client.get("/api/partner/me", headers=again_token.bearer).json()["membership_id"] == partner.membership_id
    # a mini-program's refresh token rotates like a password-issued one
    refreshed = client.post("/api/auth/refresh", json={"refresh_token": again_token.refresh_token})
    assert refreshed.status_code == 200, refreshed.text
    assert client.get("/api/partner/me", headers=bearer(refreshed).bearer).status_code == 200
    assert fake_wechat.calls["jscode2session"] == 3 and fake_wechat.calls["getuserphonenumber"] == 1
    program = client.get("/api/channels/wechat/mini-program", headers=world.a.admin.bearer).json()
    assert program["linked_accounts"] == 1
    # the audit log names the person and the channel of the binding
    entries = client.get("/api/audit", headers=world.a.admin.bearer, params={"limit": 200}).json()
    binding = next(e for e in entries if e["object_type"] == "wechat_bindings")
    assert binding["channel"] == "miniapp" and binding["actor_id"] == partner.membership_id
    assert binding["after"]["openid"] == me and binding["after"]["bound_by"] == "phone"


def test_a_number_typed_without_the_country_code_matches_too(
    client: TestClient, world: World, fake_wechat: FakeWeChat
) -> None:
    partner = invite_with_mobile(client, world.a, typed_as="{}")
    linked = mini_sign_in(client, world.a.slug, fake_wechat, openid(), phone=partner.mobile)
    assert client.get("/api/partner/me", headers=bearer(linked).bearer).json()["membership_id"] == partner.membership_id


def test_another_countrys_number_with_the_same_digits_is_not_the_partner(
    client: TestClient, world: World, fake_wechat: FakeWeChat
) -> None:
    """A Chinese mobile typed without +86, 1xxxxxxxxxx, reads like the US number +1 xxxxxxxxxx: the US
    number's owner is not that partner."""
    partner = invite_with_mobile(client, world.a, typed_as="{}")
    us = mini_sign_in(client, world.a.slug, fake_wechat, openid(), phone=partner.mobile[1:], country="1")
    assert us.status_code == 403 and us.json()["code"] == "not_invited", us.text


def test_a_number_two_partners_share_links_neither(client: TestClient, world: World, fake_wechat: FakeWeChat) -> None:
    """The same mobile typed once with +86 and once without belongs to two logins: WeChat does not guess."""
    first = invite_with_mobile(client, world.a)
    invite_with_mobile(client, world.a, typed_as="{}", mobile=first.mobile)
    shared = mini_sign_in(client, world.a.slug, fake_wechat, openid(), phone=first.mobile)
    assert shared.status_code == 409 and shared.json()["code"] == "ambiguous_phone", shared.text


def test_the_partner_password_links_wechat_once(client: TestClient, world: World, fake_wechat: FakeWeChat) -> None:
    me = openid()
    wrong = mini_sign_in(client, world.a.slug, fake_wechat, me, login=world.x.admin.email, password="not it")
    assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_credentials", wrong.text
    linked = mini_sign_in(client, world.a.slug, fake_wechat, me, login=world.x.admin.email, password=PASSWORD)
    assert linked.json()["linked_by"] == "password"
    assert client.get("/api/partner/me", headers=bearer(linked).bearer).json()["membership_id"] == world.x.admin.user_id
    again = mini_sign_in(client, world.a.slug, fake_wechat, me)
    assert client.get("/api/partner/me", headers=bearer(again).bearer).json()["membership_id"] == world.x.admin.user_id
    # the same partner API, with the same data scope: X's admin sees X's orders, none of Y's
    orders = client.get("/api/partner/ordering/orders", headers=bearer(again).bearer)
    password_orders = client.get("/api/partner/ordering/orders", headers=world.x.admin.bearer)
    assert orders.status_code == 200 and orders.json() == password_orders.json()


def test_a_unionid_bound_through_another_app_signs_in(
    client: TestClient, world: World, fake_wechat: FakeWeChat
) -> None:
    partner = invite_with_mobile(client, world.a)
    union = "u" + openid()
    linked = mini_sign_in(client, world.a.slug, fake_wechat, openid(), unionid=union, phone=partner.mobile)
    assert linked.status_code == 200, linked.text
    # the same person under another openid (the manufacturer's other WeChat app), the same unionid
    other = mini_sign_in(client, world.a.slug, fake_wechat, openid(), unionid=union)
    assert other.json()["linked_by"] == "unionid"
    assert client.get("/api/partner/me", headers=bearer(other).bearer).json()["membership_id"] == partner.membership_id


def test_a_number_nobody_invited_is_told_to_ask_for_an_invitation(
    client: TestClient, world: World, fake_wechat: FakeWeChat
) -> None:
    refused = mini_sign_in(client, world.a.slug, fake_wechat, openid(), phone=new_mobile())
    assert refused.status_code == 403, refused.text
    problem = refused.json()
    assert problem["code"] == "not_invited" and "invitation" in problem["detail"]
    # a partner of tenant A is nobody at tenant B's mini-program
    partner = invite_with_mobile(client, world.a)
    b_app, b_secret = "wx" + "b" * 16, "c" * 32
    fake_wechat.register(b_app, b_secret)
    saved = client.put(
        "/api/channels/wechat/mini-program", headers=world.b.admin.bearer, json={"app_id": b_app, "secret": b_secret}
    )
    assert saved.status_code == 200, saved.text
    at_b = mini_sign_in(client, world.b.slug, fake_wechat, openid(), app_id=b_app, phone=partner.mobile)
    assert at_b.status_code == 403 and at_b.json()["code"] == "not_invited", at_b.text
    # and a WeChat account bound at tenant A is not bound at tenant B
    me = openid()
    assert mini_sign_in(client, world.a.slug, fake_wechat, me, phone=partner.mobile).status_code == 200
    at_b = mini_sign_in(client, world.b.slug, fake_wechat, me, app_id=b_app)
    assert at_b.status_code == 401 and at_b.json()["code"] == "wechat_not_linked"


def test_disabled_people_and_suspended_enterprises_are_refused(
    client: TestClient, world: World, fake_wechat: FakeWeChat
) -> None:
    partner = invite_with_mobile(client, world.a)
    me = openid()
    token = bearer(mini_sign_in(client, world.a.slug, fake_wechat, me, phone=partner.mobile))
    disabled = client.patch(
        f"/api/interconnect/users/{partner.membership_id}", headers=world.a.admin.bearer, json={"status": "disabled"}
    )
    assert disabled.status_code == 200, disabled.text
    assert client.get("/api/partner/me", headers=token.bearer).status_code == 401
    refused = mini_sign_in(client, world.a.slug, fake_wechat, me)
    assert refused.status_code == 403 and refused.json()["code"] == "no_access", refused.text

    other = invite_with_mobile(client, world.a)
    theirs = openid()
    token = bearer(mini_sign_in(client, world.a.slug, fake_wechat, theirs, phone=other.mobile))
    suspended = client.post(
        f"/api/interconnect/enterprises/{other.link_id}/status",
        headers=world.a.admin.bearer,
        json={"status": "suspended"},
    )
    assert suspended.status_code == 200, suspended.text
    assert client.get("/api/partner/me", headers=token.bearer).status_code == 401
    refused = mini_sign_in(client, world.a.slug, fake_wechat, theirs)
    assert refused.status_code == 403 and refused.json()["code"] == "no_access", refused.text
    # nor can the phone number bind a new WeChat account for them
    refused = mini_sign_in(client, world.a.slug, fake_wechat, openid(), phone=other.mobile)
    assert refused.status_code == 403 and refused.json()["code"] == "no_access", refused.text
    # nor their password
    refused = mini_sign_in(client, world.a.slug, fake_wechat, openid(), login=other.email, password=PASSWORD)
    assert refused.status_code == 401, refused.text


def test_a_workspace_without_an_active_mini_program_signs_nobody_in(
    client: TestClient, world: World, fake_wechat: FakeWeChat
) -> None:
    for slug in (world.b.slug, "no-such-workspace"):
        answer = client.post(f"/api/wechat/{slug}/mini/sign-in", json={"code": "whatever"})
        assert answer.status_code == 404, answer.text
    assert client.post(f"/api/wechat/{world.a.slug}/mini/sign-in", json={"code": ""}).status_code == 422
    partner = invite_with_mobile(client, world.a)
    me = openid()
    assert mini_sign_in(client, world.a.slug, fake_wechat, me, phone=partner.mobile).status_code == 200
    program = client.get("/api/channels/wechat/mini-program", headers=world.a.admin.bearer).json()
    off = client.put(
        "/api/channels/wechat/mini-program",
        headers=world.a.admin.bearer,
        json={"app_id": program["app_id"], "status": "disabled"},
    )
    assert off.status_code == 200, off.text
    refused = mini_sign_in(client, world.a.slug, fake_wechat, me)
    assert refused.status_code == 404 and refused.json()["code"] == "no_mini_program"
    assert fake_wechat.calls["jscode2session"] == 1  # WeChat is not asked for a disabled mini-program


def test_two_first_sign_ins_of_one_account_at_once_link_it_once(
    client: TestClient, app: Litestar, world: World, settings: Settings, fake_wechat: FakeWeChat
) -> None:
    """Two units of work (two requests, or two processes) sign the same new WeChat account in at once, linked
    through its unionid: both get a session, one link is made, and neither fails on the other's insert."""
    partner = invite_with_mobile(client, world.a)
    union = "u" + openid()
    assert (
        mini_sign_in(client, world.a.slug, fake_wechat, openid(), unionid=union, phone=partner.mobile).status_code
        == 200
    )
    newcomer = openid()
    services = app.state.services

    async def work(db: Database) -> tuple[list[str | None], int]:
        wx = WeChat(services)  # its own client of WeChat, as another process has

        async def one() -> str | None:
            async with db.session(PUBLIC) as session:
                code = fake_wechat.login_code(WORLD_APP_ID, newcomer, union)
                signed = await sign_in(
                    session, wx, services.extensions["interconnect"], world.a.slug, MiniSignIn(code), SignInClient()
                )
                return signed.bound_by

        linked = await asyncio.gather(one(), one())
        async with db.session(tenant_context(uuid.UUID(world.a.tenant_id)), write=False) as session:
            links = await session.scalar(
                select(func.count()).select_from(WeChatBinding).where(WeChatBinding.openid == newcomer)
            )
        return list(linked), int(links or 0)

    linked, links = run_with_database(settings, work)
    # side by side both link it through the unionid; one that begins after the other committed finds the
    # link made (bound_by None, as any later sign-in)
    assert "unionid" in linked and set(linked) <= {"unionid", None} and links == 1


def test_a_new_password_or_the_persons_own_unlink_ends_the_wechat_link(
    client: TestClient, world: World, fake_wechat: FakeWeChat
) -> None:
    from interconnect.models import ExternalIdentity

    partner = invite_with_mobile(client, world.a)
    me = openid()
    linked = mini_sign_in(client, world.a.slug, fake_wechat, me, phone=partner.mobile)
    token = bearer(linked)
    assert mini_sign_in(client, world.a.slug, fake_wechat, me).status_code == 200

    # the person unlinks it themselves: WeChat alone no longer signs them in
    unlinked = client.delete("/api/partner/wechat", headers=token.bearer)
    assert unlinked.status_code == 200 and unlinked.json() == {"unlinked": 1}, unlinked.text
    alone = mini_sign_in(client, world.a.slug, fake_wechat, me)
    assert alone.status_code == 401 and alone.json()["code"] == "wechat_not_linked"

    # linked again, then the password changes (a reset after a stolen password): the link ends with it
    assert mini_sign_in(client, world.a.slug, fake_wechat, me, phone=partner.mobile).status_code == 200

    async def new_password(db: Database) -> None:
        async with db.session(PUBLIC) as session:
            typed = (partner.mobile, f"+86{partner.mobile}")
            identity = await session.scalar(select(ExternalIdentity).where(ExternalIdentity.mobile.in_(typed)))
            assert identity is not None
            identity.password_hash = "changed-" + (identity.password_hash or "")

    run_with_database(client.app.state.services.settings, new_password)
    after = mini_sign_in(client, world.a.slug, fake_wechat, me)
    assert after.status_code == 401 and after.json()["code"] == "wechat_not_linked", after.text
    # a staff token is not a partner's: nothing to unlink
    assert client.delete("/api/partner/wechat", headers=world.a.admin.bearer).status_code == 403
