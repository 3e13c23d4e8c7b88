"""A partner sees where they are signed in, on every channel (the web, the password API, an application through
OAuth, the WeChat mini-program and official account), and signs out of each one; disabling them or suspending
their enterprise ends every channel at once; the audit log names the channel of each change. Nobody else's
sessions are ever listed or ended, and reading a session stays free of writes but once a minute."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from litestar.testing import TestClient
from sqlalchemy import select, update

from portal.config import Settings
from portal.db.context import SYSTEM
from portal.db.engine import Database
from portal.db.types import utcnow
from portal.identity.models import AuthSession
from tests.db import run_with_database
from tests.integration.channels.miniapp import Partner, bearer, invite_with_mobile, mini_sign_in, openid
from tests.integration.channels.oauth import application, register, sign_in_with
from tests.integration.channels.official import link_with_password, open_in_wechat, register_official_account
from tests.wechat import FakeWeChat
from tests.world import PASSWORD, Credential, World, complete_setup, partner_login, partner_web_login, web_login

SESSIONS = "/api/partner/sessions"


@dataclass
class Everywhere:
    """One partner signed in on every channel: the credential each one holds."""

    partner: Partner
    web: str  # cookie
    official: str  # cookie
    api: Credential
    miniapp: Credential
    mobile: Credential


def cookie_sees_portal(client: TestClient, slug: str, cookie: str) -> bool:
    client.cookies.clear()
    client.cookies.set("portal_session", cookie)
    seen = client.get(f"/p/{slug}/", follow_redirects=False).status_code == 200
    client.cookies.clear()
    return seen


def sign_in_everywhere(client: TestClient, world: World, fake: FakeWeChat) -> Everywhere:
    register_official_account(client, world.a)
    partner = invite_with_mobile(client, world.a)
    web = partner_web_login(client, world.a.slug, partner.email)
    client.cookies.clear()
    open_in_wechat(client, world.a.slug, fake, openid())
    linked = link_with_password(client, world.a.slug, partner.email, PASSWORD)
    assert linked.status_code in (302, 303), linked.text
    official = client.cookies.get("portal_session")
    assert official
    client.cookies.clear()
    access, refresh = partner_login(client, world.a.slug, partner.email)
    miniapp = bearer(mini_sign_in(client, world.a.slug, fake, openid(), phone=partner.mobile))
    client_id, _secret = register(client, world.a.admin)
    token = sign_in_with(client, application(client, client_id), world.a.slug, web)
    client.cookies.clear()
    return Everywhere(
        partner,
        web,
        official,
        Credential("", "", access, refresh),
        miniapp,
        Credential("", "", token["access_token"], token["refresh_token"]),
    )


def test_a_partner_sees_every_channel_and_signs_out_of_each(
    client: TestClient, world: World, fake_wechat: FakeWeChat
) -> None:
    me = sign_in_everywhere(client, world, fake_wechat)
    listed = client.get(SESSIONS, headers=me.api.bearer)
    assert listed.status_code == 200, listed.text
    sessions = listed.json()["sessions"]
    assert sorted(s["channel"] for s in sessions) == ["api", "miniapp", "mobile", "official", "web"]
    assert [s["channel"] for s in sessions if s["current"]] == ["api"]
    assert all(s["created_at"] and s["last_used_at"] and s["user_agent"] for s in sessions)
    labels = {s["channel"]: s["channel_label"] for s in sessions}
    assert labels["official"] == "WeChat official account" and labels["miniapp"] == "WeChat mini-program"
    by_channel = {s["channel"]: s["id"] for s in sessions}
    # an application's token cannot list or end the person's sessions
    assert client.get(SESSIONS, headers=me.mobile.bearer).status_code == 403
    assert client.delete(f"{SESSIONS}/{by_channel['web']}", headers=me.mobile.bearer).status_code == 403
    # nobody else sees or ends them: a colleague-less other partner, tenant B's admin, another tenant's partner
    other = invite_with_mobile(client, world.a)
    other_token = Credential("", "", *partner_login(client, world.a.slug, other.email))
    theirs = client.get(SESSIONS, headers=other_token.bearer).json()["sessions"]
    assert [s["id"] for s in theirs] == [s["id"] for s in theirs if s["id"] not in by_channel.values()]
    assert len(theirs) == 1
    for outsider in (other_token, world.b.admin, world.a.admin):
        ended = client.delete(f"{SESSIONS}/{by_channel['web']}", headers=outsider.bearer)
        assert ended.status_code in (403, 404), ended.text
    assert client.delete(f"/api/sessions/{by_channel['web']}", headers=world.a.admin.bearer).status_code == 404
    assert client.delete(f"{SESSIONS}/{uuid.uuid4()}", headers=me.api.bearer).status_code == 404
    assert cookie_sees_portal(client, world.a.slug, me.web)

    # the person signs out of the mini-program over the API, and of the web from the official account's page
    assert client.delete(f"{SESSIONS}/{by_channel['miniapp']}", headers=me.api.bearer).status_code == 204
    assert client.get("/api/partner/me", headers=me.miniapp.bearer).status_code == 401
    assert client.post("/api/auth/refresh", json={"refresh_token": me.miniapp.refresh_token}).status_code == 401
    client.cookies.set("portal_session", me.official)
    page = client.get(f"/p/{world.a.slug}/sessions")
    assert page.status_code == 200 and "WeChat official account" in page.text and "This browser" in page.text
    token = page.text.split('name="_csrf_token" value="', 1)[1].split('"', 1)[0]
    done = client.post(
        f"/p/{world.a.slug}/sessions/{by_channel['web']}/sign-out", data={"_csrf_token": token}, follow_redirects=False
    )
    assert done.status_code in (302, 303) and done.headers["location"].endswith("/sessions?done=signed-out")
    assert not cookie_sees_portal(client, world.a.slug, me.web)
    assert cookie_sees_portal(client, world.a.slug, me.official)
    left = client.get(SESSIONS, headers=me.api.bearer).json()["sessions"]
    assert sorted(s["channel"] for s in left) == ["api", "mobile", "official"]
    # the audit log names the channel each sign-out was made through, and the channel it ended
    entries = client.get("/api/audit", headers=world.a.admin.bearer, params={"limit": 200}).json()
    signed_out = sorted((e["channel"], e["after"]["channel"]) for e in entries if e["action"] == "sign_out")
    assert signed_out == [("api", "miniapp"), ("official", "web")]
    assert all(e["actor_id"] == me.partner.membership_id for e in entries if e["action"] == "sign_out")
    # tenant B's audit log has none of it
    b_entries = client.get("/api/audit", headers=world.b.admin.bearer, params={"limit": 200}).json()
    assert not [e for e in b_entries if e["action"] == "sign_out"]


def test_disabling_the_person_ends_every_channel_at_once(
    client: TestClient, world: World, fake_wechat: FakeWeChat
) -> None:
    me = sign_in_everywhere(client, world, fake_wechat)
    disabled = client.patch(
        f"/api/interconnect/users/{me.partner.membership_id}", headers=world.a.admin.bearer, json={"status": "disabled"}
    )
    assert disabled.status_code == 200, disabled.text
    assert_every_channel_ended(client, world, me)


def test_suspending_the_enterprise_ends_every_channel_at_once(
    client: TestClient, world: World, fake_wechat: FakeWeChat
) -> None:
    me = sign_in_everywhere(client, world, fake_wechat)
    suspended = client.post(
        f"/api/interconnect/enterprises/{me.partner.link_id}/status",
        headers=world.a.admin.bearer,
        json={"status": "suspended"},
    )
    assert suspended.status_code == 200, suspended.text
    assert_every_channel_ended(client, world, me)


def assert_every_channel_ended(client: TestClient, world: World, me: Everywhere) -> None:
    for token in (me.api, me.miniapp, me.mobile):
        assert client.get("/api/partner/me", headers=token.bearer).status_code == 401
    assert client.post("/api/auth/refresh", json={"refresh_token": me.miniapp.refresh_token}).status_code == 401
    assert client.post("/api/auth/refresh", json={"refresh_token": me.api.refresh_token}).status_code == 401
    for cookie in (me.web, me.official):
        assert not cookie_sees_portal(client, world.a.slug, cookie)
    # tenant B's people are untouched
    assert client.get("/api/interconnect/enterprises", headers=world.b.admin.bearer).status_code == 200


def test_last_use_is_recorded_at_most_once_a_minute(client: TestClient, world: World, settings: Settings) -> None:
    partner = invite_with_mobile(client, world.a)
    access, _refresh = partner_login(client, world.a.slug, partner.email)
    token = Credential("", "", access, "")
    mine = client.get(SESSIONS, headers=token.bearer).json()["sessions"][0]
    session_id = uuid.UUID(mine["id"])

    def last_used(set_back: timedelta | None = None) -> object:
        async def work(db: Database) -> object:
            async with db.session(SYSTEM) as session:
                if set_back is not None:
                    await session.execute(
                        update(AuthSession).where(AuthSession.id == session_id).values(last_used_at=utcnow() - set_back)
                    )
                return await session.scalar(select(AuthSession.last_used_at).where(AuthSession.id == session_id))

        return run_with_database(settings, work)

    first = last_used()
    for _ in range(3):
        assert client.get("/api/partner/me", headers=token.bearer).status_code == 200
    assert last_used() == first  # used within the minute: nothing written
    stale = last_used(timedelta(minutes=5))
    assert client.get("/api/partner/me", headers=token.bearer).status_code == 200
    recorded = last_used()
    assert recorded != stale and recorded > stale  # type: ignore[operator]
    assert client.get("/api/partner/me", headers=token.bearer).status_code == 200
    assert last_used() == recorded


def csrf_of(page_text: str) -> str:
    return page_text.split('name="_csrf_token" value="', 1)[1].split('"', 1)[0]


def api_login_of(client: TestClient, slug: str, email: str) -> Credential:
    answer = client.post("/api/auth/token", json={"workspace": slug, "email": email, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return Credential("", email, answer.json()["access_token"], answer.json()["refresh_token"])


def test_a_staff_member_sees_where_they_are_signed_in_and_signs_out_of_each(client: TestClient, world: World) -> None:
    staff = world.a.others["staff"]
    browser = web_login(client, world.a.slug, staff.email)
    other_browser = web_login(client, world.a.slug, staff.email)
    token = api_login_of(client, world.a.slug, staff.email)
    client.cookies.set("portal_session", browser)
    page = client.get("/console/sessions")
    assert page.status_code == 200 and "Where you are signed in" in page.text and "This browser" in page.text
    listed = client.get("/api/sessions", headers=token.bearer).json()["sessions"]
    mine = {s["id"] for s in listed}
    assert {"web", "api"} <= {s["channel"] for s in listed}
    for session_id in mine:
        assert session_id in page.text
    # nobody else's: the admin's page lists none of them, tenant B's admin cannot end one
    client.cookies.set("portal_session", world.a.admin.cookie)
    admin_page = client.get("/console/sessions")
    assert admin_page.status_code == 200 and not [i for i in mine if i in admin_page.text]
    client.cookies.set("portal_session", browser)
    other_id = next(s["id"] for s in listed if s["channel"] == "web" and not s["current"] and s["id"] in page.text)
    done = client.post(
        f"/console/sessions/{other_id}/sign-out", data={"_csrf_token": csrf_of(page.text)}, follow_redirects=False
    )
    assert done.status_code in (302, 303) and done.headers["location"] == "/console/sessions?done=signed-out"
    client.cookies.clear()
    client.cookies.set("portal_session", other_browser)
    assert client.get("/console", follow_redirects=False).status_code in (302, 303)  # that browser is out
    # a session that is not theirs is not found
    client.cookies.set("portal_session", browser)
    page = client.get("/console/sessions")
    refused = client.post(
        f"/console/sessions/{uuid.uuid4()}/sign-out", data={"_csrf_token": csrf_of(page.text)}, follow_redirects=False
    )
    assert refused.status_code == 404
    # a partner's session cannot reach the console's page
    partner_cookie = partner_web_login(client, world.a.slug, world.x.admin.email)
    client.cookies.clear()
    client.cookies.set("portal_session", partner_cookie)
    assert client.get("/console/sessions", follow_redirects=False).status_code in (302, 303, 403)


def test_an_admin_signs_a_staff_member_or_a_partner_out_everywhere(
    client: TestClient, world: World, fake_wechat: FakeWeChat
) -> None:
    staff = world.a.others["staff"]
    browser = web_login(client, world.a.slug, staff.email)
    token = api_login_of(client, world.a.slug, staff.email)
    # tenant B's admin, and a staff member without the permission, find nothing to end
    assert client.delete(f"/api/users/{staff.user_id}/sessions", headers=world.b.admin.bearer).status_code == 404
    assert client.delete(f"/api/users/{staff.user_id}/sessions", headers=token.bearer).status_code == 403
    ended = client.delete(f"/api/users/{staff.user_id}/sessions", headers=world.a.admin.bearer)
    assert ended.status_code == 200 and ended.json()["ended"] >= 2, ended.text
    assert client.get("/api/me", headers=token.bearer).status_code == 401
    client.cookies.set("portal_session", browser)
    assert client.get("/console", follow_redirects=False).status_code in (302, 303)
    # they sign in again
    again = api_login_of(client, world.a.slug, staff.email)
    assert client.get("/api/me", headers=again.bearer).status_code == 200
    # from the staff page: the button, then every session ends
    client.cookies.clear()
    client.cookies.set("portal_session", world.a.admin.cookie)
    users = client.get("/console/users")
    assert f"/console/users/{staff.user_id}/sign-out" in users.text and "Sign out everywhere" in users.text
    done = client.post(
        f"/console/users/{staff.user_id}/sign-out", data={"_csrf_token": csrf_of(users.text)}, follow_redirects=False
    )
    assert done.status_code in (302, 303), done.text
    assert client.get("/api/me", headers=again.bearer).status_code == 401

    # a partner, on every channel, from their enterprise's page
    me = sign_in_everywhere(client, world, fake_wechat)
    path = f"/api/interconnect/users/{me.partner.membership_id}/sessions"
    assert client.delete(path, headers=world.b.admin.bearer).status_code == 404
    assert client.delete(path, headers=me.api.bearer).status_code in (403, 404)
    client.cookies.clear()
    client.cookies.set("portal_session", world.a.admin.cookie)
    enterprise = client.get(f"/console/partners/enterprises/{me.partner.link_id}")
    action = f"/console/partners/users/{me.partner.membership_id}/sign-out"
    assert enterprise.status_code == 200 and action in enterprise.text
    done = client.post(action, data={"_csrf_token": csrf_of(enterprise.text)}, follow_redirects=False)
    assert done.status_code in (302, 303), done.text
    assert_every_channel_ended(client, world, me)
    # they may sign in again; the audit log names the administrator's action on the person
    assert partner_login(client, world.a.slug, me.partner.email)
    assert client.delete(path, headers=world.a.admin.bearer).json()["ended"] == 1
    entries = client.get("/api/audit", headers=world.a.admin.bearer, params={"limit": 200}).json()
    actions = [e for e in entries if e["action"] == "sign_out_all"]
    assert {e["object_type"] for e in actions} == {"internal_users", "memberships"}
    assert all(e["actor_id"] == world.a.admin.user_id for e in actions)


def test_a_partner_admin_signs_a_colleague_out_everywhere_and_no_one_else(client: TestClient, world: World) -> None:
    """Whoever manages the enterprise's colleagues ends every session of one of them, from the colleagues page
    or the API; a person of another enterprise or another workspace is not found, a plain colleague may not."""
    email = f"colleague-{uuid.uuid4().hex[:8]}@x.example"
    invited = client.post(
        "/api/partner/colleagues", headers=world.x.admin.bearer, json={"display_name": "Colleague", "email": email}
    )
    assert invited.status_code == 201, invited.text
    complete_setup(client, invited.json()["setup_url"])
    colleague_id = invited.json()["colleague"]["id"]
    access, _refresh = partner_login(client, world.a.slug, email)
    colleague = Credential(colleague_id, email, access, "")
    browser = partner_web_login(client, world.a.slug, email)
    path = f"/api/partner/colleagues/{colleague_id}/sessions"

    # enterprise Y's admin (same workspace), another workspace's partner admin, staff, the colleague themselves
    assert client.delete(path, headers=world.y.admin.bearer).status_code == 404
    elsewhere = invite_with_mobile(client, world.b)
    b_access, _ = partner_login(client, world.b.slug, elsewhere.email)
    assert client.delete(path, headers={"Authorization": f"Bearer {b_access}"}).status_code == 404
    assert client.delete(path, headers=world.a.admin.bearer).status_code == 403
    assert (
        client.delete(
            f"/api/partner/colleagues/{world.y.admin.user_id}/sessions", headers=world.x.admin.bearer
        ).status_code
        == 404
    )
    assert client.delete(path, headers=colleague.bearer).status_code == 403
    assert client.get("/api/partner/me", headers=colleague.bearer).status_code == 200

    ended = client.delete(path, headers=world.x.admin.bearer)
    assert ended.status_code == 200 and ended.json()["ended"] >= 2, ended.text
    assert client.get("/api/partner/me", headers=colleague.bearer).status_code == 401
    assert not cookie_sees_portal(client, world.a.slug, browser)
    assert client.get("/api/partner/me", headers=world.y.admin.bearer).status_code == 200  # others untouched

    # from the colleagues page: the button beside the person, then their new sign-in ends too
    again, _ = partner_login(client, world.a.slug, email)
    admin_cookie = partner_web_login(client, world.a.slug, world.x.admin.email)
    client.cookies.set("portal_session", admin_cookie)
    page = client.get(f"/p/{world.a.slug}/colleagues")
    action = f"/p/{world.a.slug}/colleagues/{colleague_id}/sign-out"
    assert page.status_code == 200 and action in page.text and "Sign out everywhere" in page.text
    done = client.post(action, data={"_csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert done.status_code in (302, 303) and done.headers["location"].endswith(f"?ended=1#person-{colleague_id}")
    assert "1 session ended" in client.get(done.headers["location"]).text  # the admin sees what it did
    assert "session ended" not in client.get(f"/p/{world.a.slug}/colleagues?ended=9999999").text
    assert client.get("/api/partner/me", headers={"Authorization": f"Bearer {again}"}).status_code == 401
    foreign = client.post(
        f"/p/{world.a.slug}/colleagues/{world.y.admin.user_id}/sign-out",
        data={"_csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert foreign.status_code == 404
    client.cookies.clear()
    # audited as the partner admin's action on the person
    entries = client.get("/api/audit", headers=world.a.admin.bearer, params={"object_id": colleague_id}).json()
    actions = [e for e in entries if e["action"] == "sign_out_all"]
    assert len(actions) == 2 and all(e["actor_id"] == world.x.admin.user_id for e in actions), entries
