"""Notifications to people, through the public API and pages, on both lanes, with two tenants: one-time
links go to the person (a real SMTP server and a fake SMS provider on loopback ports), each inbox is its
owner's alone, preferences hold except for security notices, and a forgotten password is reset by a
link that cannot be reused, outlived, carried to another portal or used by a former employee."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select, update

from interconnect.notices import ENTERPRISE_STATUS
from portal.db.context import SYSTEM
from portal.db.engine import Database
from portal.db.types import utcnow
from portal.http.app import create_app
from portal.identity.models import PasswordReset
from portal.outbox import OutboxEvent, PermanentFailure
from tests.conftest import BASE_URL
from tests.db import run_with_database
from tests.integration.interconnect.support import new_email, new_mobile
from tests.notifications import SmsProvider, SmtpServer, Workers, channel_settings, notifications
from tests.world import PASSWORD, WORLD_PARTNER_DOMAIN, World, csrf_token, partner_type_id, unique

NEW_PASSWORD = "a brand new passphrase for this"


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def sms() -> Iterator[SmsProvider]:
    provider = SmsProvider()
    server = provider.start()
    yield provider
    server.shutdown()


@pytest.fixture(scope="module")
def mail_app(database_url: str, smtp: SmtpServer, sms: SmsProvider) -> Litestar:
    """The application with email and SMS configured, on the lane's database."""
    return create_app(channel_settings(database_url, smtp, sms))


@pytest.fixture
def mail(mail_app: Litestar, fresh_world: World, smtp: SmtpServer, sms: SmsProvider) -> Iterator[TestClient]:
    mail_app.state.services.forget_database_state()
    smtp.mailbox.messages.clear()
    sms.received.clear()
    sms.status = 200
    with TestClient(mail_app, base_url=BASE_URL) as client:
        yield client


