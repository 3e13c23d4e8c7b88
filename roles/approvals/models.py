"""The approvals engine's tables: flows per subject kind (conditions, steps), the requests opened on
subjects with their steps and timeline, and people's delegates while they are away."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKeyConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db.base import Audited, Base, TenantOwned, Timestamped
from portal.db.types import utcnow

REQUEST_STATUSES = ("pending", "approved", "rejected", "withdrawn")
STEP_STATUSES = ("pending", "approved", "rejected")
EVENT_ACTIONS = ("approved", "rejected", "commented")


def _ref(columns: list[str], table: str, ondelete: str = "CASCADE") -> ForeignKeyConstraint:
    """A same-tenant reference: the composite key makes a cross-tenant link impossible in the schema."""
    return ForeignKeyConstraint(["tenant_id", *columns], [f"{table}.tenant_id", f"{table}.id"], ondelete=ondelete)


class ApprovalFlow(TenantOwned, Timestamped, Audited, Base):
    """How one kind of subject (`kind`: "ordering.order", "agent.registration", ...) is approved in a
    tenant. Of a kind's active flows the first by `position` whose conditions the subject meets is used;
    a condition left empty holds for every subject."""

    __tablename__ = "approval_flows"
    __table_args__ = (
        _ref(["partner_type_id"], "partner_types"),
        _ref(["tier_id"], "partner_tiers"),
        _ref(["region_id"], "regions"),
        Index("ix_approval_flows_kind", "tenant_id", "kind", "position"),
        CheckConstraint("min_amount IS NULL OR min_amount >= 0", name="min_amount"),
    )

    kind: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(default=1)
    min_amount: Mapped[Decimal | None]
    partner_type_id: Mapped[uuid.UUID | None]
    tier_id: Mapped[uuid.UUID | None]
    region_id: Mapped[uuid.UUID | None]
    active: Mapped[bool] = mapped_column(default=True)


class ApprovalFlowStep(TenantOwned, Timestamped, Audited, Base):
    """One step of a flow, taken by a holder of `role_key`, by the person `user_id`, or (neither) by
    anyone who may approve the kind. A step has conditions of its own: a subject takes every step of its
    flow whose conditions it meets, in step order; of steps sharing a number, the one with the highest
    amount from it meets."""

    __tablename__ = "approval_flow_steps"
    __table_args__ = (
        _ref(["flow_id"], "approval_flows"),
        _ref(["user_id"], "internal_users"),
        _ref(["partner_type_id"], "partner_types"),
        _ref(["tier_id"], "partner_tiers"),
        _ref(["region_id"], "regions"),
        Index("ix_approval_flow_steps_flow", "tenant_id", "flow_id", "step"),
        CheckConstraint("step >= 1", name="step"),
        CheckConstraint("min_amount >= 0", name="min_amount"),
        CheckConstraint("role_key IS NULL OR user_id IS NULL", name="approver"),
    )

    flow_id: Mapped[uuid.UUID]
    step: Mapped[int] = mapped_column(default=1)
    name: Mapped[str] = mapped_column(String(100))
    role_key: Mapped[str | None] = mapped_column(String(64))
    user_id: Mapped[uuid.UUID | None]
    min_amount: Mapped[Decimal] = mapped_column(default=Decimal(0))
    partner_type_id: Mapped[uuid.UUID | None]
    tier_id: Mapped[uuid.UUID | None]
    region_id: Mapped[uuid.UUID | None]
    active: Mapped[bool] = mapped_column(default=True)


class ApprovalRequest(TenantOwned, Timestamped, Base):
    """A subject (`kind`, `subject_id`) going through its flow. `title` is how the subject's app described
    it when the request opened; `current_step` is the step waiting for a decision while pending. A
    rejection at any step ends the request; `withdrawn`: its app ended it otherwise (an order
    cancelled, a registration settled by another's approval)."""

    __tablename__ = "approval_requests"
    __table_args__ = (
        Index("ix_approval_requests_subject", "tenant_id", "kind", "subject_id"),
        Index("ix_approval_requests_status", "tenant_id", "status", "created_at"),
        CheckConstraint("status IN ('pending', 'approved', 'rejected', 'withdrawn')", name="status"),
    )

    kind: Mapped[str] = mapped_column(String(64))
    subject_id: Mapped[uuid.UUID]
    title: Mapped[str] = mapped_column(String(200))
    flow_name: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(12), default="pending")
    current_step: Mapped[int] = mapped_column(default=1)
    amount: Mapped[Decimal | None]
    currency: Mapped[str | None] = mapped_column(String(3))
    enterprise_id: Mapped[uuid.UUID | None]
    requested_by: Mapped[uuid.UUID | None]
    requested_by_name: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None]


