"""The lead tables: pools and their rules, assignment rules, leads, and what happened to each lead
(events, follow-ups, extension requests)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKeyConstraint, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db.base import MACHINERY, Audited, Base, TenantOwned, Timestamped
from portal.db.types import utcnow
from roles.records import ScopedRecord

LEAD_STATUSES = ("new", "pooled", "assigned", "converted", "closed")
STRATEGIES = ("round_robin", "capacity", "pool")
FOLLOW_UP_KINDS = ("call", "visit", "message")
EXTENSION_STATUSES = ("pending", "approved", "rejected")
# What a lead's timeline records; "claimed", "returned" and "recycled" also drive the daily claim limit
# and the cooldown.
EVENT_ACTIONS = (
    "created",
    "assigned",
    "pooled",
    "claimed",
    "returned",
    "recycled",
    "noticed",
    "followed_up",
    "converted",
    "extended",
)


def _link_key(column: str) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["tenant_id", column], ["enterprise_links.tenant_id", "enterprise_links.id"], ondelete="RESTRICT"
    )


class LeadPool(TenantOwned, Timestamped, Audited, Base):
    """A pool and its rules. Partners of `partner_type_id` (any type when NULL) whose enterprise is in
    `region_id` (any region when NULL) claim its unclaimed leads, seeing only `visible_fields` of them
    until they do. Limits left NULL do not apply."""

    __tablename__ = "agent_lead_pools"
    __table_args__ = (
        CheckConstraint(
            "coalesce(enterprise_limit, 1) > 0 AND coalesce(person_limit, 1) > 0"
            " AND coalesce(daily_claim_limit, 1) > 0",
            name="limits",
        ),
        CheckConstraint(
            "cooldown_days >= 0 AND notice_days >= 0 AND coalesce(follow_up_days, 1) > 0"
            " AND coalesce(convert_days, 1) > 0",
            name="days",
        ),
    )

    name: Mapped[str] = mapped_column(String(100))
    partner_type_id: Mapped[uuid.UUID | None]
    region_id: Mapped[uuid.UUID | None]
    enterprise_limit: Mapped[int | None]
    person_limit: Mapped[int | None]
    daily_claim_limit: Mapped[int | None]
    visible_fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    cooldown_days: Mapped[int] = mapped_column(default=0)
    follow_up_days: Mapped[int | None]
    convert_days: Mapped[int | None]
    notice_days: Mapped[int] = mapped_column(default=1)
    active: Mapped[bool] = mapped_column(default=True)


class AssignmentRule(TenantOwned, Timestamped, Audited, Base):
    """One rule of the ordered list new leads go through: a lead matching its conditions (each NULL
    matches anything) goes to one of the active enterprises of the rule's partner type and tier in the
    lead's region (round-robin, or the one with most room under `capacity`), or with strategy "pool" into
    `pool_id`. A rule that finds no enterprise passes the lead on to the next: a last rule without
    conditions into a pool is the fallback. For enterprise strategies `pool_id` is the lead's home pool,
    whose rules recycle it."""

    __tablename__ = "agent_lead_rules"
    __table_args__ = (
        CheckConstraint("strategy IN ('round_robin', 'capacity', 'pool')", name="strategy"),
        CheckConstraint("strategy <> 'pool' OR pool_id IS NOT NULL", name="pool_target"),
        CheckConstraint("coalesce(capacity, 1) > 0", name="capacity"),
        Index("ix_agent_lead_rules_position", "tenant_id", "position"),
    )

    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(100))
    region_id: Mapped[uuid.UUID | None]
    product_line: Mapped[str | None] = mapped_column(String(80))
    partner_type_id: Mapped[uuid.UUID | None]
    tier_id: Mapped[uuid.UUID | None]
    strategy: Mapped[str] = mapped_column(String(16), default="round_robin")
    capacity: Mapped[int | None]
    pool_id: Mapped[uuid.UUID | None]
    cursor: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)


class Lead(TenantOwned, ScopedRecord, Timestamped, Audited, Base):
    """A lead. Unclaimed (new or pooled) it is the upstream's own (enterprise_id NULL, owned by who made
    it); assigned, enterprise_id is the partner holding it and owner_id the person who claimed it (the
    upstream's user when the upstream assigned it to the enterprise as a whole, holder_id then NULL),
    or, claimed by one of the upstream's staff, enterprise_id NULL and owner_id = holder_id that person.

    `follow_up_due` and `convert_due` are when the home pool's rules take it back; `next_check_at` is
    the next instant the recycling job must look at it (the notice, then the recycling): indexed, so a
    run reads only what is due."""

    __tablename__ = "agent_leads"
    __table_args__ = (
        _link_key("enterprise_id"),
        ForeignKeyConstraint(
            ["tenant_id", "pool_id"], ["agent_lead_pools.tenant_id", "agent_lead_pools.id"], ondelete="RESTRICT"
        ),
        CheckConstraint("status IN ('new', 'pooled', 'assigned', 'converted', 'closed')", name="status"),
        CheckConstraint("status <> 'pooled' OR pool_id IS NOT NULL", name="pooled_in_pool"),
        # held by a partner enterprise, or claimed by one of the upstream's staff for themselves
        CheckConstraint("status <> 'assigned' OR enterprise_id IS NOT NULL OR holder_id IS NOT NULL", name="held"),
        Index("ix_agent_leads_pool", "tenant_id", "pool_id", "status"),
        Index(
            "ix_agent_leads_next_check",
            "tenant_id",
            "next_check_at",
            postgresql_where=text("next_check_at IS NOT NULL"),
            sqlite_where=text("next_check_at IS NOT NULL"),
        ),
    )

    company_name: Mapped[str] = mapped_column(String(200))
    contact_name: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    region_id: Mapped[uuid.UUID | None]
    product_line: Mapped[str | None] = mapped_column(String(80))
    source: Mapped[str] = mapped_column(String(16), default="manual")
    notes: Mapped[str | None] = mapped_column(String(2000))
    status: Mapped[str] = mapped_column(String(16), default="new")
    pool_id: Mapped[uuid.UUID | None]
    holder_id: Mapped[uuid.UUID | None]
    assigned_at: Mapped[datetime | None]
    last_follow_up_at: Mapped[datetime | None]
    follow_up_due: Mapped[datetime | None]
    convert_due: Mapped[datetime | None]
    noticed: Mapped[bool] = mapped_column(default=False, info=MACHINERY)
    next_check_at: Mapped[datetime | None] = mapped_column(info=MACHINERY)
    converted_at: Mapped[datetime | None]
    created_by: Mapped[uuid.UUID]


Index("ix_agent_leads_enterprise", Lead.tenant_id, Lead.enterprise_id, Lead.created_at.desc())
Index("ix_agent_leads_owner", Lead.tenant_id, Lead.owner_id, Lead.created_at.desc())
Index("ix_agent_leads_created", Lead.tenant_id, Lead.created_at.desc())


class LeadEvent(TenantOwned, Base):
    """One step of a lead's history. `enterprise_id` is the partner concerned (who claimed, returned or
    lost it): the cooldown and the daily claim limit are read from here."""

    __tablename__ = "agent_lead_events"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "lead_id"], ["agent_leads.tenant_id", "agent_leads.id"], ondelete="CASCADE"),
        Index("ix_agent_lead_events_lead", "tenant_id", "lead_id", "at"),
        Index("ix_agent_lead_events_actor", "tenant_id", "actor_id", "action", "at"),
        # the dashboard's recycling figures: one action over a period
        Index("ix_agent_lead_events_action", "tenant_id", "action", "at"),
    )

    lead_id: Mapped[uuid.UUID]
    action: Mapped[str] = mapped_column(String(16))
    actor_kind: Mapped[str] = mapped_column(String(16))  # internal | external | system
    actor_id: Mapped[uuid.UUID | None]
    enterprise_id: Mapped[uuid.UUID | None]
    # a note; for "recycled", why: no_follow_up or no_conversion (the job), redistributed (by hand)
    note: Mapped[str | None] = mapped_column(String(500))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class LeadFollowUp(TenantOwned, Base):
    """A call, visit or message on a lead, with the next step and its date; the upstream sees them all."""

    __tablename__ = "agent_lead_follow_ups"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "lead_id"], ["agent_leads.tenant_id", "agent_leads.id"], ondelete="CASCADE"),
        CheckConstraint("kind IN ('call', 'visit', 'message')", name="kind"),
        Index("ix_agent_lead_follow_ups_lead", "tenant_id", "lead_id", "created_at"),
        Index(
            "ix_agent_lead_follow_ups_remind",
            "tenant_id",
            "remind_on",
            postgresql_where=text("remind_on IS NOT NULL"),
            sqlite_where=text("remind_on IS NOT NULL"),
        ),
    )

    lead_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(String(2000))
    next_step: Mapped[str | None] = mapped_column(String(200))
    next_date: Mapped[date | None] = mapped_column(Date())
    # the next step's date until its author is reminded (the reminder job reads an index range of it)
    remind_on: Mapped[date | None] = mapped_column(Date(), info=MACHINERY)
    author_kind: Mapped[str] = mapped_column(String(16))
    author_id: Mapped[uuid.UUID]
    enterprise_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LeadExtension(TenantOwned, Timestamped, Audited, Base):
    """A holder's request for more time before the lead is recycled; the upstream approves or rejects."""

    __tablename__ = "agent_lead_extensions"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "lead_id"], ["agent_leads.tenant_id", "agent_leads.id"], ondelete="CASCADE"),
        CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status"),
        CheckConstraint("days > 0", name="days"),
        Index("ix_agent_lead_extensions_status", "tenant_id", "status", "created_at"),
    )

    lead_id: Mapped[uuid.UUID]
    enterprise_id: Mapped[uuid.UUID]
    requested_by: Mapped[uuid.UUID]
    days: Mapped[int]
    reason: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    decided_by: Mapped[uuid.UUID | None]
    decided_at: Mapped[datetime | None]


def values(row: Any, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(row, name) for name in names}
