"""Notifications to partners as template messages of the manufacturer's WeChat official account: the manufacturer
maps a kind to its template and fields; a partner who signed in from the official account gets that kind on WeChat
unless they turned it off; WeChat's answers (an expired or replaced token, the rate limit, system busy, a person
who does not follow the account, any other code) are retried or recorded as they should be, on the notice and on
its delivery; one manufacturer's settings and messages are nothing to the other."""

from __future__ import annotations

import asyncio
import re
import uuid

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select

from channels.wechat.templates import SUBSCRIBERS as TEMPLATE_SENDERS
from channels.wechat.templates import deliver_wechat
from portal.config import Settings
from portal.db.context import SYSTEM
from portal.db.engine import Database
from portal.notifications.models import Notification
from portal.notifications.service import CREATED
from portal.outbox import Event, OutboxEvent
from portal.services import Services
from sync.delivery.engine import DeliveryEngine
from tests.integration.channels.miniapp import Partner, invite_with_mobile, openid
from tests.integration.channels.official import link_with_password, open_in_wechat, register_official_account
from tests.integration.sync.support import FAST, drain, run_engine
from tests.notifications import Workers, notifications
from tests.wechat import (
    OFFICIAL_APP_ID,
    OTHER_OFFICIAL_APP_ID,
    OTHER_OFFICIAL_APP_SECRET,
    STABLE_TOKEN,
    TEMPLATE_SEND,
    FakeWeChat,
)
from tests.world import PASSWORD, WORLD_PARTNER_DOMAIN, World, csrf_token, partner_login, partner_web_login

TEMPLATES = "/api/channels/wechat/official-account/templates"
STATUS_KIND = "interconnect.enterprise_status"
STATUS_TEMPLATE = "TPL_enterprise_status_01"
FIELDS = {"first": "title", "keyword1": "enterprise", "keyword2": "status", "remark": "body"}
NOTICES = "interconnect.enterprise_status_notices"
SENDER = "notifications.wechat"


def bound_partner(client: TestClient, world: World, fake: FakeWeChat) -> tuple[Partner, str]:
    """Tenant A's official account registered, and a dealer admin who signed in from it once (linked)."""
    register_official_account(client, world.a)
    partner = invite_with_mobile(client, world.a)
    me = openid()
    open_in_wechat(client, world.a.slug, fake, me)
    linked = link_with_password(client, world.a.slug, partner.email, PASSWORD)
    assert linked.status_code in (302, 303), linked.text
    client.cookies.clear()
    return partner, me


def map_status_kind(client: TestClient, world: World, fake: FakeWeChat, template: str = STATUS_TEMPLATE) -> None:
    fake.add_template(OFFICIAL_APP_ID, template)
    saved = client.put(
        f"{TEMPLATES}/{STATUS_KIND}", headers=world.a.admin.bearer, json={"template_id": template, "fields": FIELDS}
    )
    assert saved.status_code == 200, saved.text


def change_status(client: TestClient, world: World, partner: Partner, status: str) -> None:
    changed = client.post(
        f"/api/interconnect/enterprises/{partner.link_id}/status", headers=world.a.admin.bearer, json={"status": status}
    )
    assert changed.status_code == 200, changed.text


def settled(app: Litestar) -> Workers:
    """The notices of what happened so far (the enterprises' creation) written, before any template is mapped."""
    workers = Workers(app)
    assert workers.run(only=NOTICES) == []
    return workers


def notify(workers: Workers) -> list[tuple[str, BaseException]]:
    """The enterprise's status notices written (interconnect's subscriber), then the WeChat sender run."""
    assert workers.run(only=NOTICES) == []
    return workers.run(only=SENDER)


def on_wechat(settings: Settings, membership_id: str) -> list[Notification]:
    return [n for n in notifications(settings) if str(n.recipient_id) == membership_id and n.wechat_to]


