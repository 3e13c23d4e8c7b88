"""Attachments: which stored object belongs to which record of which feature, and what it is."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db.base import Audited, Base, TenantOwned
from portal.db.types import utcnow


class Attachment(TenantOwned, Audited, Base):
    """`owner_type` names the feature's kind of record ("service.ticket") and `owner_id` the record:
    the feature registered under that type decides who may read the file (attachments.py). `key` is
    where the bytes are in the store; `name` the sanitised name given at upload; `content_type` the
    type the content was found to be, not what the client said."""

    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attachments_owner", "tenant_id", "owner_type", "owner_id", "created_at"),)

    owner_type: Mapped[str] = mapped_column(String(60))
    owner_id: Mapped[uuid.UUID]
    key: Mapped[str] = mapped_column(String(500))
    name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
