"""Demo: North Supply, Acme Pumps' distributor, runs its own workspace; Acme's catalog flows to it under an
active rule (names held for a person when both sides change them), brought over by the workers' backfill.
Re-running leaves what exists."""

from __future__ import annotations

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
from sync.crosstenant.models import SyncBackfill, SyncRule
from sync.crosstenant.objects import sync_objects
from sync.crosstenant.subscriber import BACKFILL_REQUESTED

UPSTREAM = "acme-pumps"
WORKSPACE = ("North Supply", "north-supply", "Nora North", "nora@north-supply.example")
LINK_CODE = "NS"


async def load_sync(services: Services, context: dict[str, Any]) -> None:
    upstream = context["tenants"].get(UPSTREAM)
    obj = sync_objects(services).get("ordering.product")
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
        rule = SyncRule(
            link_id=link.id,
            peer_tenant_id=tenant.id,
            object=obj.name,
            name="Acme catalog to North Supply",
            mapping=[dict(e) for e in obj.default_mapping],
            filter=[],
            policies={"name": "hold"},
            status="active",
            activated_at=utcnow(),
        )
        session.add(rule)
        await session.flush()
        backfill = SyncBackfill(rule_id=rule.id)
        session.add(backfill)
        await session.flush()
        publish(session, BACKFILL_REQUESTED, "sync.rule", rule.id, {"backfill": str(backfill.id)})
