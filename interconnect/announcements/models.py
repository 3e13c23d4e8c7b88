from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db.base import Audited, Base, TenantOwned, Timestamped


class Announcement(TenantOwned, Timestamped, Audited, Base):
    __tablename__ = "announcements"
    __table_args__ = (Index("ix_announcements_tenant_published", "tenant_id", "published_at"),)

    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(String(4000))
    # the partner types it is addressed to (their ids as text); empty: every partner
    partner_type_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    published_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]
    created_by: Mapped[uuid.UUID]
