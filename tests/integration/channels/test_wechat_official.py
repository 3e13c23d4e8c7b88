"""A partner opens the partner portal from the manufacturer's WeChat official account: WeChat's web authorisation
names their WeChat account; the first time they sign in with their password once (or their mini-program binding's
unionid is recognised), then WeChat alone signs them in to the pages. The state is bound to the browser, the
redirect URI is exact, a code works once, and one manufacturer's official account knows nothing of another's."""

from __future__ import annotations

from litestar.testing import TestClient
from sqlalchemy import select

from interconnect.models import ExternalIdentity
from portal.db.context import PUBLIC
from portal.db.engine import Database
from tests.db import run_with_database
from tests.integration.channels.miniapp import bearer, invite_with_mobile, mini_sign_in, openid
from tests.integration.channels.official import (
    OFFICIAL_PATH,
    link_with_password,
    open_in_wechat,
    register_official_account,
    signed_in_page,
    through_wechat,
    to_wechat,
)
from tests.wechat import (
    AUTHORIZE,
    OFFICIAL_APP_ID,
    OFFICIAL_APP_SECRET,
    OTHER_OFFICIAL_APP_ID,
    OTHER_OFFICIAL_APP_SECRET,
    OUTAGE,
    USERINFO,
    WEB_TOKEN,
    FakeWeChat,
)
from tests.world import PASSWORD, Credential, World, csrf_token, partner_login


def test_the_first_time_a_password_links_wechat_then_wechat_alone_signs_in(
    client: TestClient, world: World, fake_wechat: FakeWeChat
) -> None:
    register_official_account(client, world.a)
    partner = invite_with_mobile(client, world.a)
    me = openid()
    asked = open_in_wechat(client, world.a.slug, fake_wechat, me, next=f"/p/{world.a.slug}/notifications")
    # not linked: asked silently (snsapi_base), once with consent (snsapi_userinfo) for a unionid, then the password
    assert asked.status_code in (302, 303) and asked.headers["location"] == f"/p/{world.a.slug}/wechat/link"
    assert fake_wechat.calls[AUTHORIZE] == 2 and fake_wechat.calls[WEB_TOKEN] == 2 and fake_wechat.calls[USERINFO] == 1
    assert not signed_in_page(client, world.a.slug)
    form = client.get(f"/p/{world.a.slug}/wechat/link")
    assert form.status_code == 200 and 'name="password"' in form.text and partner.email not in form.text
    wrong = link_with_password(client, world.a.slug, partner.email, "not it")
    assert wrong.status_code == 401 and "not correct" in wrong.text
    assert not signed_in_page(client, world.a.slug)
    linked = link_with_password(client, world.a.slug, partner.email, PASSWORD)
    assert linked.status_code in (302, 303) and linked.headers["location"] == f"/p/{world.a.slug}/notifications"
    assert signed_in_page(client, world.a.slug)
    # the link page is spent
    assert client.get(f"/p/{world.a.slug}/wechat/link", follow_redirects=False).status_code in (302, 303)

    # another browser (WeChat on the same phone, days later): WeChat alone, silently
    client.cookies.clear()
    fake_wechat.calls.clear()
    back = open_in_wechat(client, world.a.slug, fake_wechat, me)
    assert back.status_code in (302, 303) and back.headers["location"] == f"/p/{world.a.slug}/", back.text
    assert fake_wechat.calls[AUTHORIZE] == 1 and fake_wechat.calls[USERINFO] == 0
    assert signed_in_page(client, world.a.slug)
    # the console counts the account; the audit log names the person and the channel of the binding
    shown = client.get(OFFICIAL_PATH, headers=world.a.admin.bearer).json()
    assert shown["linked_accounts"] == 1
    entries = client.get("/api/audit", headers=world.a.admin.bearer, params={"limit": 200}).json()
    binding = next(e for e in entries if e["object_type"] == "wechat_bindings")
    assert binding["channel"] == "official" and binding["actor_id"] == partner.membership_id
    assert binding["after"]["openid"] == me and binding["after"]["bound_by"] == "password"
    assert binding["after"]["app_id"] == OFFICIAL_APP_ID
    # the mini-program's count is its own
    assert client.get("/api/channels/wechat/mini-program", headers=world.a.admin.bearer).json()["linked_accounts"] == 0

    # tenant B's official account knows nothing of that WeChat account
    register_official_account(client, world.b, OTHER_OFFICIAL_APP_ID, OTHER_OFFICIAL_APP_SECRET)
    client.cookies.clear()
    at_b = open_in_wechat(client, world.b.slug, fake_wechat, me)
    assert at_b.headers["location"] == f"/p/{world.b.slug}/wechat/link"
    refused = link_with_password(client, world.b.slug, partner.email, PASSWORD)
    assert refused.status_code == 401, refused.text  # the partner has no membership at B
    assert client.get(OFFICIAL_PATH, headers=world.b.admin.bearer).json()["linked_accounts"] == 0