def test_a_partner_linked_in_the_official_account_gets_the_kind_as_a_template_message(
    client: TestClient, app: Litestar, settings: Settings, world: World, fake_wechat: FakeWeChat
) -> None:
    partner, me = bound_partner(client, world, fake_wechat)
    other = invite_with_mobile(client, world.a)  # never opened the official account
    workers = settled(app)
    map_status_kind(client, world, fake_wechat)
    # a partner of the programme cannot read or change the settings
    token, _refresh = partner_login(client, world.a.slug, partner.email)
    own = {"Authorization": f"Bearer {token}"}
    assert client.get(TEMPLATES, headers=own).status_code in (403, 404)
    change_status(client, world, partner, "suspended")
    change_status(client, world, other, "suspended")
    assert notify(workers) == []

    [(app_id, to, template, url, data)] = fake_wechat.messages
    assert (app_id, to, template) == (OFFICIAL_APP_ID, me, STATUS_TEMPLATE)
    # the person's inbox, on tenant A's verified partner domain (without /p/<slug>)
    assert url == f"http://{WORLD_PARTNER_DOMAIN}/notifications"
    assert set(data) == set(FIELDS) and data["keyword2"] == {"value": "suspended"}
    assert data["keyword1"]["value"].startswith("WeChat dealer") and data["first"]["value"]
    [sent] = on_wechat(settings, partner.membership_id)
    assert (sent.wechat_status, sent.wechat_to, sent.wechat_error) == ("sent", me, None) and sent.wechat_sent_at
    assert on_wechat(settings, other.membership_id) == []
    # delivered twice (at least once): sent once
    workers.done.clear()
    assert workers.run(only=SENDER) == []
    assert len(fake_wechat.messages) == 1

    # tenant B: none of A's settings, and its own official account sends nothing of A's
    b_list = client.get(TEMPLATES, headers=world.b.admin.bearer).json()["items"]
    assert all(item["template_id"] is None for item in b_list)
    a_item = client.get(f"{TEMPLATES}/{STATUS_KIND}", headers=world.a.admin.bearer).json()
    assert a_item["template_id"] == STATUS_TEMPLATE and a_item["fields"] == FIELDS
    assert client.get(f"{TEMPLATES}/{STATUS_KIND}", headers=world.b.admin.bearer).json()["template_id"] is None


