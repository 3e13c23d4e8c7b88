"""The money side: credit limits, payments matched to orders, and each enterprise's account, a ledger
from which balances and statements are sums."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from apps.ordering.models.catalog import same_tenant
from portal.db.base import Audited, Base, TenantOwned, Timestamped
from portal.db.types import utcnow

PAYMENT_STATUSES = ("reported", "confirmed", "rejected")
ENTRY_KINDS = ("order", "payment", "reversal", "settlement", "commission", "fund")


class CreditLimit(TenantOwned, Timestamped, Audited, Base):
    """How much an enterprise may owe: open receivables plus orders awaiting approval plus the new
    order must stay within it. No row means no limit."""

    __tablename__ = "ordering_credit_limits"
    __table_args__ = (
        same_tenant(["enterprise_id"], "enterprise_links", "CASCADE"),
        UniqueConstraint("tenant_id", "enterprise_id"),
        CheckConstraint("amount >= 0", name="amount"),
    )

    enterprise_id: Mapped[uuid.UUID]
    amount: Mapped[Decimal]


class Payment(TenantOwned, Timestamped, Audited, Base):
    """Money from an enterprise: recorded by staff (confirmed at once) or reported by the dealer and
    confirmed (or rejected) upstream. Only a confirmed payment is on the account and matched to orders."""

    __tablename__ = "ordering_payments"
    __table_args__ = (
        same_tenant(["enterprise_id"], "enterprise_links"),
        Index("ix_ordering_payments_enterprise", "tenant_id", "enterprise_id", "received_on"),
        Index("ix_ordering_payments_status", "tenant_id", "status"),
        CheckConstraint("amount > 0", name="amount"),
        CheckConstraint("status IN ('reported', 'confirmed', 'rejected')", name="status"),
    )

    enterprise_id: Mapped[uuid.UUID]
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    method: Mapped[str] = mapped_column(String(20), default="transfer")
    reference: Mapped[str | None] = mapped_column(String(100))
    received_on: Mapped[date] = mapped_column(Date())
    status: Mapped[str] = mapped_column(String(12), default="reported")
    note: Mapped[str | None] = mapped_column(String(1000))
    reported_by: Mapped[uuid.UUID]
    reported_by_kind: Mapped[str] = mapped_column(String(12))
    confirmed_by: Mapped[uuid.UUID | None]
    confirmed_at: Mapped[datetime | None]


class PaymentAllocation(TenantOwned, Base):
    """Part of a confirmed payment matched to an order's receivable."""

    __tablename__ = "ordering_payment_allocations"
    __table_args__ = (
        same_tenant(["payment_id"], "ordering_payments", "CASCADE"),
        same_tenant(["order_id"], "ordering_orders", "CASCADE"),
        UniqueConstraint("tenant_id", "payment_id", "order_id"),
        Index("ix_ordering_payment_allocations_order", "tenant_id", "order_id"),
        CheckConstraint("amount > 0", name="amount"),
    )

    payment_id: Mapped[uuid.UUID]
    order_id: Mapped[uuid.UUID]
    amount: Mapped[Decimal]


class AccountEntry(TenantOwned, Base):
    """One line of an enterprise's account: an approved order (debit), a confirmed payment (credit), the
        reversal of an order cancelled after approval (credit), a service settlement the manufacturer approved
        (credit: what it owes the partner for its service work, apps.service.settlement), or a commission
        statement the agent app approved (credit; a debit when its reversals outweigh it), or a market
    development fund claim the agent app paid (credit). Entries are never
        changed; the balance at any moment is SUM(debit - credit) up to it."""

    __tablename__ = "ordering_account_entries"
    __table_args__ = (
        same_tenant(["enterprise_id"], "enterprise_links"),
        same_tenant(["order_id"], "ordering_orders"),
        same_tenant(["payment_id"], "ordering_payments"),
        Index("ix_ordering_account_entries_enterprise", "tenant_id", "enterprise_id", "occurred_at"),
        CheckConstraint("kind IN ('order', 'payment', 'reversal', 'settlement', 'commission', 'fund')", name="kind"),
        CheckConstraint("debit >= 0 AND credit >= 0", name="amounts"),
    )

    enterprise_id: Mapped[uuid.UUID]
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(12))
    order_id: Mapped[uuid.UUID | None]
    payment_id: Mapped[uuid.UUID | None]
    description: Mapped[str] = mapped_column(String(200))
    debit: Mapped[Decimal] = mapped_column(default=Decimal(0))
    credit: Mapped[Decimal] = mapped_column(default=Decimal(0))
