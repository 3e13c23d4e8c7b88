"""The sync API under /api/sync: objects, partner links, rules (preview, activate, pause, backfills),
held conflicts and their resolution, and a downstream's incoming rules."""

from __future__ import annotations

import uuid
from typing import Literal

from litestar import Controller, Response, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody

from portal.http.deps import DB
from portal.http.inputs import Limit, Offset
from portal.i18n import gettext
from portal.identity.schemas import sent, typed
from portal.permissions import requires
from portal.spreadsheets import XLSX_MEDIA_TYPE
from sync.crosstenant.dependencies import DEPENDENCIES, RulesDep
from sync.crosstenant.objects import CONFLICT, RULE, direction_of
from sync.crosstenant.reconcile import drift_out, reconciliation_out
from sync.crosstenant.reports import drift_xlsx
from sync.crosstenant.rules import backfill_out, conflict_out, rule_out
from sync.crosstenant.schemas import (
    BackfillOut,
    ConflictOut,
    ConflictPage,
    DriftKind,
    DriftPage,
    IncomingOut,
    PreviewIn,
    PreviewOut,
    ReconciliationOut,
    RepairIn,
    ResolveIn,
    RuleDetail,
    RuleIn,
    RuleOut,
    RulePatch,
    SyncLinkOut,
    SyncObjectOut,
)


