"""A ticket a dealer (a partner enterprise that sold the device) opened, as the dealer sees it.

The ticket itself is an ordinary service ticket (apps.service.models.Ticket): its enterprise is the
service partner it is dispatched to. This row puts the ticket under the dealer's data permissions:
enterprise_id is the dealer that opened it, owner_id the person who did, so the dealer's people reach it by
their data level on "partner.service.dealer_ticket" and never through the service partner's objects. The
customer's details are kept as the dealer entered them: the dealer reads these, never the ticket's own."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKeyConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db.base import Audited, Base, TenantOwned, Timestamped
from roles.records import ScopedRecord


def _fk(columns: list[str], table: str, ondelete: str = "RESTRICT") -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["tenant_id", *columns], [f"{table}.tenant_id", f"{table}.id"], ondelete=ondelete)


class DealerTicket(TenantOwned, ScopedRecord, Timestamped, Audited, Base):
    __tablename__ = "service_dealer_tickets"
    __table_args__ = (
        _fk(["enterprise_id"], "enterprise_links"),
        _fk(["ticket_id"], "service_tickets", "CASCADE"),
        UniqueConstraint("tenant_id", "ticket_id"),
    )

    ticket_id: Mapped[uuid.UUID]
    # what the dealer entered (the address: None when it was the device's site)
    contact_name: Mapped[str] = mapped_column(String(100))
    contact_phone: Mapped[str] = mapped_column(String(40))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[str | None] = mapped_column(String(500))


# the three indexes roles.scopes.where() is planned against (see roles.records)
Index(
    "ix_service_dealer_tickets_enterprise",
    DealerTicket.tenant_id,
    DealerTicket.enterprise_id,
    DealerTicket.created_at.desc(),
)
Index("ix_service_dealer_tickets_owner", DealerTicket.tenant_id, DealerTicket.owner_id, DealerTicket.created_at.desc())
Index("ix_service_dealer_tickets_created", DealerTicket.tenant_id, DealerTicket.created_at.desc())
