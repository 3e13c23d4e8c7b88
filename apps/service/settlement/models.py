"""Settlement of service partners' work: each tenant's fee schedule, which prices a closed ticket, and the
settlements that gather a partner's closed tickets of a period into a statement of lines, which the
partner reviews (and disputes line by line), staff answer, and the manufacturer approves."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKeyConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from apps.service.models import TICKET_TYPES
from portal.db.base import Audited, Base, TenantOwned, Timestamped
from roles.records import ScopedRecord

SETTLEMENT_STATUSES = ("review", "approved")
DISPUTE_STATUSES = ("none", "open", "adjusted", "rejected")


def _fk(columns: list[str], table: str, ondelete: str = "RESTRICT") -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["tenant_id", *columns], [f"{table}.tenant_id", f"{table}.id"], ondelete=ondelete)


def _in(column: str, values: tuple[str, ...]) -> CheckConstraint:
    return CheckConstraint(f"{column} IN ({', '.join(repr(v) for v in values)})", name=column)


class Fee(TenantOwned, Timestamped, Audited, Base):
    """What the manufacturer pays a partner for one closed ticket of a type: the labour and the travel
    (the parts are billed from what the ticket used: SettlementPart). region_id NULL is the fee of any
    region; a fee of the ticket's own region comes first."""

    __tablename__ = "service_fees"
    __table_args__ = (
        _fk(["region_id"], "regions"),
        _in("ticket_type", TICKET_TYPES),
        CheckConstraint("labour >= 0 AND travel >= 0", name="amounts"),
        # NULLs are distinct to a unique constraint: "any region" is kept single by the service's check
        UniqueConstraint("tenant_id", "ticket_type", "region_id"),
    )

    ticket_type: Mapped[str] = mapped_column(String(16))
    region_id: Mapped[uuid.UUID | None]
    labour: Mapped[Decimal]
    travel: Mapped[Decimal]


class Settlement(TenantOwned, ScopedRecord, Timestamped, Audited, Base):
    """One partner's statement for a period: enterprise_id is the partner (its people see it), owner_id
    the staff member who ran it. "review" until the manufacturer approves it; approving posts the total to
    the partner's account (apps.ordering.account) and is final. status is the mapper's version column, so
    of two approvals at once one goes through."""

    __tablename__ = "service_settlements"
    __table_args__ = (
        _fk(["enterprise_id"], "enterprise_links"),
        UniqueConstraint("tenant_id", "number"),
        _in("status", SETTLEMENT_STATUSES),
        CheckConstraint("period_start <= period_end", name="period"),
    )

    number: Mapped[str] = mapped_column(String(20))
    period_start: Mapped[date] = mapped_column(Date())
    period_end: Mapped[date] = mapped_column(Date())
    status: Mapped[str] = mapped_column(String(12), default="review")
    total: Mapped[Decimal]
    approved_at: Mapped[datetime | None]
    approved_by: Mapped[uuid.UUID | None]

    __mapper_args__ = {"version_id_col": status, "version_id_generator": False}


Index("ix_service_settlements_enterprise", Settlement.tenant_id, Settlement.enterprise_id, Settlement.created_at.desc())
Index("ix_service_settlements_owner", Settlement.tenant_id, Settlement.owner_id, Settlement.created_at.desc())
Index("ix_service_settlements_created", Settlement.tenant_id, Settlement.created_at.desc())


class SettlementLine(TenantOwned, Timestamped, Audited, Base):
    """One closed ticket in a settlement, priced by the fee schedule when the settlement was run. The
    unique ticket makes a ticket settled exactly once, whatever runs at the same time. A dispute is the
    partner's reason; staff answer it by adjusting the amounts or rejecting it. `parts` is the sum of the
    line's parts (SettlementPart) when it was run; lines run before parts were billed from use have none,
    their parts amount was the fee schedule's flat one."""

    __tablename__ = "service_settlement_lines"
    __table_args__ = (
        _fk(["settlement_id"], "service_settlements", "CASCADE"),
        _fk(["ticket_id"], "service_tickets"),
        UniqueConstraint("tenant_id", "ticket_id"),
        Index("ix_service_settlement_lines_settlement", "tenant_id", "settlement_id"),
        _in("dispute", DISPUTE_STATUSES),
        CheckConstraint("labour >= 0 AND travel >= 0 AND parts >= 0", name="amounts"),
    )

    settlement_id: Mapped[uuid.UUID]
    ticket_id: Mapped[uuid.UUID]
    # copied from the ticket, so the statement reads the same whatever happens to the ticket later
    ticket_number: Mapped[str] = mapped_column(String(20))
    ticket_type: Mapped[str] = mapped_column(String(16))
    under_warranty: Mapped[bool | None]
    closed_at: Mapped[datetime]
    labour: Mapped[Decimal]
    travel: Mapped[Decimal]
    parts: Mapped[Decimal]
    amount: Mapped[Decimal]
    dispute: Mapped[str] = mapped_column(String(10), default="none")
    dispute_reason: Mapped[str | None] = mapped_column(String(1000))
    disputed_at: Mapped[datetime | None]
    answer: Mapped[str | None] = mapped_column(String(1000))
    answered_at: Mapped[datetime | None]


class SettlementPart(TenantOwned, Base):
    """A part the line's ticket used, as billed: the quantity fitted (the sum of its field entries), the
    unit price the catalog's base price list gave on the day the ticket closed (None: the catalog had no
    price for it, billed at 0) and the amount. Reimbursed only for a ticket under warranty: outside it the
    customer pays for the parts and the line has none. Copied, so the statement reads the same whatever
    happens to the catalog later."""

    __tablename__ = "service_settlement_parts"
    __table_args__ = (
        _fk(["line_id"], "service_settlement_lines", "CASCADE"),
        Index("ix_service_settlement_parts_line", "tenant_id", "line_id"),
        CheckConstraint("quantity > 0 AND amount >= 0", name="amounts"),
    )

    line_id: Mapped[uuid.UUID]
    product_id: Mapped[uuid.UUID | None]
    sku: Mapped[str | None] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int]
    unit_price: Mapped[Decimal | None]
    amount: Mapped[Decimal]