def test_the_mini_programs_unionid_links_the_official_account(
    client: TestClient, world: World, fake_wechat: FakeWeChat
) -> None:
    register_official_account(client, world.a)
    partner = invite_with_mobile(client, world.a)
    union = "u" + openid()
    linked = mini_sign_in(client, world.a.slug, fake_wechat, openid(), unionid=union, phone=partner.mobile)
    bearer(linked)
    in_account = openid()  # the same person has another openid in the official account
    answer = open_in_wechat(client, world.a.slug, fake_wechat, in_account, union)
    assert answer.status_code in (302, 303) and answer.headers["location"] == f"/p/{world.a.slug}/", answer.text
    assert signed_in_page(client, world.a.slug)
    entries = client.get("/api/audit", headers=world.a.admin.bearer, params={"limit": 200}).json()
    bound = [e["after"] for e in entries if e["object_type"] == "wechat_bindings" and e["action"] == "create"]
    assert {(b["app_id"], b["bound_by"]) for b in bound} == {
        (OFFICIAL_APP_ID, "unionid"),
        ("wx0a1b2c3d4e5f6a7b", "phone"),
    }
    # at tenant B the unionid binds nobody
    register_official_account(client, world.b, OTHER_OFFICIAL_APP_ID, OTHER_OFFICIAL_APP_SECRET)
    client.cookies.clear()
    at_b = open_in_wechat(client, world.b.slug, fake_wechat, openid(), union)
    assert at_b.headers["location"] == f"/p/{world.b.slug}/wechat/link"


def test_the_state_must_be_this_browsers_and_the_redirect_uri_is_exact(
    client: TestClient, world: World, fake_wechat: FakeWeChat
) -> None:
    register_official_account(client, world.a)
    register_official_account(client, world.b, OTHER_OFFICIAL_APP_ID, OTHER_OFFICIAL_APP_SECRET)
    partner = invite_with_mobile(client, world.a)
    me = openid()
    open_in_wechat(client, world.a.slug, fake_wechat, me)
    link_with_password(client, world.a.slug, partner.email, PASSWORD)
    client.cookies.clear()
    fake_wechat.calls.clear()

    started = client.get(f"/p/{world.a.slug}/wechat", params={"next": "https://evil.example/"}, follow_redirects=False)
    query = to_wechat(started)
    assert query["appid"] == OFFICIAL_APP_ID and query["scope"] == "snsapi_base" and query["response_type"] == "code"
    assert query["redirect_uri"] == f"http://testserver.local/p/{world.a.slug}/wechat/callback"
    callback = f"/p/{world.a.slug}/wechat/callback"
    code = fake_wechat.web_code(OFFICIAL_APP_ID, me)
    # a state this browser did not start, none at all, or a code brought to a browser that started nothing
    for state in ("forged", ""):
        refused = client.get(callback, params={"code": code, "state": state})
        assert refused.status_code == 400 and "did not begin in this browser" in refused.text
    client.cookies.clear()
    refused = client.get(callback, params={"code": code, "state": query["state"]})
    assert refused.status_code == 400 and not signed_in_page(client, world.a.slug)
    # the state of tenant A's sign-in is nothing at tenant B's way back (its cookie is A's portal's alone)
    started = client.get(f"/p/{world.a.slug}/wechat", follow_redirects=False)
    state = to_wechat(started)["state"]
    at_b = client.get(f"/p/{world.b.slug}/wechat/callback", params={"code": code, "state": state})
    assert at_b.status_code == 400 and not signed_in_page(client, world.b.slug)
    # WeChat never exchanged the code for any of these
    assert fake_wechat.calls[WEB_TOKEN] == 0
    # and the page asked for after signing in stays inside this portal
    fake_wechat.in_browser(me)
    done = through_wechat(client, started)
    assert done.headers["location"] == f"/p/{world.a.slug}/"