class SyncController(Controller):
    """Rules per partner link whose partner runs its own workspace on this platform (docs/sync.md)."""

    path = "/api/sync"
    tags = ["sync"]
    dependencies = DEPENDENCIES

    @get("/objects", opt=requires(RULE, "read"))
    async def objects(self, rules: RulesDep) -> list[SyncObjectOut]:
        """What may travel, with its fields on each side and its default mapping."""
        return typed(
            [
                {
                    "name": o.name,
                    "label": gettext(o.label),
                    "direction": direction_of(o),
                    "source_fields": list(o.source_fields),
                    "target_fields": dict(o.target_fields),
                    "required_targets": sorted(o.required_targets),
                    "default_mapping": [dict(e) for e in o.default_mapping],
                }
                for o in rules.objects.values()
            ],
            list[SyncObjectOut],
        )

    @get("/links", opt=requires(RULE, "read"))
    async def links(self, rules: RulesDep) -> list[SyncLinkOut]:
        """Active partner links whose partner runs its own workspace here."""
        return typed([{"id": link.id, "name": link.name} for link in await rules.links()], list[SyncLinkOut])

    @get("/rules", opt=requires(RULE, "read"))
    async def list_rules(self, rules: RulesDep, link_id: FromQuery[uuid.UUID | None] = None) -> list[RuleOut]:
        return typed([rule_out(r, rules.objects) for r in await rules.list(link_id)], list[RuleOut])

    @post("/rules", opt=requires(RULE, "create", problems=(409,)))
    async def create_rule(self, data: JSONBody[RuleIn], db: DB, rules: RulesDep) -> RuleOut:
        """A draft rule: nothing flows until it is activated. Without `mapping`, the object's default."""
        return typed(rule_out(await rules.create(sent(data)), rules.objects), RuleOut)

    @post("/preview", opt=requires(RULE, "read", problems=(404,)), status_code=200)
    async def preview(self, data: JSONBody[PreviewIn], rules: RulesDep) -> PreviewOut:
        """The mapping and filter applied to a sample record of the partner, before saving."""
        return typed(await rules.preview(sent(data)), PreviewOut)

    @get("/rules/{sync_rule_id:uuid}", opt=requires(RULE, "read"))
    async def get_rule(self, sync_rule_id: FromPath[uuid.UUID], rules: RulesDep) -> RuleDetail:
        """The rule, how many records it maps, and its latest backfills with their progress."""
        rule = await rules.get(sync_rule_id)
        return typed(
            {
                "rule": rule_out(rule, rules.objects),
                "mapped": await rules.mapped(rule.id),
                "backfills": [backfill_out(b) for b in await rules.backfills(rule.id)],
            },
            RuleDetail,
        )

    @patch("/rules/{sync_rule_id:uuid}", opt=requires(RULE, "update"))
    async def update_rule(
        self, sync_rule_id: FromPath[uuid.UUID], data: JSONBody[RulePatch], rules: RulesDep
    ) -> RuleOut:
        return typed(rule_out(await rules.update(sync_rule_id, sent(data)), rules.objects), RuleOut)

    @delete("/rules/{sync_rule_id:uuid}", opt=requires(RULE, "delete", problems=(409,)))
    async def delete_rule(self, sync_rule_id: FromPath[uuid.UUID], rules: RulesDep) -> None:
        """A paused or draft rule, with its mapping table and conflicts; the partner keeps its records."""
        await rules.delete(sync_rule_id)

    @post("/rules/{sync_rule_id:uuid}/activate", opt=requires(RULE, "update", problems=(409,)), status_code=202)
    async def activate(self, sync_rule_id: FromPath[uuid.UUID], rules: RulesDep) -> BackfillOut:
        """Changes flow from now on; the answer is the backfill of what exists, run by the workers."""
        return typed(backfill_out(await rules.activate(sync_rule_id)), BackfillOut)

    @post("/rules/{sync_rule_id:uuid}/pause", opt=requires(RULE, "update"), status_code=200)
    async def pause(self, sync_rule_id: FromPath[uuid.UUID], rules: RulesDep) -> RuleOut:
        return typed(rule_out(await rules.pause(sync_rule_id), rules.objects), RuleOut)

    @post(
        "/rules/{sync_rule_id:uuid}/reconcile",
        opt={**requires(RULE, "update", problems=(409,)), "idempotent": True},
        status_code=202,
    )
    async def reconcile(self, sync_rule_id: FromPath[uuid.UUID], db: DB, rules: RulesDep) -> ReconciliationOut:
        """Compare every record the rule maps on both sides, on the workers; follow its progress at
        `GET /api/sync/reconciliations/{id}`. 409 while a run of the rule is going on."""
        return typed(reconciliation_out(await rules.reconcile(sync_rule_id)), ReconciliationOut)

    @get("/rules/{sync_rule_id:uuid}/reconciliations", opt=requires(RULE, "read"))
    async def reconciliations(self, sync_rule_id: FromPath[uuid.UUID], rules: RulesDep) -> list[ReconciliationOut]:
        """The rule's latest runs, newest first."""
        rule = await rules.get(sync_rule_id)
        return typed([reconciliation_out(r) for r in await rules.reconciliations(rule.id)], list[ReconciliationOut])

    @get("/reconciliations/{sync_reconciliation_id:uuid}", opt=requires(RULE, "read"))
    async def reconciliation(
        self,
        sync_reconciliation_id: FromPath[uuid.UUID],
        rules: RulesDep,
        kind: FromQuery[DriftKind | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> DriftPage:
        """The run (its progress and counts) and a page of what it found, of one kind or all."""
        run = await rules.reconciliation(sync_reconciliation_id)
        rows, total = await rules.drift(run.id, kind, limit, offset)
        return typed(
            {
                "reconciliation": reconciliation_out(run),
                "items": [drift_out(d) for d in rows],
                "total": total,
                "limit": limit,
                "offset": offset,
            },
            DriftPage,
        )

    @get(
        "/reconciliations/{sync_reconciliation_id:uuid}/export.xlsx",
        opt=requires(RULE, "read"),
        media_type=XLSX_MEDIA_TYPE,
    )
    async def export_drift(
        self, sync_reconciliation_id: FromPath[uuid.UUID], rules: RulesDep, kind: FromQuery[DriftKind | None] = None
    ) -> Response[bytes]:
        """What the run found (of one kind or all) as a workbook, one row per differing field."""
        return await drift_xlsx(rules, sync_reconciliation_id, kind)

    @post(
        "/reconciliations/{sync_reconciliation_id:uuid}/repair",
        opt={**requires(RULE, "update", problems=(409,)), "idempotent": True},
        status_code=202,
    )
    async def repair(
        self,
        sync_reconciliation_id: FromPath[uuid.UUID],
        db: DB,
        rules: RulesDep,
        data: JSONBody[RepairIn | None] = None,
    ) -> ReconciliationOut:
        """Bring what the run found in step, by ordinary sync events the workers apply under the rule's
        policy (nothing is written directly); a new run afterwards shows what is left. The body is optional."""
        kind = data.kind if data is not None else None
        return typed(reconciliation_out(await rules.repair(sync_reconciliation_id, kind)), ReconciliationOut)

    @get("/conflicts", opt=requires(CONFLICT, "read"))
    async def conflicts(
        self,
        rules: RulesDep,
        status: FromQuery[Literal["held", "resolved"] | None] = "held",
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> ConflictPage:
        """Fields changed on both sides under the policy "hold for a person"; newest first."""
        rows, total = await rules.conflicts(status, limit, offset)
        return typed(
            {"items": [conflict_out(c) for c in rows], "total": total, "limit": limit, "offset": offset},
            ConflictPage,
        )

    @post(
        "/conflicts/{sync_conflict_id:uuid}/resolve",
        opt=requires(CONFLICT, "resolve", problems=(409,)),
        status_code=200,
    )
    async def resolve(
        self, sync_conflict_id: FromPath[uuid.UUID], data: JSONBody[ResolveIn], rules: RulesDep
    ) -> ConflictOut:
        """`upstream`: the partner's record takes the upstream's value; `downstream`: it keeps its own."""
        return typed(conflict_out(await rules.resolve(sync_conflict_id, data.resolution)), ConflictOut)

    @get("/incoming", opt=requires(RULE, "read"))
    async def incoming(self, rules: RulesDep) -> list[IncomingOut]:
        """Rules of the workspaces this one is a partner of, feeding this workspace."""
        return typed(await rules.incoming(), list[IncomingOut])

    @post("/incoming/{sync_rule_id:uuid}/pause", opt=requires(RULE, "update"), status_code=200)
    async def pause_incoming(self, sync_rule_id: FromPath[uuid.UUID], rules: RulesDep) -> list[IncomingOut]:
        """Stop a rule for your workspace: nothing new is sent either way until you resume it."""
        await rules.peer_pause(sync_rule_id)
        return typed(await rules.incoming(), list[IncomingOut])

    @post("/incoming/{sync_rule_id:uuid}/resume", opt=requires(RULE, "update"), status_code=200)
    async def resume_incoming(self, sync_rule_id: FromPath[uuid.UUID], rules: RulesDep) -> list[IncomingOut]:
        """Resume a rule you paused: what changed meanwhile catches up (a backfill, on the workers)."""
        await rules.peer_resume(sync_rule_id)
        return typed(await rules.incoming(), list[IncomingOut])


CONTROLLERS = [SyncController]
