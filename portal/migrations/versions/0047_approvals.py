"""approvals: one engine for every app's approvals

Flows per kind of subject (conditions: amount from, partner type, tier, region; steps by a role or a
named person, with conditions of their own), requests with their steps and timeline, delegates while
someone is away. Ordering's approval rules become the steps of one flow "Order approval" per tenant
(their ids kept), and each order's approval steps a request (its id the order's, the steps' ids kept);
registrations in conflict and extensions waiting for a decision get a request with one step anyone who
may decide registrations takes. Then ordering's two approval tables go. Frozen here as they are at this
revision.

Revision ID: 0047_approvals
Revises: 0043_deal_registration
Create Date: 2026-12-04 23:45:00
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

import portal.db.types
from portal.db import rls

revision = "0047_approvals"
down_revision = "0046_sync_peers"
branch_labels = None
depends_on = None

TABLES = (
    "approval_requests",
    "approval_delegations",
    "approval_events",
    "approval_flows",
    "approval_request_steps",
    "approval_flow_steps",
)
KEY, TEXT, NUMBER, FLAG = sa.Uuid(), sa.String(), sa.Integer(), sa.Boolean()
MONEY = portal.db.types.Money(precision=18, scale=4)
STAMP = portal.db.types.UTCDateTime(timezone=True)
ORDER_KIND, FLOW_NAME = "ordering.order", "Order approval"


def _table(table_name: str, /, **columns: sa.types.TypeEngine[Any]) -> sa.TableClause:
    return sa.table(table_name, *(sa.column(column, kind) for column, kind in columns.items()))


RULES = _table(
    "ordering_approval_rules",
    tenant_id=KEY,
    id=KEY,
    name=TEXT,
    step=NUMBER,
    role_key=TEXT,
    min_amount=MONEY,
    partner_type_id=KEY,
    active=FLAG,
    created_at=STAMP,
    updated_at=STAMP,
)
ORDER_STEPS = _table(
    "ordering_order_approvals",
    tenant_id=KEY,
    id=KEY,
    order_id=KEY,
    step=NUMBER,
    role_key=TEXT,
    reason_code=TEXT,
    status=TEXT,
    decided_by=KEY,
    decided_by_name=TEXT,
    decided_at=STAMP,
    comment=TEXT,
)
ORDERS = _table(
    "ordering_orders",
    tenant_id=KEY,
    id=KEY,
    number=TEXT,
    status=TEXT,
    total=MONEY,
    currency=TEXT,
    enterprise_id=KEY,
    created_by=KEY,
    created_at=STAMP,
    submitted_at=STAMP,
)
DEALS = _table(
    "agent_deals",
    tenant_id=KEY,
    id=KEY,
    customer_name=TEXT,
    amount=MONEY,
    currency=TEXT,
    enterprise_id=KEY,
    created_by=KEY,
    created_at=STAMP,
    registration=TEXT,
    extension=TEXT,
)
FLOWS = _table(
    "approval_flows",
    tenant_id=KEY,
    id=KEY,
    kind=TEXT,
    name=TEXT,
    position=NUMBER,
    min_amount=MONEY,
    active=FLAG,
    created_at=STAMP,
    updated_at=STAMP,
)
FLOW_STEPS = _table(
    "approval_flow_steps",
    tenant_id=KEY,
    id=KEY,
    flow_id=KEY,
    step=NUMBER,
    name=TEXT,
    role_key=TEXT,
    min_amount=MONEY,
    partner_type_id=KEY,
    active=FLAG,
    created_at=STAMP,
    updated_at=STAMP,
)
REQUESTS = _table(
    "approval_requests",
    tenant_id=KEY,
    id=KEY,
    kind=TEXT,
    subject_id=KEY,
    title=TEXT,
    flow_name=TEXT,
    status=TEXT,
    current_step=NUMBER,
    amount=MONEY,
    currency=TEXT,
    enterprise_id=KEY,
    requested_by=KEY,
    decided_at=STAMP,
    created_at=STAMP,
    updated_at=STAMP,
)
REQUEST_STEPS = _table(
    "approval_request_steps",
    tenant_id=KEY,
    id=KEY,
    request_id=KEY,
    step=NUMBER,
    role_key=TEXT,
    reason=TEXT,
    status=TEXT,
    decided_by=KEY,
    decided_by_name=TEXT,
    decided_at=STAMP,
    comment=TEXT,
)


def upgrade() -> None:
    op.create_table(
        "approval_requests",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("flow_name", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("current_step", sa.Integer(), nullable=False),
        sa.Column("amount", portal.db.types.Money(precision=18, scale=4), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("enterprise_id", sa.Uuid(), nullable=True),
        sa.Column("requested_by", sa.Uuid(), nullable=True),
        sa.Column("requested_by_name", sa.String(length=200), nullable=True),
        sa.Column("decided_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected', 'withdrawn')", name=op.f("ck_approval_requests_status")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_approval_requests_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_approval_requests")),
    )
    with op.batch_alter_table("approval_requests", schema=None) as batch_op:
        batch_op.create_index("ix_approval_requests_status", ["tenant_id", "status", "created_at"], unique=False)
        batch_op.create_index("ix_approval_requests_subject", ["tenant_id", "kind", "subject_id"], unique=False)

    op.create_table(
        "approval_delegations",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("delegate_id", sa.Uuid(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("ends_on >= starts_on", name=op.f("ck_approval_delegations_days")),
        sa.CheckConstraint("user_id <> delegate_id", name=op.f("ck_approval_delegations_self")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "delegate_id"],
            ["internal_users.tenant_id", "internal_users.id"],
            name=op.f("fk_approval_delegations_tenant_id_delegate_id_internal_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "user_id"],
            ["internal_users.tenant_id", "internal_users.id"],
            name=op.f("fk_approval_delegations_tenant_id_user_id_internal_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_approval_delegations_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_approval_delegations")),
    )
    with op.batch_alter_table("approval_delegations", schema=None) as batch_op:
        batch_op.create_index("ix_approval_delegations_delegate", ["tenant_id", "delegate_id", "ends_on"], unique=False)
        batch_op.create_index("ix_approval_delegations_user", ["tenant_id", "user_id"], unique=False)

    op.create_table(
        "approval_events",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=12), nullable=False),
        sa.Column("step", sa.Integer(), nullable=True),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_name", sa.String(length=200), nullable=True),
        sa.Column("on_behalf_of", sa.Uuid(), nullable=True),
        sa.Column("on_behalf_of_name", sa.String(length=200), nullable=True),
        sa.Column("comment", sa.String(length=1000), nullable=True),
        sa.CheckConstraint("action IN ('approved', 'rejected', 'commented')", name=op.f("ck_approval_events_action")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "request_id"],
            ["approval_requests.tenant_id", "approval_requests.id"],
            name=op.f("fk_approval_events_tenant_id_request_id_approval_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_approval_events_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_approval_events")),
    )
    with op.batch_alter_table("approval_events", schema=None) as batch_op:
        batch_op.create_index("ix_approval_events_request", ["tenant_id", "request_id", "at"], unique=False)

    op.create_table(
        "approval_flows",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("min_amount", portal.db.types.Money(precision=18, scale=4), nullable=True),
        sa.Column("partner_type_id", sa.Uuid(), nullable=True),
        sa.Column("tier_id", sa.Uuid(), nullable=True),
        sa.Column("region_id", sa.Uuid(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("min_amount IS NULL OR min_amount >= 0", name=op.f("ck_approval_flows_min_amount")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "partner_type_id"],
            ["partner_types.tenant_id", "partner_types.id"],
            name=op.f("fk_approval_flows_tenant_id_partner_type_id_partner_types"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "region_id"],
            ["regions.tenant_id", "regions.id"],
            name=op.f("fk_approval_flows_tenant_id_region_id_regions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "tier_id"],
            ["partner_tiers.tenant_id", "partner_tiers.id"],
            name=op.f("fk_approval_flows_tenant_id_tier_id_partner_tiers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_approval_flows_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_approval_flows")),
    )
    with op.batch_alter_table("approval_flows", schema=None) as batch_op:
        batch_op.create_index("ix_approval_flows_kind", ["tenant_id", "kind", "position"], unique=False)

    op.create_table(
        "approval_request_steps",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=True),
        sa.Column("role_key", sa.String(length=64), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("decided_by_name", sa.String(length=200), nullable=True),
        sa.Column("on_behalf_of", sa.Uuid(), nullable=True),
        sa.Column("on_behalf_of_name", sa.String(length=200), nullable=True),
        sa.Column("decided_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("comment", sa.String(length=1000), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected')", name=op.f("ck_approval_request_steps_status")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "request_id"],
            ["approval_requests.tenant_id", "approval_requests.id"],
            name=op.f("fk_approval_request_steps_tenant_id_request_id_approval_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_approval_request_steps_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_approval_request_steps")),
        sa.UniqueConstraint(
            "tenant_id", "request_id", "step", name=op.f("uq_approval_request_steps_tenant_id_request_id_step")
        ),
    )
    op.create_table(
        "approval_flow_steps",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("flow_id", sa.Uuid(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("role_key", sa.String(length=64), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("min_amount", portal.db.types.Money(precision=18, scale=4), nullable=False),
        sa.Column("partner_type_id", sa.Uuid(), nullable=True),
        sa.Column("tier_id", sa.Uuid(), nullable=True),
        sa.Column("region_id", sa.Uuid(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("min_amount >= 0", name=op.f("ck_approval_flow_steps_min_amount")),
        sa.CheckConstraint("role_key IS NULL OR user_id IS NULL", name=op.f("ck_approval_flow_steps_approver")),
        sa.CheckConstraint("step >= 1", name=op.f("ck_approval_flow_steps_step")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "flow_id"],
            ["approval_flows.tenant_id", "approval_flows.id"],
            name=op.f("fk_approval_flow_steps_tenant_id_flow_id_approval_flows"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "partner_type_id"],
            ["partner_types.tenant_id", "partner_types.id"],
            name=op.f("fk_approval_flow_steps_tenant_id_partner_type_id_partner_types"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "region_id"],
            ["regions.tenant_id", "regions.id"],
            name=op.f("fk_approval_flow_steps_tenant_id_region_id_regions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "tier_id"],
            ["partner_tiers.tenant_id", "partner_tiers.id"],
            name=op.f("fk_approval_flow_steps_tenant_id_tier_id_partner_tiers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "user_id"],
            ["internal_users.tenant_id", "internal_users.id"],
            name=op.f("fk_approval_flow_steps_tenant_id_user_id_internal_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_approval_flow_steps_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_approval_flow_steps")),
    )
    with op.batch_alter_table("approval_flow_steps", schema=None) as batch_op:
        batch_op.create_index("ix_approval_flow_steps_flow", ["tenant_id", "flow_id", "step"], unique=False)

    for table in TABLES:
        rls.tenant_table(table)
    bind = op.get_bind()
    with rls.as_system_role():
        _flows(bind)
        _order_requests(bind)
        _deal_requests(bind)
    with op.batch_alter_table("ordering_approval_rules", schema=None) as batch_op:
        batch_op.drop_index("ix_ordering_approval_rules_step")
    op.drop_table("ordering_approval_rules")
    op.drop_table("ordering_order_approvals")


def _flows(bind: sa.Connection) -> None:
    """Each tenant's approval rules: the steps of its flow "Order approval"."""
    now = datetime.now(UTC)
    flows: dict[uuid.UUID, uuid.UUID] = {}
    for rule in bind.execute(sa.select(RULES).order_by(RULES.c.tenant_id, RULES.c.step)).all():
        if rule.tenant_id not in flows:
            flows[rule.tenant_id] = uuid.uuid4()
            bind.execute(
                FLOWS.insert().values(
                    tenant_id=rule.tenant_id,
                    id=flows[rule.tenant_id],
                    kind=ORDER_KIND,
                    name=FLOW_NAME,
                    position=1,
                    min_amount=None,
                    active=True,
                    created_at=now,
                    updated_at=now,
                )
            )
        bind.execute(
            FLOW_STEPS.insert().values(
                tenant_id=rule.tenant_id,
                id=rule.id,
                flow_id=flows[rule.tenant_id],
                step=rule.step,
                name=rule.name,
                role_key=None if rule.role_key == "*" else rule.role_key,
                min_amount=rule.min_amount,
                partner_type_id=rule.partner_type_id,
                active=rule.active,
                created_at=rule.created_at,
                updated_at=rule.updated_at,
            )
        )


