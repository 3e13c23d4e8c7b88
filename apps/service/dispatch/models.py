"""The tenant's dispatch rules: an ordered list, the first rule that matches a ticket (its region, product
line and type; a blank condition matches anything) and has an eligible partner chooses among its
partners by their current load (open tickets) or their rating (mean customer rating)."""

from __future__ import annotations

import uuid

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from apps.service.models import TICKET_TYPES
from portal.db.base import Audited, Base, TenantOwned, Timestamped

PREFERENCES = ("load", "rating")


def _fk(columns: list[str], table: str, ondelete: str = "RESTRICT") -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["tenant_id", *columns], [f"{table}.tenant_id", f"{table}.id"], ondelete=ondelete)


class DispatchRule(TenantOwned, Timestamped, Audited, Base):
    """One rule. position orders them (lowest first); region_id, category_id (the catalog's category: the
    product line of the ticket's device) and ticket_type are its conditions, NULL matching anything.
    prefer says how it chooses among its eligible partners: "load" (fewest open tickets, then the better
    rating) or "rating" (best mean rating, then the fewer open tickets). A partner with max_open open
    tickets or more is not eligible (NULL: no cap)."""

    __tablename__ = "service_dispatch_rules"
    __table_args__ = (
        _fk(["region_id"], "regions"),
        _fk(["category_id"], "ordering_categories"),
        CheckConstraint(
            f"ticket_type IS NULL OR ticket_type IN ({', '.join(repr(t) for t in TICKET_TYPES)})", name="ticket_type"
        ),
        CheckConstraint(f"prefer IN ({', '.join(repr(p) for p in PREFERENCES)})", name="prefer"),
        CheckConstraint("max_open IS NULL OR max_open > 0", name="max_open"),
        Index("ix_service_dispatch_rules_position", "tenant_id", "position"),
    )

    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(100))
    region_id: Mapped[uuid.UUID | None]
    category_id: Mapped[uuid.UUID | None]
    ticket_type: Mapped[str | None] = mapped_column(String(16))
    prefer: Mapped[str] = mapped_column(String(8), default="load")
    max_open: Mapped[int | None]
    active: Mapped[bool] = mapped_column(default=True)


class DispatchRulePartner(TenantOwned, Audited, Base):
    """A service partner a rule may choose."""

    __tablename__ = "service_dispatch_rule_partners"
    __table_args__ = (
        _fk(["rule_id"], "service_dispatch_rules", "CASCADE"),
        _fk(["enterprise_id"], "enterprise_links"),
        UniqueConstraint("tenant_id", "rule_id", "enterprise_id"),
    )

    rule_id: Mapped[uuid.UUID]
    enterprise_id: Mapped[uuid.UUID]