def test_a_code_works_once_and_only_for_its_own_official_account(
    client: TestClient, world: World, fake_wechat: FakeWeChat
) -> None:
    register_official_account(client, world.a)
    register_official_account(client, world.b, OTHER_OFFICIAL_APP_ID, OTHER_OFFICIAL_APP_SECRET)
    partner = invite_with_mobile(client, world.a)
    me = openid()
    open_in_wechat(client, world.a.slug, fake_wechat, me)
    link_with_password(client, world.a.slug, partner.email, PASSWORD)
    client.cookies.clear()

    fake_wechat.in_browser(me)
    wechat = to_wechat(client.get(f"/p/{world.a.slug}/wechat", follow_redirects=False))
    code = fake_wechat.web_code(OFFICIAL_APP_ID, me)
    first = client.get(f"/p/{world.a.slug}/wechat/callback", params={"code": code, "state": wechat["state"]})
    assert signed_in_page(client, world.a.slug), first.text
    # replayed: in a new sign-in of this browser, the spent code is refused by WeChat (40163)
    client.cookies.clear()
    again = to_wechat(client.get(f"/p/{world.a.slug}/wechat", follow_redirects=False))
    replayed = client.get(f"/p/{world.a.slug}/wechat/callback", params={"code": code, "state": again["state"]})
    assert replayed.status_code == 400 and "used already" in replayed.text
    assert not signed_in_page(client, world.a.slug)
    # a code WeChat gave for tenant A's official account, brought to tenant B's way back with B's own state
    at_b = to_wechat(client.get(f"/p/{world.b.slug}/wechat", follow_redirects=False))
    assert at_b["appid"] == OTHER_OFFICIAL_APP_ID
    foreign = fake_wechat.web_code(OFFICIAL_APP_ID, me)
    refused = client.get(f"/p/{world.b.slug}/wechat/callback", params={"code": foreign, "state": at_b["state"]})
    assert refused.status_code == 400 and not signed_in_page(client, world.b.slug)


def test_wechats_errors_are_told_on_the_page(client: TestClient, world: World, fake_wechat: FakeWeChat) -> None:
    register_official_account(client, world.a)
    partner = invite_with_mobile(client, world.a)
    me = openid()
    open_in_wechat(client, world.a.slug, fake_wechat, me)
    link_with_password(client, world.a.slug, partner.email, PASSWORD)
    for errcodes, status, said in (
        ((-1, -1, -1), 503, "busy"),
        ((45011,), 429, "limiting"),
        ((OUTAGE,), 503, "cannot be reached"),
        ((40125,), 502, "check its app id and secret"),
    ):
        client.cookies.clear()
        fake_wechat.fail(WEB_TOKEN, *errcodes)
        answer = open_in_wechat(client, world.a.slug, fake_wechat, me)
        assert answer.status_code == status and said in answer.text, (errcodes, answer.text)
        assert not signed_in_page(client, world.a.slug)
    # busy once, then fine: retried
    client.cookies.clear()
    fake_wechat.fail(WEB_TOKEN, -1)
    assert open_in_wechat(client, world.a.slug, fake_wechat, me).status_code in (302, 303)
    assert signed_in_page(client, world.a.slug)


def test_disabled_people_suspended_enterprises_and_a_disabled_account_sign_nobody_in(
    client: TestClient, world: World, fake_wechat: FakeWeChat
) -> None:
    register_official_account(client, world.a)
    partner = invite_with_mobile(client, world.a)
    me = openid()
    open_in_wechat(client, world.a.slug, fake_wechat, me)
    link_with_password(client, world.a.slug, partner.email, PASSWORD)
    assert signed_in_page(client, world.a.slug)
    suspended = client.post(
        f"/api/interconnect/enterprises/{partner.link_id}/status",
        headers=world.a.admin.bearer,
        json={"status": "suspended"},
    )
    assert suspended.status_code == 200, suspended.text
    assert not signed_in_page(client, world.a.slug)  # the official account's session ended at once
    refused = open_in_wechat(client, world.a.slug, fake_wechat, me)
    assert refused.status_code == 403 and "not active" in refused.text
    assert not signed_in_page(client, world.a.slug)

    off = client.put(
        OFFICIAL_PATH, headers=world.a.admin.bearer, json={"app_id": OFFICIAL_APP_ID, "status": "disabled"}
    )
    assert off.status_code == 200 and off.json()["status"] == "disabled"
    fake_wechat.calls.clear()
    refused = client.get(f"/p/{world.a.slug}/wechat", follow_redirects=False)
    assert refused.status_code == 404 and fake_wechat.calls[AUTHORIZE] == 0
    assert client.get(f"/p/{world.b.slug}/wechat", follow_redirects=False).status_code == 404