def _order_requests(bind: sa.Connection) -> None:
    """Each order's approval steps: a request whose id is the order's."""
    steps: dict[tuple[uuid.UUID, uuid.UUID], list[Any]] = {}
    for row in bind.execute(sa.select(ORDER_STEPS).order_by(ORDER_STEPS.c.order_id, ORDER_STEPS.c.step)).all():
        steps.setdefault((row.tenant_id, row.order_id), []).append(row)
    if not steps:
        return
    for order in bind.execute(sa.select(ORDERS)).all():
        found = steps.get((order.tenant_id, order.id))
        if not found:
            continue
        pending = [s for s in found if s.status == "pending"]
        decided = [s.decided_at for s in found if s.decided_at is not None]
        if any(s.status == "rejected" for s in found):
            status = "rejected"
        elif not pending:
            status = "approved"
        elif order.status == "submitted":
            status = "pending"
        else:
            status = "withdrawn"
        opened = order.submitted_at or order.created_at
        bind.execute(
            REQUESTS.insert().values(
                tenant_id=order.tenant_id,
                id=order.id,
                kind=ORDER_KIND,
                subject_id=order.id,
                title=order.number,
                flow_name=FLOW_NAME,
                status=status,
                current_step=pending[0].step if pending else found[-1].step,
                amount=order.total,
                currency=order.currency,
                enterprise_id=order.enterprise_id,
                requested_by=order.created_by,
                decided_at=None if status == "pending" else (max(decided) if decided else opened),
                created_at=opened,
                updated_at=max(decided) if decided else opened,
            )
        )
        for s in found:
            bind.execute(
                REQUEST_STEPS.insert().values(
                    tenant_id=s.tenant_id,
                    id=s.id,
                    request_id=order.id,
                    step=s.step,
                    role_key=None if s.role_key == "*" else s.role_key,
                    reason=s.reason_code,
                    status=s.status,
                    decided_by=s.decided_by,
                    decided_by_name=s.decided_by_name,
                    decided_at=s.decided_at,
                    comment=s.comment,
                )
            )