class ApprovalRequestStep(TenantOwned, Base):
    """One step a request must pass, as its flow (or its app: an order over its credit limit) asked:
    taken by a holder of `role_key`, by `user_id`, or by anyone who may approve the kind. Taken by
    `decided_by`, on behalf of `on_behalf_of` when a delegate took it."""

    __tablename__ = "approval_request_steps"
    __table_args__ = (
        _ref(["request_id"], "approval_requests"),
        UniqueConstraint("tenant_id", "request_id", "step"),
        CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status"),
    )

    request_id: Mapped[uuid.UUID]
    step: Mapped[int]
    name: Mapped[str | None] = mapped_column(String(100))
    role_key: Mapped[str | None] = mapped_column(String(64))
    user_id: Mapped[uuid.UUID | None]
    reason: Mapped[str] = mapped_column(String(20), default="rule")
    status: Mapped[str] = mapped_column(String(12), default="pending")
    decided_by: Mapped[uuid.UUID | None]
    decided_by_name: Mapped[str | None] = mapped_column(String(200))
    on_behalf_of: Mapped[uuid.UUID | None]
    on_behalf_of_name: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None]
    comment: Mapped[str | None] = mapped_column(String(1000))


class ApprovalEvent(TenantOwned, Base):
    """The request's timeline beyond its opening: every decision and comment, who made it, for whom."""

    __tablename__ = "approval_events"
    __table_args__ = (
        _ref(["request_id"], "approval_requests"),
        Index("ix_approval_events_request", "tenant_id", "request_id", "at"),
        CheckConstraint("action IN ('approved', 'rejected', 'commented')", name="action"),
    )

    request_id: Mapped[uuid.UUID]
    at: Mapped[datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String(12))
    step: Mapped[int | None]
    actor_id: Mapped[uuid.UUID | None]
    actor_name: Mapped[str | None] = mapped_column(String(200))
    on_behalf_of: Mapped[uuid.UUID | None]
    on_behalf_of_name: Mapped[str | None] = mapped_column(String(200))
    comment: Mapped[str | None] = mapped_column(String(1000))


class ApprovalDelegation(TenantOwned, Timestamped, Audited, Base):
    """While `user_id` is away (from `starts_on` to `ends_on`, days in the tenant's time zone), `delegate_id`
    sees and takes the steps that are theirs, recorded as on their behalf."""

    __tablename__ = "approval_delegations"
    __table_args__ = (
        _ref(["user_id"], "internal_users"),
        _ref(["delegate_id"], "internal_users"),
        Index("ix_approval_delegations_delegate", "tenant_id", "delegate_id", "ends_on"),
        Index("ix_approval_delegations_user", "tenant_id", "user_id"),
        CheckConstraint("user_id <> delegate_id", name="self"),
        CheckConstraint("ends_on >= starts_on", name="days"),
    )

    user_id: Mapped[uuid.UUID]
    delegate_id: Mapped[uuid.UUID]
    starts_on: Mapped[date] = mapped_column(Date())
    ends_on: Mapped[date] = mapped_column(Date())
