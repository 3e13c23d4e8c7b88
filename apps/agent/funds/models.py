"""The fund tables: budgets and the requests drawn on them."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKeyConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db.base import Audited, Base, TenantOwned, Timestamped

# requested -> approved (reserved on a budget) or rejected; approved -> claimed (with proof);
# claimed -> paid
REQUEST_STATUSES = ("requested", "approved", "rejected", "claimed", "paid")


class FundBudget(TenantOwned, Timestamped, Audited, Base):
    """What may be spent from `starts_on` to `ends_on` (inclusive), for the partners of `tier_id` (every
    partner when NULL). `reserved` is what approved requests hold (paid ones included), `paid` what was
    paid out of it: reserved never passes the amount, paid never passes reserved."""

    __tablename__ = "agent_fund_budgets"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "tier_id"], ["partner_tiers.tenant_id", "partner_tiers.id"]),
        CheckConstraint("amount >= 0 AND reserved >= 0 AND paid >= 0", name="amounts"),
        CheckConstraint("reserved <= amount AND paid <= reserved", name="within"),
        CheckConstraint("starts_on <= ends_on", name="period"),
        Index("ix_agent_fund_budgets_period", "tenant_id", "starts_on"),
    )

    name: Mapped[str] = mapped_column(String(100))
    starts_on: Mapped[date] = mapped_column(Date())
    ends_on: Mapped[date] = mapped_column(Date())
    tier_id: Mapped[uuid.UUID | None]
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    reserved: Mapped[Decimal] = mapped_column(default=Decimal(0))
    paid: Mapped[Decimal] = mapped_column(default=Decimal(0))


class FundRequest(TenantOwned, Timestamped, Audited, Base):
    """A partner's request for funds. The partner sets `amount` (asked) and, claiming, `claimed_amount`
    (at most the approved amount); the upstream sets `approved_amount` and `paid_amount`. The proof is a
    stored file (portal.storage) owned by the request."""

    __tablename__ = "agent_fund_requests"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "enterprise_id"], ["enterprise_links.tenant_id", "enterprise_links.id"], ondelete="RESTRICT"
        ),
        ForeignKeyConstraint(
            ["tenant_id", "budget_id"], ["agent_fund_budgets.tenant_id", "agent_fund_budgets.id"], ondelete="RESTRICT"
        ),
        CheckConstraint("status IN ('requested', 'approved', 'rejected', 'claimed', 'paid')", name="status"),
        CheckConstraint(
            "amount > 0 AND coalesce(approved_amount, 0) >= 0 AND coalesce(claimed_amount, 0) >= 0"
            " AND coalesce(paid_amount, 0) >= 0",
            name="amounts",
        ),
        CheckConstraint("claimed_amount IS NULL OR claimed_amount <= approved_amount", name="claim_within_approval"),
        CheckConstraint("paid_amount IS NULL OR paid_amount <= claimed_amount", name="paid_within_claim"),
        Index("ix_agent_fund_requests_enterprise", "tenant_id", "enterprise_id", "created_at"),
        Index("ix_agent_fund_requests_status", "tenant_id", "status"),
    )

    enterprise_id: Mapped[uuid.UUID]
    requested_by: Mapped[uuid.UUID]
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    purpose: Mapped[str] = mapped_column(String(2000))
    status: Mapped[str] = mapped_column(String(12), default="requested")
    budget_id: Mapped[uuid.UUID | None]
    approved_amount: Mapped[Decimal | None]
    decision_note: Mapped[str | None] = mapped_column(String(1000))
    decided_by: Mapped[uuid.UUID | None]
    decided_at: Mapped[datetime | None]
    claimed_amount: Mapped[Decimal | None]
    claim_note: Mapped[str | None] = mapped_column(String(2000))
    claimed_at: Mapped[datetime | None]
    paid_amount: Mapped[Decimal | None]
    paid_by: Mapped[uuid.UUID | None]
    paid_at: Mapped[datetime | None]
    # the payment is on the partner's account (the ordering app's ledger), posted with the payment
    posted: Mapped[bool] = mapped_column(default=False)
