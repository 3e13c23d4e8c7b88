"""Demo: North Supply, Acme Pumps' distributor, runs its own workspace; Acme's catalog flows to it under an
active rule (names held for a person when both sides change them), brought over at once by the backfill
the workers would run. Purchase orders travel up and their progress down under active rules too, and an
object that has demo records of its own (`demo` on a handed object: North's purchase orders in each
state) makes them then. Re-running leaves what exists."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from interconnect.models import EnterpriseLink
from portal.db.context import PUBLIC, tenant_context
from portal.db.types import utcnow
from portal.demo import DEMO_PASSWORD
from portal.identity.accounts import SignUp
from portal.identity.models import Tenant
from portal.outbox import publish
from portal.services import Services
from sync.crosstenant import reconcile
from sync.crosstenant.apply import CHANNEL, serialise
from sync.crosstenant.handover import hand_over, pair_of
from sync.crosstenant.models import SyncBackfill, SyncRule
from sync.crosstenant.objects import direction_of, handed, sync_objects
from sync.crosstenant.subscriber import BACKFILL_REQUESTED, run_backfill

UPSTREAM = "acme-pumps"
WORKSPACE = ("North Supply", "north-supply", "Nora North", "nora@north-supply.example")
LINK_CODE = "NS"
RULE_NAMES = {
    "ordering.product": "Acme catalog to North Supply",
    "ordering.purchase_order": "North Supply's purchase orders",
    "ordering.purchase_order_status": "Progress of North Supply's purchase orders",
}


async def load_sync(services: Services, context: dict[str, Any]) -> None:
    upstream = context["tenants"].get(UPSTREAM)
    objects = sync_objects(services)
    obj = objects.get("ordering.product")
    if upstream is None or obj is None:
        return
    name, slug, admin, email = WORKSPACE
    async with services.db.session(PUBLIC) as session:
        tenant = await session.scalar(select(Tenant).where(Tenant.slug == slug))
        if tenant is None:
            tenant, _admin = await services.accounts.sign_up(
                session, SignUp(name, slug, admin, email, DEMO_PASSWORD, "en"), "cli"
            )
    context["tenants"][slug] = tenant.id
    context["logins"].append(
        {"workspace": slug, "email": email, "password": DEMO_PASSWORD, "role": "admin", "tenant": name}
    )
    async with services.db.session(tenant_context(upstream, channel="cli")) as session:
        link = await session.scalar(select(EnterpriseLink).where(EnterpriseLink.code == LINK_CODE))
        if link is None or await session.scalar(select(SyncRule.id).where(SyncRule.link_id == link.id)):
            return
        link.downstream_tenant_id = tenant.id
        rules: dict[str, SyncRule] = {}
        for each in objects.values():
            rules[each.name] = SyncRule(
                link_id=link.id,
                peer_tenant_id=tenant.id,
                object=each.name,
                direction=direction_of(each),
                name=RULE_NAMES.get(each.name, str(each.name)),
                mapping=[dict(e) for e in each.default_mapping],
                filter=[],
                policies={"name": "hold"} if each is obj else {},
                status="active",
                activated_at=utcnow(),
            )
        session.add_all(rules.values())
        await session.flush()
        backfill = SyncBackfill(rule_id=rules[obj.name].id)
        session.add(backfill)
        await session.flush()
        publish(session, BACKFILL_REQUESTED, "sync.rule", rules[obj.name].id, {"backfill": str(backfill.id)})
        backfill_id, rule_ids = backfill.id, {n: r.id for n, r in rules.items()}
        pair = pair_of(rules[obj.name])
    # the catalog now, as the workers would bring it (the event finds the backfill done)
    await run_backfill(services, upstream, backfill_id)

    async def hand(object_name: str, source_ids: Sequence[uuid.UUID]) -> list[str]:
        async with services.db.session(tenant_context(upstream, channel=CHANNEL)) as session:
            rule = await session.scalar(select(SyncRule).where(SyncRule.id == rule_ids[object_name]))
            assert rule is not None
            ids = sorted(set(source_ids))
            await serialise(session, rule.id, ids)
            return await hand_over(
                session, services, objects[object_name], rule, ids, event_id=None, occurred_at=utcnow()
            )

    for each in objects.values():
        make = getattr(each, "demo", None)
        if handed(each) and make is not None:
            await make(services, pair, hand)

    # a reconciliation of the catalog, as the workers would carry it out: both sides agree
    async with services.db.session(tenant_context(upstream, channel=CHANNEL)) as session:
        rule = await session.scalar(select(SyncRule).where(SyncRule.id == rule_ids[obj.name]).with_for_update())
        assert rule is not None
        run_id = (await reconcile.start(session, rule)).id
    await reconcile.carry_out(services, upstream, run_id)
