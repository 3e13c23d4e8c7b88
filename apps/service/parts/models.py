"""Spare-parts stock per service partner and the partners' requests for more. Both are scoped records:
enterprise_id is the service partner, so a partner reads only its own (the data rules of
"partner.service.parts" and "partner.service.part_request")."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db.base import Audited, Base, TenantOwned, Timestamped
from portal.db.types import utcnow
from roles.records import ScopedRecord

REQUEST_STATUSES = ("requested", "approved", "shipped", "rejected")


def _fk(columns: list[str], table: str, ondelete: str = "RESTRICT") -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["tenant_id", *columns], [f"{table}.tenant_id", f"{table}.id"], ondelete=ondelete)


class PartStock(TenantOwned, ScopedRecord, Timestamped, Audited, Base):
    """How many of a catalog product a service partner holds on consignment. Never below zero: every
    decrease is one conditional UPDATE (`WHERE quantity >= n`), and the check constraint stands behind it."""

    __tablename__ = "service_part_stock"
    __table_args__ = (
        _fk(["enterprise_id"], "enterprise_links"),
        _fk(["product_id"], "ordering_products"),
        UniqueConstraint("tenant_id", "enterprise_id", "product_id"),
        CheckConstraint("quantity >= 0", name="quantity"),
    )

    product_id: Mapped[uuid.UUID]
    quantity: Mapped[int] = mapped_column(default=0)


Index("ix_service_part_stock_owner", PartStock.tenant_id, PartStock.owner_id, PartStock.created_at.desc())
Index("ix_service_part_stock_created", PartStock.tenant_id, PartStock.created_at.desc())


class PartRequest(TenantOwned, ScopedRecord, Timestamped, Audited, Base):
    """A partner asks the manufacturer for parts: requested, then approved (or rejected, with a reason),
    then shipped, which adds its lines to the partner's stock."""

    __tablename__ = "service_part_requests"
    __table_args__ = (
        _fk(["enterprise_id"], "enterprise_links"),
        CheckConstraint(f"status IN ({', '.join(repr(s) for s in REQUEST_STATUSES)})", name="status"),
    )

    status: Mapped[str] = mapped_column(String(12), default="requested")
    note: Mapped[str | None] = mapped_column(String(1000))
    reject_reason: Mapped[str | None] = mapped_column(String(1000))
    approved_at: Mapped[datetime | None]
    shipped_at: Mapped[datetime | None]
    rejected_at: Mapped[datetime | None]

    # the mapper's version column: of two decisions on one request at once only the first goes through
    __mapper_args__ = {"version_id_col": status, "version_id_generator": False}


Index(
    "ix_service_part_requests_enterprise",
    PartRequest.tenant_id,
    PartRequest.enterprise_id,
    PartRequest.created_at.desc(),
)
Index("ix_service_part_requests_owner", PartRequest.tenant_id, PartRequest.owner_id, PartRequest.created_at.desc())
Index("ix_service_part_requests_created", PartRequest.tenant_id, PartRequest.created_at.desc())


class PartRequestLine(TenantOwned, Audited, Base):
    __tablename__ = "service_part_request_lines"
    __table_args__ = (
        _fk(["request_id"], "service_part_requests", "CASCADE"),
        _fk(["product_id"], "ordering_products"),
        CheckConstraint("quantity > 0", name="quantity"),
        Index("ix_service_part_request_lines_request", "tenant_id", "request_id"),
    )

    request_id: Mapped[uuid.UUID]
    product_id: Mapped[uuid.UUID]
    quantity: Mapped[int]


class StockAdjustment(TenantOwned, Audited, Base):
    """Staff correct a partner's stock of one part (a count found more or fewer than the books): the change
    (positive or negative, never 0), the quantity it left, and why. The stock's own row changes in one
    conditional UPDATE that never takes it below zero; this row, audited, is the record of who did it."""

    __tablename__ = "service_stock_adjustments"
    __table_args__ = (
        _fk(["enterprise_id"], "enterprise_links"),
        _fk(["product_id"], "ordering_products"),
        CheckConstraint("change <> 0", name="change"),
        CheckConstraint("quantity_after >= 0", name="quantity_after"),
        Index("ix_service_stock_adjustments_enterprise", "tenant_id", "enterprise_id", "at"),
    )

    enterprise_id: Mapped[uuid.UUID]
    product_id: Mapped[uuid.UUID]
    change: Mapped[int]
    quantity_after: Mapped[int]
    reason: Mapped[str] = mapped_column(String(1000))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[uuid.UUID]
    actor_name: Mapped[str | None] = mapped_column(String(200))