def test_the_registration_keeps_its_secret_and_belongs_to_its_workspace(client: TestClient, world: World) -> None:
    assert client.get(OFFICIAL_PATH, headers=world.a.admin.bearer).status_code == 404
    bad = client.put(OFFICIAL_PATH, headers=world.a.admin.bearer, json={"app_id": "wx\x00" + "1" * 15, "secret": "x"})
    assert bad.status_code == 422 and "app_id" in {e["field"] for e in bad.json()["errors"]}
    short = client.put(OFFICIAL_PATH, headers=world.a.admin.bearer, json={"app_id": OFFICIAL_APP_ID, "secret": "x"})
    assert short.status_code == 422 and {e["field"] for e in short.json()["errors"]} == {"secret"}
    huge = client.put(
        OFFICIAL_PATH, headers=world.a.admin.bearer, json={"app_id": OFFICIAL_APP_ID, "secret": "9" * 10**5}
    )
    assert huge.status_code in (413, 422)
    assert client.get(OFFICIAL_PATH, headers=world.a.admin.bearer).status_code == 404  # nothing half-written
    register_official_account(client, world.a)
    shown = client.get(OFFICIAL_PATH, headers=world.a.admin.bearer).json()
    assert "secret" not in shown and shown["status"] == "active"
    assert shown["entry_url"] == f"http://testserver.local/p/{world.a.slug}/wechat"
    assert shown["authorisation_domain"] == "testserver.local"
    entries = client.get("/api/audit", headers=world.a.admin.bearer, params={"limit": 50}).json()
    created = next(e for e in entries if e["object_type"] == "wechat_official_accounts")
    assert OFFICIAL_APP_SECRET not in str(created)
    # tenant B sees none; its staff reader may read its own only; a partner cannot
    assert client.get(OFFICIAL_PATH, headers=world.b.admin.bearer).status_code == 404
    assert "secret_sealed" not in created["after"] or created["after"]["secret_sealed"] != OFFICIAL_APP_SECRET
    client.cookies.set("portal_session", world.a.admin.cookie)
    page = client.get("/console/channels/wechat/official-account")
    assert page.status_code == 200 and OFFICIAL_APP_ID in page.text and OFFICIAL_APP_SECRET not in page.text
    assert f"/p/{world.a.slug}/wechat" in page.text
    assert 'href="/console/channels/wechat/official-account"' in client.get("/console/channels/oauth-clients").text
    token = csrf_token(client, "/console/channels/wechat/official-account")
    wrong = client.post(
        "/console/channels/wechat/official-account",
        data={"_csrf_token": token, "app_id": "nope", "secret": "typed-secret-0001", "active": "on"},
    )
    assert wrong.status_code == 422 and "typed-secret-0001" not in wrong.text
    saved = client.post(
        "/console/channels/wechat/official-account",
        data={"_csrf_token": token, "app_id": OFFICIAL_APP_ID, "secret": "", "active": ""},
        follow_redirects=False,
    )
    assert saved.status_code in (302, 303), saved.text
    assert client.get(OFFICIAL_PATH, headers=world.a.admin.bearer).json()["status"] == "disabled"
    client.cookies.clear()
    client.cookies.set("portal_session", world.b.admin.cookie)
    at_b = client.get("/console/channels/wechat/official-account")
    assert at_b.status_code == 200 and OFFICIAL_APP_ID not in at_b.text


def test_the_link_ends_when_the_person_unlinks_or_their_password_changes(
    client: TestClient, world: World, fake_wechat: FakeWeChat
) -> None:
    register_official_account(client, world.a)
    partner = invite_with_mobile(client, world.a)
    me = openid()
    open_in_wechat(client, world.a.slug, fake_wechat, me)
    link_with_password(client, world.a.slug, partner.email, PASSWORD)
    client.cookies.clear()
    assert open_in_wechat(client, world.a.slug, fake_wechat, me).headers["location"] == f"/p/{world.a.slug}/"
    token = Credential("", "", *partner_login(client, world.a.slug, partner.email))
    unlinked = client.delete("/api/partner/wechat", headers=token.bearer)
    assert unlinked.status_code == 200 and unlinked.json() == {"unlinked": 1}, unlinked.text
    client.cookies.clear()
    assert open_in_wechat(client, world.a.slug, fake_wechat, me).headers["location"] == f"/p/{world.a.slug}/wechat/link"

    # linked again, then the password changes (a reset after a stolen password): the link ends with it
    assert link_with_password(client, world.a.slug, partner.email, PASSWORD).status_code in (302, 303)

    async def new_password(db: Database) -> None:
        async with db.session(PUBLIC) as session:
            identity = await session.scalar(select(ExternalIdentity).where(ExternalIdentity.email == partner.email))
            assert identity is not None
            identity.password_hash = "changed-" + (identity.password_hash or "")

    run_with_database(client.app.state.services.settings, new_password)
    client.cookies.clear()
    after = open_in_wechat(client, world.a.slug, fake_wechat, me)
    assert after.headers["location"] == f"/p/{world.a.slug}/wechat/link" and not signed_in_page(client, world.a.slug)
    assert client.get(OFFICIAL_PATH, headers=world.a.admin.bearer).json()["linked_accounts"] == 0
