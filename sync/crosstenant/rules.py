"""Sync rules for the console and the API: the upstream's rules per partner link (with preview, activation
and backfill progress), its held conflicts and their resolution; and, for a downstream tenant, the rules
that feed it (read across tenants in an explicit system context, limited to rules naming it)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from contextlib import nullcontext
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from interconnect.models import EnterpriseLink
from portal.actor import Actor
from portal.db.context import SYSTEM, tenant_context
from portal.db.tenancy import within
from portal.db.types import utcnow
from portal.errors import Conflict, FieldError, NotFound, ValidationFailed
from portal.i18n import N_
from portal.identity.models import Tenant
from portal.outbox import publish
from sync.crosstenant import reconcile
from sync.crosstenant.apply import CHANNEL, settle
from sync.crosstenant.mapping import apply_mapping, check_filter, check_mapping, check_policies, passes
from sync.crosstenant.models import (
    DRIFT_KINDS,
    SyncBackfill,
    SyncConflict,
    SyncDrift,
    SyncMapping,
    SyncReconciliation,
    SyncRule,
)
from sync.crosstenant.objects import Pair, SyncObject, direction_of, handed
from sync.crosstenant.subscriber import BACKFILL_REQUESTED
from sync.peers.models import SyncPeer
from sync.peers.service import active_pairing

MAX_NAME = 100


class Rules:
    """In the request's unit of work (the actor's tenant)."""

    def __init__(self, session: AsyncSession, actor: Actor, objects: Mapping[str, SyncObject]) -> None:
        self.session = session
        self.actor = actor
        self.objects = objects

    # --- the upstream's rules ---

    async def links(self) -> list[EnterpriseLink]:
        """Partner links a rule may name: active, with the partner's own workspace on this platform."""
        paired = select(SyncPeer.link_id).where(SyncPeer.status == "active", SyncPeer.link_id.is_not(None))
        return list(
            await self.session.scalars(
                select(EnterpriseLink)
                .where(
                    EnterpriseLink.status == "active",
                    EnterpriseLink.downstream_tenant_id.is_not(None) | EnterpriseLink.id.in_(paired),
                )
                .order_by(EnterpriseLink.name)
            )
        )

    async def list(self, link_id: uuid.UUID | None = None) -> list[SyncRule]:
        # (a rule with no link stands here for a paired deployment's rule: sync.peers.inbound)
        query = select(SyncRule).where(SyncRule.link_id.is_not(None)).order_by(SyncRule.created_at)
        if link_id is not None:
            query = query.where(SyncRule.link_id == link_id)
        return list(await self.session.scalars(query))

    async def get(self, rule_id: uuid.UUID, lock: bool = False) -> SyncRule:
        query = select(SyncRule).where(SyncRule.id == rule_id)
        found = await self.session.scalar(query.with_for_update() if lock else query)
        if found is None:
            raise NotFound(N_("No such sync rule"))
        return found

    def object_of(self, name: Any) -> SyncObject:
        obj = self.objects.get(str(name))
        if obj is None:
            raise ValidationFailed([FieldError("object", N_("No such object"), "unknown")])
        return obj

    async def _link(self, link_id: Any) -> EnterpriseLink:
        link = None
        if isinstance(link_id, uuid.UUID):
            link = await self.session.scalar(select(EnterpriseLink).where(EnterpriseLink.id == link_id))
        if link is None:
            raise ValidationFailed([FieldError("link_id", N_("No such enterprise"), "unknown")])
        if link.status != "active" or (
            link.downstream_tenant_id is None and await active_pairing(self.session, link.id) is None
        ):
            raise ValidationFailed(
                [
                    FieldError(
                        "link_id",
                        N_("This partner does not run its own workspace here or on a paired deployment"),
                        "not_connected",
                    )
                ]
            )
        return link

    async def _remote(self, link: EnterpriseLink, obj: SyncObject) -> SyncPeer | None:
        """The pairing a rule of the link sends through (None: the partner's workspace is here)."""
        if link.downstream_tenant_id is not None:
            return None
        return await active_pairing(self.session, link.id)

    def _checked(self, obj: SyncObject, values: Mapping[str, Any], current: SyncRule | None) -> dict[str, Any]:
        errors: list[FieldError] = []
        out: dict[str, Any] = {}
        if "name" in values or current is None:
            name = str(values.get("name") or "").strip()
            if not name:
                errors.append(FieldError("name", N_("is required"), "required"))
            elif len(name) > MAX_NAME:
                errors.append(FieldError("name", N_("At most %(n)s characters"), "too_long", {"n": MAX_NAME}))
            out["name"] = name
        for key, check in (
            ("mapping", lambda v: check_mapping(v, obj.source_fields, obj.target_fields, obj.required_targets)),
            ("filter", lambda v: check_filter(v, obj.source_fields)),
            ("policies", lambda v: check_policies(v, obj.target_fields)),
        ):
            if key in values or current is None:
                raw = values.get(key)
                if key == "mapping" and raw is None and current is None:
                    raw = [dict(e) for e in obj.default_mapping]
                try:
                    out[key] = check(raw)
                except ValidationFailed as failed:
                    errors.extend(failed.errors)
        if errors:
            raise ValidationFailed(errors)
        return out

    async def create(self, values: Mapping[str, Any]) -> SyncRule:
        obj = self.object_of(values.get("object"))
        link = await self._link(values.get("link_id"))
        checked = self._checked(obj, values, None)
        if await self.session.scalar(
            select(SyncRule.id).where(SyncRule.link_id == link.id, SyncRule.object == obj.name)
        ):
            raise Conflict(N_("This partner already has a rule for this object"), code="rule_exists")
        pairing = await self._remote(link, obj)
        rule = SyncRule(
            link_id=link.id,
            peer_tenant_id=link.downstream_tenant_id,
            pairing_id=pairing.id if pairing is not None else None,
            object=obj.name,
            direction=direction_of(obj),
            **checked,
        )
        self.session.add(rule)
        await self.session.flush()
        return rule

    async def update(self, rule_id: uuid.UUID, values: Mapping[str, Any]) -> SyncRule:
        rule = await self.get(rule_id, lock=True)
        for name, value in self._checked(self.object_of(rule.object), values, rule).items():
            setattr(rule, name, value)
        await self.session.flush()
        return rule

    async def delete(self, rule_id: uuid.UUID) -> None:
        """The rule, its mappings, backfills and conflicts; what it wrote to the partner stays there."""
        rule = await self.get(rule_id, lock=True)
        if rule.status == "active":
            raise Conflict(N_("Pause the rule before deleting it"), code="rule_active")
        await self.session.delete(rule)
        await self.session.flush()

    async def activate(self, rule_id: uuid.UUID) -> SyncBackfill:
        """Changes flow from now on, and a backfill (a job on the workers) brings over what exists."""
        rule = await self.get(rule_id, lock=True)
        link = await self._link(rule.link_id)
        pairing = await self._remote(link, self.object_of(rule.object))
        if (pairing.id if pairing is not None else None) != rule.pairing_id:
            raise Conflict(
                N_("The partner was paired again since this rule was made: make a new rule"), code="repaired"
            )
        if rule.status == "active":
            raise Conflict(N_("The rule is active already"), code="rule_active")
        rule.status, rule.activated_at = "active", utcnow()
        backfill = SyncBackfill(rule_id=rule.id)
        self.session.add(backfill)
        await self.session.flush()
        publish(self.session, BACKFILL_REQUESTED, "sync.rule", rule.id, {"backfill": str(backfill.id)})
        return backfill

    async def pause(self, rule_id: uuid.UUID) -> SyncRule:
        rule = await self.get(rule_id, lock=True)
        rule.status = "paused"
        await self.session.flush()
        return rule

    async def backfills(self, rule_id: uuid.UUID, limit: int = 10) -> list[SyncBackfill]:
        return list(
            await self.session.scalars(
                select(SyncBackfill)
                .where(SyncBackfill.rule_id == rule_id)
                .order_by(SyncBackfill.created_at.desc())
                .limit(limit)
            )
        )

    async def mapped(self, rule_id: uuid.UUID) -> int:
        return int(
            await self.session.scalar(
                select(func.count()).select_from(SyncMapping).where(SyncMapping.rule_id == rule_id)
            )
            or 0
        )

    async def preview(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The mapping and filter applied to a sample record of the link's partner (the one named by
        `sample_id`, else the first), before the rule is saved."""
        obj = self.object_of(values.get("object"))
        link = await self._link(values.get("link_id"))
        if await self._remote(link, obj) is not None and handed(obj) and direction_of(obj) == "up":
            raise NotFound(N_("The partner's records are on its own deployment: there is no sample here to preview"))
        checked = self._checked(obj, {**values, "name": "preview"}, None)
        sample = values.get("sample_id")
        ids = [sample] if isinstance(sample, uuid.UUID) else None
        if handed(obj):
            # the record is read in its own tenant: the peer's for an object travelling up
            pair = Pair(link.id, link.tenant_id, link.downstream_tenant_id)  # type: ignore[arg-type]
            up = direction_of(obj) == "up" and link.downstream_tenant_id is not None
            peer = tenant_context(link.downstream_tenant_id, channel=CHANNEL) if up else None  # type: ignore[arg-type]
            async with within(self.session, peer) if peer is not None else nullcontext():
                records = await obj.read(self.session, pair, ids, None, 1)  # type: ignore[call-arg,arg-type]
        else:
            records = await obj.read(self.session, link.id, ids, None, 1)
        if not records:
            raise NotFound(N_("No record to preview the mapping on"))
        local_id, source, present = records[0]
        return {
            "sample_id": local_id,
            "source": {name: source.get(name) for name in obj.source_fields},
            "target": apply_mapping(checked["mapping"], source, obj.target_fields),
            "passes": present and passes(checked["filter"], source),
        }

    # --- reconciliation ---

    async def reconcile(self, rule_id: uuid.UUID) -> SyncReconciliation:
        """A run comparing every record the rule maps, carried out by the workers (409 while one runs, or
        while the partner has paused the rule)."""
        rule = await self.get(rule_id, lock=True)
        if not reconcile.reconcilable(self.objects.get(rule.object)):
            raise Conflict(
                N_("Records of this object are placed by the app on the other side: there is nothing to compare"),
                code="not_reconcilable",
            )
        if rule.peer_paused_at is not None:
            # its repair would be refused, and the partner's side stands still until it resumes
            raise Conflict(N_("The partner has paused this rule: compare once it resumes"), code="rule_paused")
        await self._link(rule.link_id)
        return await reconcile.start(self.session, rule, requested_by=self.actor.user_id)

    async def reconciliations(self, rule_id: uuid.UUID, limit: int = 10) -> list[SyncReconciliation]:
        return list(
            await self.session.scalars(
                select(SyncReconciliation)
                .where(SyncReconciliation.rule_id == rule_id)
                .order_by(SyncReconciliation.created_at.desc())
                .limit(limit)
            )
        )

    async def reconciliation(self, reconciliation_id: uuid.UUID, lock: bool = False) -> SyncReconciliation:
        query = select(SyncReconciliation).where(SyncReconciliation.id == reconciliation_id)
        found = await self.session.scalar(query.with_for_update() if lock else query)
        if found is None:
            raise NotFound(N_("No such reconciliation"))
        return found

    async def drift(
        self, reconciliation_id: uuid.UUID, kind: str | None, limit: int, offset: int
    ) -> tuple[list[SyncDrift], int]:
        run = await self.reconciliation(reconciliation_id)
        query = select(SyncDrift).where(SyncDrift.reconciliation_id == run.id)
        if kind is not None:
            if kind not in DRIFT_KINDS:
                raise ValidationFailed([FieldError("kind", N_("is not a kind of drift"), "invalid")])
            query = query.where(SyncDrift.kind == kind)
        total = int(await self.session.scalar(select(func.count()).select_from(query.subquery())) or 0)
        ordered = query.order_by(SyncDrift.kind, SyncDrift.local_id)
        rows = await self.session.scalars(ordered.limit(limit).offset(offset))
        return list(rows), total

    async def drift_batches(self, reconciliation_id: uuid.UUID, kind: str | None, size: int = 1000) -> Any:
        """Every drift row of the run (of one kind), in keyset batches: an export's rows."""
        run = await self.reconciliation(reconciliation_id)
        after: uuid.UUID | None = None
        while True:
            query = select(SyncDrift).where(SyncDrift.reconciliation_id == run.id).order_by(SyncDrift.id).limit(size)
            if kind is not None:
                query = query.where(SyncDrift.kind == kind)
            if after is not None:
                query = query.where(SyncDrift.id > after)
            rows = list(await self.session.scalars(query))
            if not rows:
                return
            yield rows
            after = rows[-1].id

    async def repair(self, reconciliation_id: uuid.UUID, kind: str | None) -> SyncReconciliation:
        """Ordinary sync events for the run's drift (of one kind, or all), applied by the workers."""
        if kind is not None and kind not in DRIFT_KINDS:
            raise ValidationFailed([FieldError("kind", N_("is not a kind of drift"), "invalid")])
        run = await self.reconciliation(reconciliation_id, lock=True)
        rule = await self.get(run.rule_id)
        if rule.status != "active" or rule.peer_paused_at is not None:
            raise Conflict(N_("Activate the rule before repairing: a paused rule sends nothing"), code="rule_paused")
        await reconcile.repair(self.session, run, kind)
        return run

    # --- conflicts ---

    async def conflicts(self, status: str | None, limit: int, offset: int) -> tuple[list[SyncConflict], int]:
        query = select(SyncConflict)
        if status is not None:
            query = query.where(SyncConflict.status == status)
        total = int(await self.session.scalar(select(func.count()).select_from(query.subquery())) or 0)
        rows = await self.session.scalars(query.order_by(SyncConflict.created_at.desc()).limit(limit).offset(offset))
        return list(rows), total

    async def conflict(self, conflict_id: uuid.UUID) -> SyncConflict:
        found = await self.session.scalar(select(SyncConflict).where(SyncConflict.id == conflict_id).with_for_update())
        if found is None:
            raise NotFound(N_("No such conflict"))
        return found

    async def resolve(self, conflict_id: uuid.UUID, resolution: Any) -> SyncConflict:
        conflict = await self.conflict(conflict_id)
        if resolution not in ("upstream", "downstream"):
            raise ValidationFailed([FieldError("resolution", N_("Choose the upstream or the partner"), "invalid")])
        if conflict.status != "held":
            raise Conflict(N_("This conflict is resolved already"), code="conflict_resolved")
        rule = await self.get(conflict.rule_id)
        await settle(self.session, self.object_of(rule.object), rule, conflict, str(resolution))
        conflict.resolved_by = self.actor.user_id
        await self.session.flush()
        return conflict

    # --- the downstream's view ---

    async def _incoming_rule(self, rule_id: uuid.UUID) -> SyncRule:
        """A rule feeding (or taken from) this workspace, locked, read in the system context: only one
        naming the actor's own workspace as its peer (another's is simply not found)."""
        async with within(self.session, SYSTEM):
            rule = await self.session.scalar(
                select(SyncRule)
                .where(SyncRule.id == rule_id, SyncRule.peer_tenant_id == self.actor.tenant_id)
                .with_for_update()
            )
        if rule is None:
            raise NotFound(N_("No such sync rule"))
        return rule

    async def peer_pause(self, rule_id: uuid.UUID) -> None:
        """The partner stops the rule for its workspace: nothing new is sent either way until it resumes."""
        rule = await self._incoming_rule(rule_id)
        if rule.peer_paused_at is not None:
            return
        async with within(self.session, tenant_context(rule.tenant_id, channel=CHANNEL)):
            rule.peer_paused_at = utcnow()
            await self.session.flush()

    async def peer_resume(self, rule_id: uuid.UUID) -> None:
        """The partner resumes the rule: what changed meanwhile catches up by a backfill, as when a
        partnership is re-established (when the rule itself is active)."""
        rule = await self._incoming_rule(rule_id)
        if rule.peer_paused_at is None:
            return
        async with within(self.session, tenant_context(rule.tenant_id, channel=CHANNEL)):
            rule.peer_paused_at = None
            if rule.status == "active":
                backfill = SyncBackfill(rule_id=rule.id)
                self.session.add(backfill)
                await self.session.flush()
                publish(self.session, BACKFILL_REQUESTED, "sync.rule", rule.id, {"backfill": str(backfill.id)})
            await self.session.flush()

    async def incoming(self) -> list[dict[str, Any]]:
        """Rules of other workspaces that feed this one: read in the system context, only those whose
        peer is the actor's own workspace (never another's, never an upstream's link details)."""
        me = self.actor.tenant_id
        async with within(self.session, SYSTEM):
            rows = (
                await self.session.execute(
                    select(SyncRule, Tenant.name)
                    .join(Tenant, Tenant.id == SyncRule.tenant_id)
                    .where(SyncRule.peer_tenant_id == me, SyncRule.pairing_id.is_(None))
                    .order_by(Tenant.name, SyncRule.created_at)
                )
            ).all()
            counts = dict(
                (
                    await self.session.execute(
                        select(SyncMapping.rule_id, func.count())
                        .where(SyncMapping.peer_tenant_id == me)
                        .group_by(SyncMapping.rule_id)
                    )
                ).all()
            )
            out = [incoming_out(rule, upstream, counts.get(rule.id, 0), self.objects) for rule, upstream in rows]
        return out


