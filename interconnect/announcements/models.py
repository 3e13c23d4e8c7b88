from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKeyConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db.base import Audited, Base, TenantOwned, Timestamped


def _fk(columns: list[str], table: str, ondelete: str) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["tenant_id", *columns], [f"{table}.tenant_id", f"{table}.id"], ondelete=ondelete)


class Announcement(TenantOwned, Timestamped, Audited, Base):
    """To every partner, or to the partner types its `AnnouncementAudience` rows name."""

    __tablename__ = "announcements"
    __table_args__ = (Index("ix_announcements_tenant_published", "tenant_id", "published_at"),)

    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(String(4000))
    published_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]
    created_by: Mapped[uuid.UUID]


class AnnouncementAudience(TenantOwned, Audited, Base):
    """A partner type an announcement is addressed to."""

    __tablename__ = "announcement_audiences"
    __table_args__ = (
        _fk(["announcement_id"], "announcements", "CASCADE"),
        _fk(["partner_type_id"], "partner_types", "CASCADE"),
        UniqueConstraint("tenant_id", "announcement_id", "partner_type_id"),
    )

    announcement_id: Mapped[uuid.UUID]
    partner_type_id: Mapped[uuid.UUID]
