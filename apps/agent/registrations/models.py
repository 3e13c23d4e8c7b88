"""What registration adds beside the deal's own columns: the matches a conflict is made of, the
follow-ups on a deal, and the programme's protection setting."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKeyConstraint, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db.base import MACHINERY, Audited, Base, TenantOwned, Timestamped
from portal.db.types import utcnow

MATCH_KEYS = ("name", "tax_id", "phone", "email")


def _deal_key(column: str) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["tenant_id", column], ["agent_deals.tenant_id", "agent_deals.id"], ondelete="CASCADE")


class DealMatch(TenantOwned, Base):
    """One record a flagged registration (`deal_id`) met: another partner's registration (`other_deal_id`)
    or an account the upstream owns (`other_deal_id` NULL), and on which key."""

    __tablename__ = "agent_deal_matches"
    __table_args__ = (
        _deal_key("deal_id"),
        _deal_key("other_deal_id"),
        ForeignKeyConstraint(
            ["tenant_id", "account_id"], ["crm_accounts.tenant_id", "crm_accounts.id"], ondelete="CASCADE"
        ),
        CheckConstraint("key IN ('name', 'tax_id', 'phone', 'email')", name="key"),
        Index("ix_agent_deal_matches_deal", "tenant_id", "deal_id"),
    )

    deal_id: Mapped[uuid.UUID]
    other_deal_id: Mapped[uuid.UUID | None]
    account_id: Mapped[uuid.UUID]
    key: Mapped[str] = mapped_column(String(16))


class DealFollowUp(TenantOwned, Base):
    """A call, visit or message on a deal, with the next step and its date; the upstream sees them all,
    and the follow-up reminder job reminds the author on the date, as for leads."""

    __tablename__ = "agent_deal_follow_ups"
    __table_args__ = (
        _deal_key("deal_id"),
        CheckConstraint("kind IN ('call', 'visit', 'message')", name="kind"),
        Index("ix_agent_deal_follow_ups_deal", "tenant_id", "deal_id", "created_at"),
        Index(
            "ix_agent_deal_follow_ups_remind",
            "tenant_id",
            "remind_on",
            postgresql_where=text("remind_on IS NOT NULL"),
            sqlite_where=text("remind_on IS NOT NULL"),
        ),
    )

    deal_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(String(2000))
    next_step: Mapped[str | None] = mapped_column(String(200))
    next_date: Mapped[date | None] = mapped_column(Date())
    remind_on: Mapped[date | None] = mapped_column(Date(), info=MACHINERY)
    author_kind: Mapped[str] = mapped_column(String(16))
    author_id: Mapped[uuid.UUID]
    enterprise_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RegistrationSettings(TenantOwned, Timestamped, Audited, Base):
    """The programme's protection: days an approved registration protects its customer, and the days one
    approved extension adds. One row per tenant (defaults apply until the upstream saves its own)."""

    __tablename__ = "agent_registration_settings"
    __table_args__ = (
        UniqueConstraint("tenant_id"),
        CheckConstraint("protection_days BETWEEN 1 AND 3650 AND extension_days BETWEEN 1 AND 3650", name="days"),
    )

    protection_days: Mapped[int] = mapped_column(default=90)
    extension_days: Mapped[int] = mapped_column(default=30)