def _deal_requests(bind: sa.Connection) -> None:
    """Registrations in conflict and extensions waiting: a request with one step for the channel manager."""
    now = datetime.now(UTC)
    waiting = sa.or_(DEALS.c.registration == "conflict", DEALS.c.extension == "pending")
    for deal in bind.execute(sa.select(DEALS).where(waiting)).all():
        kinds = []
        if deal.registration == "conflict":
            kinds.append("agent.registration")
        if deal.extension == "pending":
            kinds.append("agent.extension")
        for kind in kinds:
            request_id = uuid.uuid4()
            bind.execute(
                REQUESTS.insert().values(
                    tenant_id=deal.tenant_id,
                    id=request_id,
                    kind=kind,
                    subject_id=deal.id,
                    title=deal.customer_name[:200],
                    flow_name=None,
                    status="pending",
                    current_step=1,
                    amount=deal.amount,
                    currency=deal.currency,
                    enterprise_id=deal.enterprise_id,
                    requested_by=deal.created_by,
                    decided_at=None,
                    created_at=deal.created_at if kind == "agent.registration" else now,
                    updated_at=now,
                )
            )
            bind.execute(
                REQUEST_STEPS.insert().values(
                    tenant_id=deal.tenant_id,
                    id=uuid.uuid4(),
                    request_id=request_id,
                    step=1,
                    role_key=None,
                    reason="rule",
                    status="pending",
                )
            )


