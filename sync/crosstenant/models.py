"""Sync rules, their backfills, the mapping table, the events applied and the conflicts held.

Every row belongs to the upstream tenant (the rule's owner) and names the peer (downstream) tenant;
the downstream reads its direction's rules through an explicit system context (sync.crosstenant.rules)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, ForeignKeyConstraint, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db.base import Audited, Base, TenantOwned, Timestamped
from portal.db.types import utcnow

RULE_STATUSES = ("draft", "active", "paused")
DIRECTIONS = ("down", "up")  # down: upstream -> downstream; up: the downstream's records to the upstream
POLICIES = ("upstream", "downstream", "newer", "hold")
BACKFILL_STATUSES = ("queued", "running", "done", "failed")
CONFLICT_STATUSES = ("held", "resolved")
RECONCILIATION_STATUSES = ("queued", "running", "done", "failed")
DRIFT_KINDS = ("missing", "extra", "different")


def same_tenant(columns: list[str], table: str, ondelete: str = "CASCADE") -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["tenant_id", *columns], [f"{table}.tenant_id", f"{table}.id"], ondelete=ondelete)


class SyncRule(TenantOwned, Timestamped, Audited, Base):
    """What of the upstream's flows to the link's downstream tenant: one object, its field mapping (a list
    of entries, sync.crosstenant.mapping), a filter (conditions on the upstream's fields, all must hold)
    and a conflict policy per target field."""

    __tablename__ = "sync_rules"
    __table_args__ = (
        same_tenant(["link_id"], "enterprise_links", "RESTRICT"),
        UniqueConstraint("tenant_id", "link_id", "object"),
        Index("ix_sync_rules_peer", "peer_tenant_id", "status"),
        Index("ix_sync_rules_pairing", "tenant_id", "pairing_id", "remote_rule_id"),
        CheckConstraint("status IN ('draft', 'active', 'paused')", name="status"),
        CheckConstraint("direction IN ('down', 'up')", name="direction"),
    )

    # None on a rule kept for a peer deployment's rule (below)
    link_id: Mapped[uuid.UUID | None]
    # None when the link's partner runs its workspace on another deployment (`pairing_id` names the pairing)
    peer_tenant_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tenants.id", ondelete="RESTRICT"))
    # the pairing (sync.peers) its changes travel through: on the upstream's deployment with its link; on the
    # partner's deployment, a rule of the partner's own with no link, standing for the upstream's rule
    # `remote_rule_id` there, under which its changes are applied and mapped (sync.peers.inbound)
    pairing_id: Mapped[uuid.UUID | None]
    remote_rule_id: Mapped[uuid.UUID | None]
    object: Mapped[str] = mapped_column(String(60))
    direction: Mapped[str] = mapped_column(String(8), default="down")
    name: Mapped[str] = mapped_column(String(100))
    mapping: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    filter: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    policies: Mapped[dict[str, str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12), default="draft")
    activated_at: Mapped[datetime | None]
    # the partner paused the rule for its workspace: nothing flows until it resumes it (then a backfill
    # catches up), whatever the rule's own status
    peer_paused_at: Mapped[datetime | None]


def flowing() -> Any:
    """The condition on SyncRule under which changes flow: active, and not paused by the partner."""
    return (SyncRule.status == "active") & SyncRule.peer_paused_at.is_(None)


def flowing_here() -> Any:
    """`flowing()`, for a rule applied in this deployment: a rule for a paired deployment (`pairing_id`) is
    sent there by the "peers" subscriber instead."""
    return flowing() & SyncRule.pairing_id.is_(None)


def is_flowing(rule: SyncRule) -> bool:
    return rule.status == "active" and rule.peer_paused_at is None


class SyncBackfill(TenantOwned, Base):
    """One pass over everything the rule's object has upstream, made when the rule is activated; `cursor`
    is the last upstream id done, so a worker taking over goes on from there."""

    __tablename__ = "sync_backfills"
    __table_args__ = (
        same_tenant(["rule_id"], "sync_rules"),
        Index("ix_sync_backfills_rule", "tenant_id", "rule_id", "created_at"),
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status"),
    )

    rule_id: Mapped[uuid.UUID]
    status: Mapped[str] = mapped_column(String(12), default="queued")
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    applied: Mapped[int] = mapped_column(default=0)
    cursor: Mapped[uuid.UUID | None]
    error: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class SyncMapping(TenantOwned, Base):
    """An upstream record and its counterpart in the peer tenant. `sent` is what the mapping gave for it
    last (to tell an upstream change), `written` what the peer's record held after the last write (to
    tell a change made there); `version` the time of the last change applied (older events are skipped)."""

    __tablename__ = "sync_mappings"
    __table_args__ = (
        same_tenant(["rule_id"], "sync_rules"),
        UniqueConstraint("tenant_id", "rule_id", "local_id"),
        Index("ix_sync_mappings_peer", "peer_tenant_id", "object", "peer_id"),
    )

    rule_id: Mapped[uuid.UUID]
    object: Mapped[str] = mapped_column(String(60))
    local_id: Mapped[uuid.UUID]
    peer_tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="RESTRICT"))
    peer_id: Mapped[uuid.UUID]
    version: Mapped[datetime]
    sent: Mapped[dict[str, Any]] = mapped_column(JSON)
    written: Mapped[dict[str, Any]] = mapped_column(JSON)
    withdrawn: Mapped[bool] = mapped_column(default=False)
    last_event_id: Mapped[uuid.UUID | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SyncApplied(TenantOwned, Base):
    """An event applied under a rule: a second delivery of the same event finds it and changes nothing."""

    __tablename__ = "sync_applied"
    __table_args__ = (
        same_tenant(["rule_id"], "sync_rules"),
        UniqueConstraint("tenant_id", "rule_id", "event_id"),
    )

    rule_id: Mapped[uuid.UUID]
    event_id: Mapped[uuid.UUID]
    outcome: Mapped[str] = mapped_column(String(12))
    applied_at: Mapped[datetime] = mapped_column(default=utcnow)


class SyncConflict(TenantOwned, Base):
    """A field changed on both sides since the last sync, under the policy "hold for a person": the peer
    keeps its value until someone chooses one (`resolution`: upstream or downstream)."""

    __tablename__ = "sync_conflicts"
    __table_args__ = (
        same_tenant(["rule_id"], "sync_rules"),
        Index("ix_sync_conflicts_status", "tenant_id", "status", "created_at"),
        Index("ix_sync_conflicts_mapping", "tenant_id", "mapping_id", "field"),
        CheckConstraint("status IN ('held', 'resolved')", name="status"),
    )

    rule_id: Mapped[uuid.UUID]
    mapping_id: Mapped[uuid.UUID]
    peer_tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="RESTRICT"))
    local_id: Mapped[uuid.UUID]
    peer_id: Mapped[uuid.UUID]
    field: Mapped[str] = mapped_column(String(60))
    upstream_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    downstream_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    event_id: Mapped[uuid.UUID | None]
    status: Mapped[str] = mapped_column(String(12), default="held")
    resolution: Mapped[str | None] = mapped_column(String(12))
    resolved_by: Mapped[uuid.UUID | None]
    resolved_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SyncReconciliation(TenantOwned, Base):
    """One comparison of every record a rule maps, on both sides, by a digest of the mapped fields:
    first the upstream's records in id order with the mapping table over the same range (`phase`
    "source"), then the mapping table's entries beyond the last upstream record (`phase` "mappings");
    `cursor` is the last id done, so a worker taking over goes on from there. At most one queued or
    running per rule (a partial unique index)."""

    __tablename__ = "sync_reconciliations"
    __table_args__ = (
        same_tenant(["rule_id"], "sync_rules"),
        Index("ix_sync_reconciliations_rule", "tenant_id", "rule_id", "created_at"),
        Index(
            "uq_sync_reconciliations_running",
            "tenant_id",
            "rule_id",
            unique=True,
            postgresql_where=text("status IN ('queued', 'running')"),
            sqlite_where=text("status IN ('queued', 'running')"),
        ),
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status"),
        CheckConstraint("phase IN ('source', 'mappings')", name="phase"),
    )

    rule_id: Mapped[uuid.UUID]
    # the rule's partner: its workspace here, or (None) its pairing with the deployment its workspace runs on
    peer_tenant_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tenants.id", ondelete="RESTRICT"))
    pairing_id: Mapped[uuid.UUID | None]
    trigger: Mapped[str] = mapped_column(String(12), default="manual")  # manual | scheduled
    requested_by: Mapped[uuid.UUID | None]
    status: Mapped[str] = mapped_column(String(12), default="queued")
    phase: Mapped[str] = mapped_column(String(12), default="source")
    cursor: Mapped[uuid.UUID | None]
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    compared: Mapped[int] = mapped_column(default=0)
    missing: Mapped[int] = mapped_column(default=0)
    extra: Mapped[int] = mapped_column(default=0)
    different: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(String(1000))
    # why it failed, as a label the page translates (`error` has the details, e.g. the peer's answer)
    error_code: Mapped[str | None] = mapped_column(String(40))
    repair_requested_at: Mapped[datetime | None]
    repaired: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class SyncDrift(TenantOwned, Base):
    """A record a reconciliation found out of step: `missing` (the upstream has it, the partner has not),
    `extra` (the partner has a mapped record whose upstream record is gone or no longer sent) or
    `different` (the digests differ; `fields` names each differing field with both values)."""

    __tablename__ = "sync_drift"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "reconciliation_id"],
            ["sync_reconciliations.tenant_id", "sync_reconciliations.id"],
            ondelete="CASCADE",
        ),
        Index("ix_sync_drift_report", "tenant_id", "reconciliation_id", "kind", "local_id"),
        CheckConstraint("kind IN ('missing', 'extra', 'different')", name="kind"),
    )

    reconciliation_id: Mapped[uuid.UUID]
    rule_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(12))
    local_id: Mapped[uuid.UUID]
    peer_id: Mapped[uuid.UUID | None]
    label: Mapped[str | None] = mapped_column(String(200))  # the record's key (a SKU), to find it
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    source_digest: Mapped[str | None] = mapped_column(String(64))
    peer_digest: Mapped[str | None] = mapped_column(String(64))