def rule_out(rule: SyncRule, objects: Mapping[str, SyncObject]) -> dict[str, Any]:
    obj = objects.get(rule.object)
    return {
        "id": rule.id,
        "link_id": rule.link_id,
        "peer_tenant_id": rule.peer_tenant_id,
        "pairing_id": rule.pairing_id,
        "object": rule.object,
        "object_label": obj.label if obj else rule.object,
        "direction": rule.direction,
        "name": rule.name,
        "mapping": rule.mapping,
        "filter": rule.filter,
        "policies": {f: rule.policies.get(f, "upstream") for f in (obj.target_fields if obj else rule.policies)},
        "status": rule.status,
        "paused_by_partner": rule.peer_paused_at is not None,
        "activated_at": rule.activated_at,
        "created_at": rule.created_at,
        "updated_at": rule.updated_at,
    }


def incoming_out(rule: SyncRule, upstream: str, mapped: int, objects: Mapping[str, SyncObject]) -> dict[str, Any]:
    obj = objects.get(rule.object)
    return {
        "id": rule.id,
        "upstream": upstream,
        "object": rule.object,
        "object_label": obj.label if obj else rule.object,
        "direction": rule.direction,
        "name": rule.name,
        "mapping": rule.mapping,
        "status": rule.status,
        "paused_by_you": rule.peer_paused_at is not None,
        "mapped": mapped,
    }


def backfill_out(backfill: SyncBackfill) -> dict[str, Any]:
    return {
        "id": backfill.id,
        "rule_id": backfill.rule_id,
        "status": backfill.status,
        "total": backfill.total,
        "done": backfill.done,
        "applied": backfill.applied,
        "percent": 100
        if backfill.status == "done"
        else (100 * backfill.done // backfill.total if backfill.total else 0),
        "error": backfill.error,
        "created_at": backfill.created_at,
        "started_at": backfill.started_at,
        "finished_at": backfill.finished_at,
    }


def conflict_out(conflict: SyncConflict) -> dict[str, Any]:
    return {
        "id": conflict.id,
        "rule_id": conflict.rule_id,
        "local_id": conflict.local_id,
        "peer_id": conflict.peer_id,
        "field": conflict.field,
        "upstream_value": conflict.upstream_value,
        "downstream_value": conflict.downstream_value,
        "event_id": conflict.event_id,
        "status": conflict.status,
        "resolution": conflict.resolution,
        "resolved_at": conflict.resolved_at,
        "created_at": conflict.created_at,
    }