def downgrade() -> None:
    _ordering_tables()
    for table in ("ordering_approval_rules", "ordering_order_approvals"):
        rls.tenant_table(table)
    bind = op.get_bind()
    with rls.as_system_role():
        flow_steps = sa.select(FLOW_STEPS).join(
            FLOWS, sa.and_(FLOWS.c.tenant_id == FLOW_STEPS.c.tenant_id, FLOWS.c.id == FLOW_STEPS.c.flow_id)
        )
        for s in bind.execute(flow_steps.where(FLOWS.c.kind == ORDER_KIND)).all():
            bind.execute(
                RULES.insert().values(
                    tenant_id=s.tenant_id,
                    id=s.id,
                    name=s.name,
                    step=s.step,
                    role_key=s.role_key or "admin",
                    min_amount=s.min_amount,
                    partner_type_id=s.partner_type_id,
                    active=s.active,
                    created_at=s.created_at,
                    updated_at=s.updated_at,
                )
            )
        request_steps = sa.select(REQUEST_STEPS, REQUESTS.c.subject_id).join(
            REQUESTS,
            sa.and_(REQUESTS.c.tenant_id == REQUEST_STEPS.c.tenant_id, REQUESTS.c.id == REQUEST_STEPS.c.request_id),
        )
        for s in bind.execute(request_steps.where(REQUESTS.c.kind == ORDER_KIND)).all():
            bind.execute(
                ORDER_STEPS.insert().values(
                    tenant_id=s.tenant_id,
                    id=s.id,
                    order_id=s.subject_id,
                    step=s.step,
                    role_key=s.role_key or "*",
                    reason_code=s.reason,
                    status=s.status,
                    decided_by=s.decided_by,
                    decided_by_name=s.decided_by_name,
                    decided_at=s.decided_at,
                    comment=s.comment,
                )
            )
    with op.batch_alter_table("approval_flow_steps", schema=None) as batch_op:
        batch_op.drop_index("ix_approval_flow_steps_flow")

    op.drop_table("approval_flow_steps")
    op.drop_table("approval_request_steps")
    with op.batch_alter_table("approval_flows", schema=None) as batch_op:
        batch_op.drop_index("ix_approval_flows_kind")

    op.drop_table("approval_flows")
    with op.batch_alter_table("approval_events", schema=None) as batch_op:
        batch_op.drop_index("ix_approval_events_request")

    op.drop_table("approval_events")
    with op.batch_alter_table("approval_delegations", schema=None) as batch_op:
        batch_op.drop_index("ix_approval_delegations_user")
        batch_op.drop_index("ix_approval_delegations_delegate")

    op.drop_table("approval_delegations")
    with op.batch_alter_table("approval_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_approval_requests_subject")
        batch_op.drop_index("ix_approval_requests_status")

    op.drop_table("approval_requests")