def test_a_kind_without_a_template_or_turned_off_by_the_person_is_not_sent_on_wechat(
    client: TestClient, app: Litestar, settings: Settings, world: World, fake_wechat: FakeWeChat
) -> None:
    partner, _me = bound_partner(client, world, fake_wechat)
    # tenant B sends the kind on WeChat: nothing to tenant A's partners
    register_official_account(client, world.b, OTHER_OFFICIAL_APP_ID, OTHER_OFFICIAL_APP_SECRET)
    fake_wechat.add_template(OTHER_OFFICIAL_APP_ID, STATUS_TEMPLATE)
    b_mapping = {"template_id": STATUS_TEMPLATE, "fields": FIELDS}
    b_saved = client.put(f"{TEMPLATES}/{STATUS_KIND}", headers=world.b.admin.bearer, json=b_mapping)
    assert b_saved.status_code == 200
    # an official account but no template yet: WeChat is not among the person's choices
    token, _refresh = partner_login(client, world.a.slug, partner.email)
    prefs = client.get("/api/partner/notifications/preferences", headers={"Authorization": f"Bearer {token}"})
    assert "wechat" not in prefs.json()["configured"]
    assert all("wechat" not in i["channels"] for i in prefs.json()["items"])
    workers = Workers(app)
    change_status(client, world, partner, "suspended")  # no template for the kind yet
    assert notify(workers) == []
    assert fake_wechat.messages == [] and on_wechat(settings, partner.membership_id) == []

    map_status_kind(client, world, fake_wechat)
    change_status(client, world, partner, "active")
    token, _refresh = partner_login(client, world.a.slug, partner.email)
    own = {"Authorization": f"Bearer {token}"}
    prefs = client.get("/api/partner/notifications/preferences", headers=own).json()
    assert "wechat" in prefs["configured"]
    status = next(i for i in prefs["items"] if i["kind"] == STATUS_KIND)
    assert status["channels"]["wechat"] is True
    off = client.put(
        "/api/partner/notifications/preferences",
        headers=own,
        json={"kind": STATUS_KIND, "channel": "wechat", "enabled": False},
    )
    assert off.status_code == 200, off.text
    assert next(i for i in off.json()["items"] if i["kind"] == STATUS_KIND)["channels"]["wechat"] is False
    # the person's preferences page shows the column, the kind's box unticked
    client.cookies.set("portal_session", partner_web_login(client, world.a.slug, partner.email))
    page = client.get(f"/p/{world.a.slug}/notifications/preferences")
    assert page.status_code == 200 and "<th>WeChat</th>" in page.text
    assert f'value="{STATUS_KIND}:wechat"' in page.text
    assert re.search(rf'value="{re.escape(STATUS_KIND)}:wechat"[^>]*\n?[^>]*checked', page.text) is None
    client.cookies.clear()
    change_status(client, world, partner, "suspended")
    assert notify(workers) == []
    assert fake_wechat.messages == [] and on_wechat(settings, partner.membership_id) == []
    # the person's page offers the choice too; staff have no WeChat channel
    staff = client.get("/api/notifications/preferences", headers=world.a.admin.bearer).json()
    assert "wechat" not in staff["configured"] and all("wechat" not in i["channels"] for i in staff["items"])
    refused = client.put(
        "/api/notifications/preferences",
        headers=world.a.admin.bearer,
        json={"kind": "service.sla_breached", "channel": "wechat", "enabled": False},
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "channel"


def test_an_expired_or_replaced_access_token_is_refreshed_once_and_the_message_sent(
    client: TestClient, app: Litestar, settings: Settings, world: World, fake_wechat: FakeWeChat
) -> None:
    partner, _me = bound_partner(client, world, fake_wechat)
    workers = settled(app)
    map_status_kind(client, world, fake_wechat)
    change_status(client, world, partner, "suspended")
    assert notify(workers) == []
    assert len(fake_wechat.messages) == 1 and fake_wechat.calls[STABLE_TOKEN] == 1

    fake_wechat.expire_tokens()  # 42001, though the platform's cache does not know
    change_status(client, world, partner, "active")
    assert notify(workers) == []
    assert len(fake_wechat.messages) == 2 and fake_wechat.forced == 1
    assert fake_wechat.calls[TEMPLATE_SEND] == 3  # one refused, one sent again with the new token

    fake_wechat.forget_tokens()  # 40001: another server took a new token
    change_status(client, world, partner, "suspended")
    assert notify(workers) == []
    assert len(fake_wechat.messages) == 3 and fake_wechat.calls[STABLE_TOKEN] == 3
    assert [n.wechat_status for n in on_wechat(settings, partner.membership_id)] == ["sent"] * 3


def test_the_rate_limit_and_system_busy_are_retried_later(
    client: TestClient, app: Litestar, settings: Settings, world: World, fake_wechat: FakeWeChat
) -> None:
    partner, _me = bound_partner(client, world, fake_wechat)
    workers = settled(app)
    map_status_kind(client, world, fake_wechat)

    # -1 once: the call itself tries again after a short pause
    fake_wechat.fail(TEMPLATE_SEND, -1)
    change_status(client, world, partner, "suspended")
    assert notify(workers) == []
    assert len(fake_wechat.messages) == 1

    # 45011: left for the workers to retry later; then sent
    fake_wechat.fail(TEMPLATE_SEND, 45011)
    change_status(client, world, partner, "active")
    [(name, error)] = notify(workers)
    assert name == SENDER and getattr(error, "code", "") == "wechat_rate_limited"
    assert [n.wechat_status for n in on_wechat(settings, partner.membership_id)] == ["sent", "pending"]
    assert workers.run(only=SENDER) == []
    assert len(fake_wechat.messages) == 2

    # busy on every try of the call: retried later by the workers, then sent
    fake_wechat.fail(TEMPLATE_SEND, -1, -1, -1)
    change_status(client, world, partner, "suspended")
    [(name, error)] = notify(workers)
    assert name == SENDER and getattr(error, "code", "") == "wechat_busy"
    assert on_wechat(settings, partner.membership_id)[-1].wechat_status == "pending"
    assert workers.run(only=SENDER) == []
    assert len(fake_wechat.messages) == 3
    assert [n.wechat_status for n in on_wechat(settings, partner.membership_id)] == ["sent"] * 3


def test_a_person_who_does_not_follow_and_any_other_refusal_are_recorded_not_retried(
    client: TestClient, app: Litestar, settings: Settings, world: World, fake_wechat: FakeWeChat
) -> None:
    partner, me = bound_partner(client, world, fake_wechat)
    workers = settled(app)
    map_status_kind(client, world, fake_wechat)
    fake_wechat.unfollow(OFFICIAL_APP_ID, me)
    change_status(client, world, partner, "suspended")
    assert workers.run(only=NOTICES) == []

    async def deliver(services: Services, _db: Database) -> None:
        await drain(DeliveryEngine(services, list(TEMPLATE_SENDERS), FAST))

    run_engine(app, settings, deliver)
    [undeliverable] = on_wechat(settings, partner.membership_id)
    assert undeliverable.wechat_status == "undeliverable" and (undeliverable.wechat_error or "").startswith("43004")
    assert fake_wechat.calls[TEMPLATE_SEND] == 1 and fake_wechat.messages == []
    # where staff see every channel's deliveries: dead at once, with WeChat's code
    listed = client.get("/api/deliveries", headers=world.a.admin.bearer, params={"subscriber": SENDER}).json()
    [dead] = listed["items"]
    assert dead["status"] == "dead" and dead["attempts"] == 1 and "43004" in dead["last_error"]
    assert "undeliverable" in dead["last_error"]
    assert (
        client.get("/api/deliveries", headers=world.b.admin.bearer, params={"subscriber": SENDER}).json()["total"] == 0
    )

    # a template WeChat does not know (40037): recorded with its code, not retried
    fake_wechat.unfollowed.clear()
    saved = client.put(
        f"{TEMPLATES}/{STATUS_KIND}", headers=world.a.admin.bearer, json={"template_id": "TPL_gone", "fields": FIELDS}
    )
    assert saved.status_code == 200
    change_status(client, world, partner, "active")
    assert workers.run(only=NOTICES) == []
    run_engine(app, settings, deliver)
    failed = on_wechat(settings, partner.membership_id)[-1]
    assert failed.wechat_status == "failed" and (failed.wechat_error or "").startswith("40037")
    assert fake_wechat.calls[TEMPLATE_SEND] == 2
    dead = client.get(
        "/api/deliveries", headers=world.a.admin.bearer, params={"subscriber": SENDER, "status": "dead"}
    ).json()
    assert dead["total"] == 2 and any("40037" in d["last_error"] for d in dead["items"])


def test_template_settings_refuse_what_wechat_would_not_take(client: TestClient, world: World) -> None:
    a = world.a.admin.bearer
    path = f"{TEMPLATES}/{STATUS_KIND}"

    def refused(body: dict[str, object]) -> dict[str, object]:
        answer = client.put(path, headers=a, json=body)
        assert answer.status_code == 422, answer.text
        return answer.json()

    assert refused({"template_id": "bad id\u0000", "fields": FIELDS})["errors"][0]["field"] == "template_id"
    assert refused({"template_id": "T" * 65, "fields": FIELDS})["errors"][0]["field"] == "template_id"
    assert refused({"template_id": "TPL", "fields": {}})["errors"][0]["field"] == "fields"
    unknown = refused({"template_id": "TPL", "fields": {"keyword1": "cost_price"}})
    assert unknown["errors"][0]["field"] == "fields" and "keyword1" in unknown["errors"][0]["message"]
    assert refused({"template_id": "TPL", "fields": {"key word\n": "status"}})["errors"][0]["field"] == "fields"
    assert refused({"template_id": "TPL", "fields": {f"keyword{i}": "status" for i in range(11)}})["errors"]
    assert client.put(path, headers=a, json={"template_id": "TPL", "fields": FIELDS, "x": 1}).status_code == 422
    # only kinds partners receive
    staff_kind = client.put(f"{TEMPLATES}/service.sla_breached", headers=a, json={"template_id": "T", "fields": FIELDS})
    assert staff_kind.status_code == 404
    assert client.put(f"{TEMPLATES}/no.such", headers=a, json={"template_id": "T", "fields": FIELDS}).status_code == 404
    # nothing was saved; then saved, and removed
    assert client.get(path, headers=a).json()["template_id"] is None
    assert client.put(path, headers=a, json={"template_id": "TPL-1_a", "fields": FIELDS}).status_code == 200
    assert client.delete(path, headers=world.b.admin.bearer).status_code == 204  # B's own (none): A's stays
    assert client.get(path, headers=a).json()["template_id"] == "TPL-1_a"
    assert client.delete(path, headers=a).status_code == 204
    assert client.get(path, headers=a).json()["template_id"] is None
    kinds = {i["kind"] for i in client.get(TEMPLATES, headers=a).json()["items"]}
    assert {"ordering.order_approved", "ordering.order_shipped", "service.ticket_dispatched"} <= kinds
    assert {"service.sla_warning", "interconnect.invitation"} <= kinds and "service.sla_breached" not in kinds


def test_the_console_page_maps_a_kind_to_its_template(client: TestClient, world: World) -> None:
    register_official_account(client, world.b, OTHER_OFFICIAL_APP_ID, OTHER_OFFICIAL_APP_SECRET)
    client.cookies.set("portal_session", world.b.admin.cookie)
    page_path = "/console/channels/wechat/official-account"
    page = client.get(page_path)
    assert page.status_code == 200 and "Template messages" in page.text
    token = csrf_token(client, page_path)
    action = f"{page_path}/templates/{STATUS_KIND}"
    bad = client.post(action, data={"_csrf_token": token, "template_id": "TPL_x", "fields": "keyword1 = price"})
    assert bad.status_code == 422 and "keyword1" in bad.text
    twice = client.post(
        action, data={"_csrf_token": token, "template_id": "TPL_x", "fields": "first = enterprise; first = status"}
    )
    assert twice.status_code == 422 and "first is named twice" in twice.text, twice.text
    assert client.get(f"{TEMPLATES}/{STATUS_KIND}", headers=world.b.admin.bearer).json()["template_id"] is None
    good = client.post(
        action,
        data={"_csrf_token": token, "template_id": "TPL_x", "fields": "keyword1 = enterprise; keyword2=status"},
        follow_redirects=False,
    )
    assert good.status_code in (302, 303), good.text
    shown = client.get(f"{TEMPLATES}/{STATUS_KIND}", headers=world.b.admin.bearer).json()
    assert shown["fields"] == {"keyword1": "enterprise", "keyword2": "status"}
    assert client.get(f"{TEMPLATES}/{STATUS_KIND}", headers=world.a.admin.bearer).json()["template_id"] is None
    cleared = client.post(action, data={"_csrf_token": token, "template_id": "", "fields": ""}, follow_redirects=False)
    assert cleared.status_code in (302, 303)
    assert client.get(f"{TEMPLATES}/{STATUS_KIND}", headers=world.b.admin.bearer).json()["template_id"] is None


def test_senders_that_find_the_token_expired_at_once_refresh_it_once_between_them(
    client: TestClient, app: Litestar, settings: Settings, world: World, fake_wechat: FakeWeChat
) -> None:
    """Each sender stands for a worker process (its own client of WeChat, the same database)."""
    partner, _me = bound_partner(client, world, fake_wechat)
    workers = settled(app)
    map_status_kind(client, world, fake_wechat)
    change_status(client, world, partner, "suspended")
    assert notify(workers) == []  # the token is fetched and cached
    assert fake_wechat.calls[STABLE_TOKEN] == 1
    for status in ("active", "suspended", "active", "suspended"):
        change_status(client, world, partner, status)
    assert workers.run(only=NOTICES) == []
    fake_wechat.expire_tokens()
    fake_wechat.token_latency = 0.3  # long enough for every sender to find the token refused

    async def send_together(services: Services, db: Database) -> int:
        async with db.session(SYSTEM, write=False) as session:
            pending = set(await session.scalars(select(Notification.id).where(Notification.wechat_status == "pending")))
            rows = await session.scalars(select(OutboxEvent).where(OutboxEvent.event_type == CREATED))
            events = [
                Event(r.id, r.tenant_id, r.event_type, r.aggregate_type, r.aggregate_id, r.payload, r.occurred_at)
                for r in rows
                if uuid.UUID(str(r.payload["notification_id"])) in pending
            ]
        await asyncio.gather(*(deliver_wechat(services, e) for e in events))
        return len(events)

    assert run_engine(app, settings, send_together) == 4
    assert len(fake_wechat.messages) == 5
    assert fake_wechat.calls[STABLE_TOKEN] == 2 and fake_wechat.forced == 1
    assert [n.wechat_status for n in on_wechat(settings, partner.membership_id)] == ["sent"] * 5