def new_enterprise(client: TestClient, world: World, **admin: str) -> dict:
    response = client.post(
        "/api/interconnect/enterprises",
        headers=world.a.admin.bearer,
        json={
            "name": unique("Notified"),
            "partner_type_id": partner_type_id(client, world.a.admin),
            "admin": {"display_name": "First Admin", **admin},
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def token_of(link: str) -> str:
    return link.rsplit("/", 1)[1]


# --- one-time links go to the person ------------------------------------------------------------


def test_a_set_password_link_goes_to_the_person_and_the_admin_sees_only_where(
    mail: TestClient, mail_app: Litestar, world: World, smtp: SmtpServer
) -> None:
    email = new_email("first-admin")
    body = new_enterprise(mail, world, email=email)
    assert body["setup_url"] is None
    assert body["setup_link_sent_to"] == "f***@partner.example"

    settings = mail_app.state.services.settings
    events = run_with_database(settings, _events_of("notification.created"))
    assert events and all("/setup/" not in str(payload) for payload in events)  # the event carries the id only

    assert Workers(mail_app).run() == []
    [message] = smtp.mailbox.to(email)
    assert "First Admin" in smtp.mailbox.text(message)
    link = smtp.mailbox.link_to(email)
    row = next(n for n in notifications(settings) if n.email == email)
    assert row.email_status == "sent" and row.secret_link is None  # delivered: the link is gone from the row

    response = mail.post("/api/partner/setup", json={"token": token_of(link), "password": PASSWORD})
    assert response.status_code == 204, response.text


def test_without_a_channel_the_admin_is_handed_the_link(client: TestClient, world: World) -> None:
    body = new_enterprise(client, world, email=new_email("first-admin"))
    assert body["setup_url"] and "/setup/" in body["setup_url"]
    assert body["setup_link_sent_to"] is None


def test_a_new_link_ends_the_old_one(mail: TestClient, mail_app: Litestar, world: World, smtp: SmtpServer) -> None:
    email = new_email("resend")
    body = new_enterprise(mail, world, email=email)
    Workers(mail_app).run()
    first = smtp.mailbox.link_to(email)
    response = mail.post(f"/api/interconnect/users/{body['admin_id']}/setup-link", headers=world.a.admin.bearer)
    assert response.status_code == 200, response.text
    assert response.json() == {"setup_url": None, "sent_to": "r***@partner.example"}
    # another tenant's admin cannot send one for this person
    other = mail.post(f"/api/interconnect/users/{body['admin_id']}/setup-link", headers=world.b.admin.bearer)
    assert other.status_code == 404
    Workers(mail_app).run()
    second = smtp.mailbox.link_to(email)
    assert first != second
    assert mail.post("/api/partner/setup", json={"token": token_of(first), "password": PASSWORD}).status_code == 410
    assert mail.post("/api/partner/setup", json={"token": token_of(second), "password": PASSWORD}).status_code == 204


def test_the_smtp_server_going_away_and_coming_back_loses_no_email(
    mail: TestClient, mail_app: Litestar, world: World, smtp: SmtpServer
) -> None:
    email = new_email("patient")
    workers = Workers(mail_app)
    smtp.stop()
    try:
        new_enterprise(mail, world, email=email)
        failures = workers.run()
        assert [name for name, _exc in failures] == ["notifications.email"]
        assert not isinstance(failures[0][1], PermanentFailure)  # retried, not dead
    finally:
        smtp.start()
    row = next(n for n in notifications(mail_app.state.services.settings) if n.email == email)
    assert row.email_status == "pending" and row.secret_link is not None
    assert workers.run() == []
    assert len(smtp.mailbox.to(email)) == 1
    assert workers.run() == [] and len(smtp.mailbox.to(email)) == 1  # delivered once


def test_a_person_with_only_a_mobile_number_gets_the_link_by_sms(
    mail: TestClient, mail_app: Litestar, world: World, sms: SmsProvider
) -> None:
    mobile = new_mobile()
    body = new_enterprise(mail, world, mobile=mobile)
    assert body["setup_url"] is None and body["setup_link_sent_to"].startswith(mobile[:3])
    assert mobile not in body["setup_link_sent_to"]
    assert Workers(mail_app).run() == []
    [message] = sms.to(mobile)
    assert "/setup/" in message["text"] and uuid.UUID(message["id"])

    sms.status = 400  # the provider refuses the request: retrying cannot help
    new_enterprise(mail, world, mobile=new_mobile())
    failures = Workers(mail_app).run()
    assert len(failures) == 1 and isinstance(failures[0][1], PermanentFailure)


# --- the inbox ----------------------------------------------------------------------------------


def test_each_inbox_is_its_owner_alone(client: TestClient, world: World) -> None:
    colleague = world.x.people["colleague"]
    notification_id = world.ids["notification"]
    mine = client.get("/api/partner/notifications", headers=colleague.bearer)
    assert mine.status_code == 200, mine.text
    assert [n["id"] for n in mine.json()["items"]] == [notification_id] and mine.json()["unread"] == 1
    assert world.x.name in mine.json()["items"][0]["title"]

    # the bell on the portal's pages
    client.cookies.set("portal_session", colleague.cookie)
    page = client.get(f"/p/{world.a.slug}/notifications")
    assert page.status_code == 200 and 'class="badge">1<' in page.text and world.x.name in page.text
    client.cookies.clear()

    for other in (world.x.admin, world.y.admin):
        theirs = client.get("/api/partner/notifications", headers=other.bearer).json()
        # their own notices (the world's links reached the workers) are theirs; never the colleague's
        assert notification_id not in [n["id"] for n in theirs["items"]]
        assert theirs["unread"] == sum(1 for n in theirs["items"] if n["read_at"] is None)
        refused = client.post(f"/api/partner/notifications/{notification_id}/read", headers=other.bearer)
        assert refused.status_code == 404
    assert client.get("/api/partner/notifications", headers=world.a.admin.bearer).status_code == 403
    assert client.get("/api/notifications", headers=colleague.bearer).status_code == 403
    assert client.get("/api/notifications", headers=world.b.admin.bearer).json()["items"] == []

    read = client.post(f"/api/partner/notifications/{notification_id}/read", headers=colleague.bearer)
    assert read.status_code == 200 and read.json()["read_at"]
    assert client.get("/api/partner/notifications/unread", headers=colleague.bearer).json() == {"unread": 0}


def test_the_console_has_a_bell_and_an_inbox(client: TestClient, world: World) -> None:
    client.cookies.set("portal_session", world.a.admin.cookie)
    home = client.get("/console")
    assert 'href="/console/notifications"' in home.text
    # an inline drawing named by its label, not an emoji a browser without an emoji font shows as a box
    bell = home.text.split('class="bell"', 1)[1].split("</a>", 1)[0]
    assert 'aria-label="Notifications' in bell and '<svg class="bell-icon"' in bell and 'aria-hidden="true"' in bell
    assert "\U0001f514" not in home.text
    inbox = client.get("/console/notifications")
    assert inbox.status_code == 200
    token = csrf_token(client, "/console/notifications")
    done = client.post("/console/notifications/read-all", data={"_csrf_token": token}, follow_redirects=False)
    assert done.status_code in (302, 303)


# --- preferences --------------------------------------------------------------------------------


def test_preferences_hold_except_for_security_notices(
    mail: TestClient, mail_app: Litestar, world: World, smtp: SmtpServer
) -> None:
    admin = world.x.admin
    off = mail.put(
        "/api/partner/notifications/preferences",
        headers=admin.bearer,
        json={"kind": ENTERPRISE_STATUS, "channel": "email", "enabled": False},
    )
    assert off.status_code == 200, off.text
    choice = next(i for i in off.json()["items"] if i["kind"] == ENTERPRISE_STATUS)
    # no WeChat: this workspace sends no template messages
    assert choice["channels"] == {"inbox": True, "email": False, "sms": True}
    security = mail.put(
        "/api/partner/notifications/preferences",
        headers=admin.bearer,
        json={"kind": "interconnect.password_reset", "channel": "email", "enabled": False},
    )
    assert security.status_code == 409
    staff_kinds = mail.get("/api/notifications/preferences", headers=world.a.admin.bearer).json()["items"]
    assert [k["kind"] for k in staff_kinds] == [
        "agent.follow_up_due",
        "agent.lead_recycle_notice",
        "agent.lead_recycled",
        "approvals.step_stranded",
        "approvals.step_waiting",
        "service.settlement_disputed",
        "service.sla_breached",
        "staff.password_reset",
    ]
    # a kind meant for partners is not a staff member's to choose
    assert (
        mail.put(
            "/api/notifications/preferences",
            headers=world.a.admin.bearer,
            json={"kind": ENTERPRISE_STATUS, "channel": "email", "enabled": False},
        ).status_code
        == 422
    )

    suspended = mail.post(
        f"/api/interconnect/enterprises/{world.x.link_id}/status",
        headers=world.a.admin.bearer,
        json={"status": "suspended"},
    )
    assert suspended.status_code == 200
    workers = Workers(mail_app)
    assert workers.run() == []
    assert smtp.mailbox.to(admin.email) == []  # email turned off
    settings = mail_app.state.services.settings
    [row] = [
        n
        for n in notifications(settings)
        if n.recipient_id == uuid.UUID(admin.user_id) and n.params.get("status") == "suspended"
    ]
    assert row.kind == ENTERPRISE_STATUS and row.in_inbox and row.email_status == "off"
    before = len(notifications(settings))
    assert Workers(mail_app).run() == []  # every event delivered again: no notice twice
    assert len(notifications(settings)) == before


def test_a_name_chosen_by_an_inviter_reaches_no_one_as_a_link(
    mail: TestClient, mail_app: Litestar, world: World, smtp: SmtpServer
) -> None:
    """A hostile enterprise admin names a colleague "Click http://…": the invitation, sent from the
    platform's address, shows the name with its link defused, and no control character."""
    email = new_email("phished")
    body = {"display_name": "Click http://evil.example/login to keep access", "email": email}
    added = mail.post("/api/partner/colleagues", headers=world.x.admin.bearer, json=body)
    assert added.status_code == 201, added.text
    assert Workers(mail_app).run() == []
    [message] = smtp.mailbox.to(email)
    text = smtp.mailbox.text(message)
    html = next(p.get_content() for p in message.walk() if p.get_content_type() == "text/html")
    assert "Click http[:]//evil[.]example/login to keep access" in text
    for part in (text, html, str(message["Subject"])):
        assert "http://evil" not in part and "evil.example" not in part
    assert "/setup/" in smtp.mailbox.link_to(email)  # the platform's own link is whole


def test_invitations_sent_per_inviter_are_limited(database_url: str, smtp: SmtpServer, fresh_world: World) -> None:
    """Past PORTAL_INVITATIONS_PER_INVITER invitations sent by email or SMS in the window, an inviter is
    refused (429, nothing created); another inviter is not."""
    world = fresh_world
    settings = channel_settings(database_url, smtp, None, extra={"INVITATIONS_PER_INVITER": "2"})
    with TestClient(create_app(settings), base_url=BASE_URL) as client:
        inviter = world.x.admin.bearer
        before = len(client.get("/api/partner/colleagues", headers=inviter).json()["items"])
        for n in range(2):
            body = {"display_name": f"Colleague {n}", "email": new_email("limited")}
            assert client.post("/api/partner/colleagues", headers=inviter, json=body).status_code == 201
        refused = client.post(
            "/api/partner/colleagues", headers=inviter, json={"display_name": "One more", "email": new_email("x")}
        )
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0, refused.text
        assert refused.json()["code"] == "too_many_attempts"
        assert "sent many invitations" in refused.json()["detail"]
        assert len(client.get("/api/partner/colleagues", headers=inviter).json()["items"]) == before + 2
        # the manufacturer's admin invites on their own count
        assert new_enterprise(client, world, email=new_email("first-admin"))["setup_link_sent_to"]


# --- password reset -----------------------------------------------------------------------------


def _forgot(client: TestClient, path: str, **fields: str) -> tuple[int, str]:
    client.cookies.clear()
    token = csrf_token(client, path)
    response = client.post(path, data={**fields, "_csrf_token": token})
    return response.status_code, re.sub(r'value="[^"]{20,}"', "", response.text)


def test_staff_reset_a_forgotten_password(mail: TestClient, mail_app: Litestar, world: World, smtp: SmtpServer) -> None:
    admin = world.a.admin
    known = _forgot(mail, "/login/forgot", workspace=world.a.slug, email=admin.email)
    unknown = _forgot(mail, "/login/forgot", workspace=world.a.slug, email="nobody@nowhere.example")
    nowhere = _forgot(mail, "/login/forgot", workspace="no-such-workspace", email=admin.email)
    assert known[0] == unknown[0] == nowhere[0] == 200
    assert known[1] == unknown[1] == nowhere[1]  # the same answer: nothing tells whether the login exists
    disabled = world.a.others["disabled"]
    _forgot(mail, "/login/forgot", workspace=world.a.slug, email=disabled.email)  # a former employee
    assert Workers(mail_app).run() == []
    assert len(smtp.mailbox.to(admin.email)) == 1 and smtp.mailbox.to(disabled.email) == []
    assert not [m for m in smtp.mailbox.messages if "nowhere.example" in m["X-Envelope-To"]]
    link = smtp.mailbox.link_to(admin.email)
    token = token_of(link)

    # another tenant's session cannot be the way in, and the link is refused on a partner portal
    assert mail.get(f"/p/{world.a.slug}/reset/{token}").status_code == 404
    form = mail.get(f"/reset/{token}")
    assert form.status_code == 200 and world.a.name in form.text
    weak = mail.post(f"/reset/{token}", data={"password": "short", "_csrf_token": csrf_token(mail, f"/reset/{token}")})
    assert weak.status_code == 422
    done = mail.post(
        f"/reset/{token}", data={"password": NEW_PASSWORD, "_csrf_token": csrf_token(mail, f"/reset/{token}")}
    )
    assert done.status_code == 200, done.text
    assert mail.get("/api/me", headers=admin.bearer).status_code == 401  # every session ended
    signed_in = mail.post(
        "/api/auth/token", json={"workspace": world.a.slug, "email": admin.email, "password": NEW_PASSWORD}
    )
    assert signed_in.status_code == 200
    again = mail.post(f"/reset/{token}", data={"password": PASSWORD, "_csrf_token": csrf_token(mail, "/login")})
    assert again.status_code == 410  # used once

    # a link past its time
    _forgot(mail, "/login/forgot", workspace=world.a.slug, email=admin.email)
    Workers(mail_app).run()
    late = token_of(smtp.mailbox.link_to(admin.email))
    run_with_database(mail_app.state.services.settings, _expire_resets)
    assert mail.get(f"/reset/{late}").status_code == 410
    # a guessed token finds nothing
    assert mail.get(f"/reset/{world.a.tenant_id.replace('-', '')}.{uuid.uuid4().hex}.guess").status_code == 404


def test_asking_for_resets_again_and_again_locks_nobody_out(
    mail: TestClient, mail_app: Litestar, world: World, smtp: SmtpServer
) -> None:
    """Someone asking for a person's reset over and over is never refused for that person (who may well
    be asking too), floods no mailbox past a few links per window, and counts nothing on their sign-in."""
    admin, partner = world.a.admin, world.x.admin
    settings = mail_app.state.services.settings
    asked = settings.login_failures_allowed + 3
    staff = [_forgot(mail, "/login/forgot", workspace=world.a.slug, email=admin.email)[0] for _ in range(asked)]
    portal = [_forgot(mail, f"/p/{world.a.slug}/login/forgot", login=partner.email)[0] for _ in range(asked)]
    assert staff == portal == [200] * asked
    assert Workers(mail_app).run() == []
    assert len(smtp.mailbox.to(admin.email)) == len(smtp.mailbox.to(partner.email)) == settings.login_failures_allowed
    # the last link sent still works, and signing in was never locked
    assert mail.get(f"/reset/{token_of(smtp.mailbox.link_to(admin.email))}").status_code == 200
    assert mail.get(f"/p/{world.a.slug}/reset/{token_of(smtp.mailbox.link_to(partner.email))}").status_code == 200
    signed_in = mail.post(
        "/api/auth/token", json={"workspace": world.a.slug, "email": admin.email, "password": PASSWORD}
    )
    assert signed_in.status_code == 200, signed_in.text
    partner_in = mail.post(
        "/api/partner/auth/token", json={"workspace": world.a.slug, "login": partner.email, "password": PASSWORD}
    )
    assert partner_in.status_code == 200, partner_in.text


def test_disabling_a_person_ends_their_reset_links(
    mail: TestClient, mail_app: Litestar, world: World, smtp: SmtpServer
) -> None:
    """A link asked for before the person was disabled is dead for good, even if they are enabled again
    within its lifetime; while they are disabled its page says so rather than asking for a password."""
    admin = world.a.admin.bearer
    staff = world.a.others["staff"]
    colleague = world.x.people["colleague"]
    portal = f"/p/{world.a.slug}"
    _forgot(mail, "/login/forgot", workspace=world.a.slug, email=staff.email)
    _forgot(mail, f"{portal}/login/forgot", login=colleague.email)
    assert Workers(mail_app).run() == []
    staff_page = f"/reset/{token_of(smtp.mailbox.link_to(staff.email))}"
    partner_page = f"{portal}/reset/{token_of(smtp.mailbox.link_to(colleague.email))}"
    assert mail.get(staff_page).status_code == mail.get(partner_page).status_code == 200

    staff_user, partner_user = f"/api/users/{staff.user_id}", f"/api/interconnect/users/{colleague.user_id}"
    for path in (staff_user, partner_user):
        assert mail.patch(path, headers=admin, json={"status": "disabled"}).status_code == 200
    for page in (staff_page, partner_page):
        shown = mail.get(page)
        assert shown.status_code == 410 and "This account is disabled" in shown.text, shown.text
        assert 'name="password"' not in shown.text
        tried = mail.post(page, data={"password": NEW_PASSWORD, "_csrf_token": csrf_token(mail, page)})
        assert tried.status_code == 410 and "This account is disabled" in tried.text

    for path in (staff_user, partner_user):
        assert mail.patch(path, headers=admin, json={"status": "active"}).status_code == 200
    for page in (staff_page, partner_page):
        shown = mail.get(page)
        assert shown.status_code == 410 and "already used or replaced" in shown.text, shown.text
        tried = mail.post(page, data={"password": NEW_PASSWORD, "_csrf_token": csrf_token(mail, page)})
        assert tried.status_code == 410
    signed_in = mail.post(
        "/api/auth/token", json={"workspace": world.a.slug, "email": staff.email, "password": PASSWORD}
    )
    assert signed_in.status_code == 200, "the old password still holds: the link changed nothing"


def test_guessing_reset_links_is_throttled_per_address(database_url: str, smtp: SmtpServer, fresh_world: World) -> None:
    """Trying links is counted per address like signing in, and a real link gives its attempt back: only
    guesses add up, and past the limit every link is refused from that address for the window, while
    signing in from it still works."""
    app = create_app(channel_settings(database_url, smtp, None, login_address_failures_allowed=3))
    world = fresh_world
    guess = f"{world.a.tenant_id.replace('-', '')}.{uuid.uuid4().hex}.guess"
    with TestClient(app, base_url=BASE_URL) as client:
        smtp.mailbox.messages.clear()
        _forgot(client, "/login/forgot", workspace=world.a.slug, email=world.a.admin.email)
        assert Workers(app).run() == []
        real = f"/reset/{token_of(smtp.mailbox.link_to(world.a.admin.email))}"
        assert [client.get(real).status_code for _ in range(6)] == [200] * 6
        assert [client.get(f"/reset/{guess}").status_code for _ in range(3)] == [404] * 3
        refused = client.get(f"/reset/{guess}")
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
        assert "Too many attempts" in refused.text
        assert client.get(real).status_code == 429
        assert client.get(f"/p/{world.a.slug}/reset/{guess}").status_code == 429
        posted = client.post(real, data={"password": NEW_PASSWORD, "_csrf_token": csrf_token(client, "/login")})
        assert posted.status_code == 429
        signed_in = client.post(
            "/api/auth/token",
            json={"workspace": world.a.slug, "email": world.a.admin.email, "password": PASSWORD},
        )
        assert signed_in.status_code == 200, signed_in.text


def test_partner_reset_works_on_its_own_portal_only(
    mail: TestClient, mail_app: Litestar, world: World, smtp: SmtpServer
) -> None:
    admin = world.x.admin
    portal = f"/p/{world.a.slug}"
    status, _page = _forgot(mail, f"{portal}/login/forgot", login=admin.email)
    assert status == 200
    assert Workers(mail_app).run() == []
    link = smtp.mailbox.link_to(admin.email)
    # tenant A has a verified partner domain: the link is there, without /p/<slug>
    assert link.startswith(f"http://{WORLD_PARTNER_DOMAIN}/reset/")
    token = token_of(link)
    assert mail.get(link).status_code == 200  # served on the domain
    assert mail.get(f"/p/{world.b.slug}/reset/{token}").status_code == 404  # tenant A's link on B's portal
    assert mail.get(f"/reset/{token}").status_code == 404  # nor is it a staff link
    done = mail.post(
        f"{portal}/reset/{token}",
        data={"password": NEW_PASSWORD, "_csrf_token": csrf_token(mail, f"{portal}/reset/{token}")},
    )
    assert done.status_code == 200, done.text
    assert mail.get("/api/partner/me", headers=admin.bearer).status_code == 401
    signed_in = mail.post(
        "/api/partner/auth/token", json={"workspace": world.a.slug, "login": admin.email, "password": NEW_PASSWORD}
    )
    assert signed_in.status_code == 200, signed_in.text

    # a former employee: disabled, they ask and nothing is sent
    colleague = world.x.people["colleague"]
    disabled = mail.patch(
        f"/api/interconnect/users/{colleague.user_id}", headers=world.a.admin.bearer, json={"status": "disabled"}
    )
    assert disabled.status_code == 200
    smtp.mailbox.messages.clear()
    _forgot(mail, f"{portal}/login/forgot", login=colleague.email)
    assert Workers(mail_app).run() == [] and smtp.mailbox.to(colleague.email) == []


def test_links_to_a_partner_portal_use_its_partner_domain_once_verified(
    mail: TestClient, mail_app: Litestar, world: World, smtp: SmtpServer
) -> None:
    on_domain = new_email("domain-admin")
    new_enterprise(mail, world, email=on_domain)  # tenant A: a verified partner domain
    on_platform = new_email("platform-admin")
    made = mail.post(
        "/api/interconnect/enterprises",
        headers=world.b.admin.bearer,
        json={
            "name": unique("Notified"),
            "partner_type_id": partner_type_id(mail, world.b.admin),
            "admin": {"display_name": "First Admin", "email": on_platform},
        },
    )
    assert made.status_code == 201, made.text
    assert Workers(mail_app).run() == []
    a_link, b_link = smtp.mailbox.link_to(on_domain), smtp.mailbox.link_to(on_platform)
    assert a_link.startswith(f"http://{WORLD_PARTNER_DOMAIN}/setup/")
    assert b_link.startswith(f"{BASE_URL}/setup/") and WORLD_PARTNER_DOMAIN not in b_link
    page = mail.get(a_link)  # the set-password page, on the domain
    assert page.status_code == 200 and f"/p/{world.a.slug}" not in page.text
    set_up = mail.post("/api/partner/setup", json={"token": token_of(b_link), "password": PASSWORD})
    assert set_up.status_code == 204, set_up.text

    # tenant B has no partner domain: its reset link is on the platform's address, under /p/<slug>
    smtp.mailbox.messages.clear()
    status, _page = _forgot(mail, f"/p/{world.b.slug}/login/forgot", login=on_platform)
    assert status == 200
    assert Workers(mail_app).run() == []
    assert smtp.mailbox.link_to(on_platform).startswith(f"{BASE_URL}/p/{world.b.slug}/reset/")


# --- order notices, the template preview --------------------------------------------------------


def test_an_order_event_notifies_the_dealer_once(client: TestClient, app: Litestar, world: World) -> None:
    order_id = uuid.UUID(world.ids["ordering_order"])
    from portal.outbox import Event

    event = Event(
        uuid.uuid4(), uuid.UUID(world.a.tenant_id), "ordering.order.approved", "ordering.order", order_id, {}, utcnow()
    )
    workers = Workers(app)
    subscriber = next(
        s for c in app.state.services.components for s in c.subscribers if s.name == "ordering.order_notices"
    )

    async def deliver_twice(db: Database) -> None:
        import copy

        services = copy.copy(app.state.services)
        services.db = db
        await subscriber.deliver(services, event)
        await subscriber.deliver(services, event)  # delivered again: at least once

    def approved(person: Any) -> list[str]:
        items = client.get("/api/partner/notifications", headers=person.bearer).json()["items"]
        return [i["id"] for i in items if i["kind"] == "ordering.order_approved"]

    # the world's own events reached the workers too: count what this event adds
    before_x, before_y = approved(world.x.admin), approved(world.y.admin)
    run_with_database(app.state.services.settings, deliver_twice)
    assert workers  # the stand-in is not needed: the subscriber was called directly
    assert len(approved(world.x.admin)) == len(before_x) + 1
    assert approved(world.y.admin) == before_y


def test_staff_preview_every_template_in_both_languages(client: TestClient, world: World) -> None:
    client.cookies.set("portal_session", world.a.admin.cookie)
    zh = client.get(
        "/console/notifications/templates", params={"kind": "interconnect.set_password", "language": "zh_CN"}
    )
    assert zh.status_code == 200 and "设置您的密码" in zh.text
    en = client.get("/console/notifications/templates", params={"kind": "ordering.order_shipped", "language": "en"})
    assert en.status_code == 200 and "SO000123" in en.text
    client.cookies.set("portal_session", world.x.admin.cookie)
    refused = client.get("/console/notifications/templates", follow_redirects=False)
    assert refused.status_code in (302, 303, 403)


def _events_of(event_type: str):
    async def work(db: Database) -> list[dict]:
        async with db.session(SYSTEM, write=False) as session:
            return list(await session.scalars(select(OutboxEvent.payload).where(OutboxEvent.event_type == event_type)))

    return work


async def _expire_resets(db: Database) -> None:
    async with db.session(SYSTEM) as session:
        await session.execute(update(PasswordReset).values(expires_at=utcnow() - timedelta(minutes=1)))


def test_a_script_trying_names_from_one_address_is_throttled(
    database_url: str, smtp: SmtpServer, fresh_world: World
) -> None:
    """Each name is new, so only the address's count can stop it."""
    app = create_app(channel_settings(database_url, smtp, None, login_address_failures_allowed=3))
    with TestClient(app, base_url=BASE_URL) as client:
        answers = [
            _forgot(client, f"/p/{fresh_world.a.slug}/login/forgot", login=f"guess-{n}@guess.example")[0]
            for n in range(4)
        ]
    assert answers == [200, 200, 200, 429]


def test_an_expired_link_is_not_sent_and_is_dropped(
    mail: TestClient, mail_app: Litestar, world: World, smtp: SmtpServer
) -> None:
    from portal.notifications.models import Notification
    from portal.notifications.senders import expire_links

    email = new_email("late")
    new_enterprise(mail, world, email=email)
    new_enterprise(mail, world, email=new_email("later"))
    settings = mail_app.state.services.settings

    async def expire(db: Database) -> int:
        async with db.session(SYSTEM) as session:
            await session.execute(
                update(Notification)
                .where(Notification.secret_link.is_not(None))
                .values(link_expires_at=utcnow() - timedelta(seconds=1))
            )
        import copy

        services = copy.copy(mail_app.state.services)
        services.db = db
        return await expire_links(services)

    # the job drops every expired link still stored; the sender then sends nothing
    assert run_with_database(settings, expire) == 2
    assert Workers(mail_app).run() == []
    assert smtp.mailbox.to(email) == []
    rows = [n for n in notifications(settings) if n.email and n.email.startswith(("late", "later"))]
    assert len(rows) == 2 and all(n.secret_link is None and n.email_status == "expired" for n in rows)


def test_the_console_says_where_the_link_went_and_sends_a_new_one(
    mail: TestClient, mail_app: Litestar, world: World, smtp: SmtpServer
) -> None:
    mail.cookies.set("portal_session", world.a.admin.cookie)
    email = new_email("paged")
    form = {
        "name": unique("Paged"),
        "partner_type": partner_type_id(mail, world.a.admin),
        "admin_name": "Paged Admin",
        "admin_email": email,
        "_csrf_token": csrf_token(mail, "/console/partners/new"),
    }
    created = mail.post("/console/partners/new", data=form)
    assert created.status_code == 201, created.text
    assert "p***@partner.example" in created.text and "/setup/" not in created.text
    detail = mail.get(f"/console/partners/enterprises/{_link_id(created.text)}")
    assert "Send a new link" in detail.text
    membership_id = re.search(r"/console/partners/users/([0-9a-f-]{36})/setup-link", detail.text)
    assert membership_id
    again = mail.post(
        f"/console/partners/users/{membership_id.group(1)}/setup-link",
        data={"_csrf_token": csrf_token(mail, "/console/partners/new")},
    )
    assert again.status_code == 200 and "p***@partner.example" in again.text and "/setup/" not in again.text
    assert Workers(mail_app).run() == []
    assert len(smtp.mailbox.to(email)) == 2


def _link_id(page: str) -> str:
    found = re.search(r"/console/partners/enterprises/([0-9a-f-]{36})", page)
    assert found
    return found.group(1)


def test_a_manufacturer_cannot_route_a_persons_links_to_an_address_it_chose(
    mail: TestClient, mail_app: Litestar, world: World, smtp: SmtpServer, sms: SmsProvider
) -> None:
    """A person's login has only a mobile number. Another manufacturer adds them by that number with an
    email of its own: their links still go to the login's own number, never to that email."""
    mobile = new_mobile()
    new_enterprise(mail, world, mobile=mobile)
    workers = Workers(mail_app)
    workers.run()
    first = re.search(r"https?://\S+/setup/\S+", sms.to(mobile)[-1]["text"])
    assert first
    assert (
        mail.post("/api/partner/setup", json={"token": token_of(first.group(0)), "password": PASSWORD}).status_code
        == 204
    )

    trap = new_email("attacker")
    response = mail.post(
        "/api/interconnect/enterprises",
        headers=world.b.admin.bearer,
        json={
            "name": unique("Trap"),
            "partner_type_id": partner_type_id(mail, world.b.admin),
            "admin": {"display_name": "Victim", "mobile": mobile, "email": trap},
        },
    )
    assert response.status_code == 201, response.text
    assert trap.split("@")[0][:1] + "***" not in (response.json()["setup_link_sent_to"] or "")
    workers.run()
    assert smtp.mailbox.to(trap) == []
    invitation = re.search(r"https?://\S+/setup/\S+", sms.to(mobile)[-1]["text"])
    assert invitation and invitation.group(0) != first.group(0)
    accepted = mail.post(
        "/api/partner/setup/accept", json={"token": token_of(invitation.group(0)), "password": PASSWORD}
    )
    assert accepted.status_code == 200, accepted.text

    _forgot(mail, f"/p/{world.b.slug}/login/forgot", login=mobile)
    _forgot(mail, f"/p/{world.b.slug}/login/forgot", login=trap)
    workers.run()
    assert smtp.mailbox.to(trap) == []
    assert f"/p/{world.b.slug}/reset/" in sms.to(mobile)[-1]["text"]


def test_emails_carry_the_tenants_header_as_text(
    mail: TestClient, mail_app: Litestar, world: World, smtp: SmtpServer
) -> None:
    header = "Acme <b>Pumps</b> · partner desk"
    saved = mail.patch("/api/workspace", headers=world.a.admin.bearer, json={"email_header": header})
    assert saved.status_code == 200, saved.text
    email = new_email("branded")
    new_enterprise(mail, world, email=email)
    assert Workers(mail_app).run() == []
    [message] = smtp.mailbox.to(email)
    assert smtp.mailbox.text(message).startswith(header)
    html = next(p for p in message.walk() if p.get_content_type() == "text/html").get_content()
    assert "Acme &lt;b&gt;Pumps&lt;/b&gt;" in html and "<b>Pumps</b>" not in html