def _ordering_tables() -> None:
    op.create_table(
        "ordering_approval_rules",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("role_key", sa.String(length=64), nullable=False),
        sa.Column("min_amount", portal.db.types.Money(precision=18, scale=4), nullable=False),
        sa.Column("partner_type_id", sa.Uuid(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("min_amount >= 0", name=op.f("ck_ordering_approval_rules_min_amount")),
        sa.CheckConstraint("step >= 1", name=op.f("ck_ordering_approval_rules_step")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "partner_type_id"],
            ["partner_types.tenant_id", "partner_types.id"],
            name=op.f("fk_ordering_approval_rules_tenant_id_partner_type_id_partner_types"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_ordering_approval_rules_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_ordering_approval_rules")),
    )
    with op.batch_alter_table("ordering_approval_rules", schema=None) as batch_op:
        batch_op.create_index("ix_ordering_approval_rules_step", ["tenant_id", "step"], unique=False)
    op.create_table(
        "ordering_order_approvals",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("role_key", sa.String(length=64), nullable=False),
        sa.Column("reason_code", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("decided_by_name", sa.String(length=200), nullable=True),
        sa.Column("decided_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("comment", sa.String(length=1000), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected')", name=op.f("ck_ordering_order_approvals_status")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "order_id"],
            ["ordering_orders.tenant_id", "ordering_orders.id"],
            name=op.f("fk_ordering_order_approvals_tenant_id_order_id_ordering_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_ordering_order_approvals_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_ordering_order_approvals")),
        sa.UniqueConstraint(
            "tenant_id", "order_id", "step", name=op.f("uq_ordering_order_approvals_tenant_id_order_id_step")
        ),
    )
