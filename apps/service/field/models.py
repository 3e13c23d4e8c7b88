"""The field record of a ticket: one row per step the engineer takes on site. A photo's or signature's
bytes are an attachment (portal.storage) owned by the ticket; the row names it."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db.base import Audited, Base, TenantOwned
from portal.db.types import utcnow

KINDS = ("check_in", "note", "part", "photo", "signature")


class FieldEntry(TenantOwned, Audited, Base):
    """A step on site. `check_in`: latitude, longitude and accuracy (metres) when the browser gave them;
    `note`: the text; `part`: the catalog product (its SKU and name as they were) and quantity, taken out
    of the partner's stock; `photo` and `signature`: the attachment (and, for a signature, the signer's
    name in `note`)."""

    __tablename__ = "service_field_entries"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "ticket_id"], ["service_tickets.tenant_id", "service_tickets.id"], ondelete="CASCADE"
        ),
        CheckConstraint(f"kind IN ({', '.join(repr(k) for k in KINDS)})", name="kind"),
        CheckConstraint("quantity IS NULL OR quantity > 0", name="quantity"),
        CheckConstraint("latitude IS NULL OR latitude BETWEEN -90 AND 90", name="latitude"),
        CheckConstraint("longitude IS NULL OR longitude BETWEEN -180 AND 180", name="longitude"),
        Index("ix_service_field_entries_ticket", "tenant_id", "ticket_id", "at"),
    )

    ticket_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(12))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[uuid.UUID]
    actor_name: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(String(2000))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    accuracy_m: Mapped[int | None]
    product_id: Mapped[uuid.UUID | None]
    sku: Mapped[str | None] = mapped_column(String(60))
    product_name: Mapped[str | None] = mapped_column(String(200))
    quantity: Mapped[int | None]
    attachment_id: Mapped[uuid.UUID | None]
