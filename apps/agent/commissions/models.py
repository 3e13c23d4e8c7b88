"""The commission tables: the rules, each deal's commercial terms (product line, deal type), the lines a
won deal earns (or a reopened one reverses), and the statements the lines gather into."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKeyConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db.base import Audited, Base, TenantOwned, Timestamped
from portal.db.types import utcnow

DEAL_TYPES = ("new_business", "renewal", "expansion")
LINE_KINDS = ("earned", "reversal")
# open: waiting for the partner's review; accepted or disputed by the partner; approved (and posted) or
# withdrawn (its lines released to the next statement) by the upstream
STATEMENT_STATUSES = ("open", "accepted", "disputed", "approved", "withdrawn")


def _link_key(column: str) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["tenant_id", column], ["enterprise_links.tenant_id", "enterprise_links.id"], ondelete="RESTRICT"
    )


class CommissionRule(TenantOwned, Timestamped, Audited, Base):
    """A rate for won deals matching its conditions (each NULL matches anything): the partner's tier,
    the deal's product line (an ordering catalog category's code) and its type. Of the active rules
    that match, the most specific (most conditions) wins, then the lowest position."""

    __tablename__ = "agent_commission_rules"
    __table_args__ = (
        CheckConstraint("rate >= 0", name="rate"),
        CheckConstraint("deal_type IS NULL OR deal_type IN ('new_business', 'renewal', 'expansion')", name="deal_type"),
        Index("ix_agent_commission_rules_position", "tenant_id", "position"),
    )

    name: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(default=0)
    tier_id: Mapped[uuid.UUID | None]
    product_line: Mapped[str | None] = mapped_column(String(80))
    deal_type: Mapped[str | None] = mapped_column(String(16))
    rate: Mapped[Decimal]
    active: Mapped[bool] = mapped_column(default=True)


class DealTerms(TenantOwned, Timestamped, Audited, Base):
    """What the upstream records about a deal for its commission: the product line and the deal type the
    rules match on. A deal without terms is matched by the rules that leave both open."""

    __tablename__ = "agent_deal_terms"
    __table_args__ = (
        UniqueConstraint("tenant_id", "deal_id"),
        CheckConstraint("deal_type IS NULL OR deal_type IN ('new_business', 'renewal', 'expansion')", name="deal_type"),
    )

    deal_id: Mapped[uuid.UUID]
    product_line: Mapped[str | None] = mapped_column(String(80))
    deal_type: Mapped[str | None] = mapped_column(String(16))


class CommissionStatement(TenantOwned, Timestamped, Audited, Base):
    """A partner's commission for one period (a calendar month, "YYYY-MM") in one currency: its lines are
    those whose statement_id names it. `total` is their sum, fixed once the partner has reviewed it."""

    __tablename__ = "agent_commission_statements"
    __table_args__ = (
        _link_key("enterprise_id"),
        UniqueConstraint("tenant_id", "enterprise_id", "period", "currency", "round"),
        Index("ix_agent_commission_statements_status", "tenant_id", "status"),
        CheckConstraint("status IN ('open', 'accepted', 'disputed', 'approved', 'withdrawn')", name="status"),
    )

    enterprise_id: Mapped[uuid.UUID]
    period: Mapped[str] = mapped_column(String(7))
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    # a withdrawn statement keeps its row; the period's next one is the next round
    round: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(12), default="open")
    total: Mapped[Decimal] = mapped_column(default=Decimal(0))
    lines_count: Mapped[int] = mapped_column(default=0)
    review_note: Mapped[str | None] = mapped_column(String(1000))
    reviewed_by: Mapped[uuid.UUID | None]
    reviewed_at: Mapped[datetime | None]
    decided_by: Mapped[uuid.UUID | None]
    decided_at: Mapped[datetime | None]
    posted: Mapped[bool] = mapped_column(default=False)


class CommissionLine(TenantOwned, Base):
    """What one deal earned (kind "earned", the rate of the rule or of the deal itself applied to its
    amount) or gave back (kind "reversal", the negative of the line it reverses, when the deal left
    "won"). The deal's name and amount are copied: the line is a financial record, kept whatever becomes
    of the deal. A line is on at most one statement: it is attached by a conditional UPDATE."""

    __tablename__ = "agent_commission_lines"
    __table_args__ = (
        _link_key("enterprise_id"),
        ForeignKeyConstraint(
            ["tenant_id", "statement_id"],
            ["agent_commission_statements.tenant_id", "agent_commission_statements.id"],
            ondelete="RESTRICT",
        ),
        CheckConstraint("kind IN ('earned', 'reversal')", name="kind"),
        CheckConstraint("kind = 'reversal' OR amount >= 0", name="earned_sign"),
        CheckConstraint("kind = 'earned' OR amount <= 0", name="reversal_sign"),
        Index("ix_agent_commission_lines_deal", "tenant_id", "deal_id"),
        Index("ix_agent_commission_lines_statement", "tenant_id", "statement_id"),
        Index("ix_agent_commission_lines_open", "tenant_id", "enterprise_id", "earned_on"),
    )

    deal_id: Mapped[uuid.UUID]
    enterprise_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(10))
    customer_name: Mapped[str] = mapped_column(String(200))
    deal_amount: Mapped[Decimal]
    rate: Mapped[Decimal]
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    rule_id: Mapped[uuid.UUID | None]
    reverses_id: Mapped[uuid.UUID | None]
    reversed: Mapped[bool] = mapped_column(default=False)
    earned_on: Mapped[date] = mapped_column(Date())
    statement_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
