"""The service app's tables: the installed base (devices), tickets with their timeline, and each tenant's
service settings (the ticket counter, how long a finished ticket may be reopened)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKeyConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db.base import MACHINERY, Audited, Base, TenantOwned, Timestamped
from portal.db.types import utcnow
from roles.records import ScopedRecord

TICKET_TYPES = ("installation", "repair", "maintenance", "inspection")
PRIORITIES = ("low", "normal", "high", "urgent")
CHANNELS = ("staff", "partner", "api", "device_page")
TICKET_STATUSES = (
    "new",
    "dispatched",
    "accepted",
    "on_the_way",
    "on_site",
    "on_hold",
    "resolved",
    "confirmed",
    "closed",
    "cancelled",
)


def _fk(columns: list[str], table: str, ondelete: str = "RESTRICT") -> ForeignKeyConstraint:
    """A same-tenant reference: the composite key makes a cross-tenant link impossible in the schema."""
    return ForeignKeyConstraint(["tenant_id", *columns], [f"{table}.tenant_id", f"{table}.id"], ondelete=ondelete)


def _in(column: str, values: tuple[str, ...]) -> CheckConstraint:
    return CheckConstraint(f"{column} IN ({', '.join(repr(v) for v in values)})", name=column)


class ServiceSettings(TenantOwned, Timestamped, Audited, Base):
    """One per tenant: the counter that numbers its tickets, and for how many days after a ticket is
    resolved staff may reopen it."""

    __tablename__ = "service_settings"
    __table_args__ = (
        UniqueConstraint("tenant_id"),
        CheckConstraint("reopen_days >= 0", name="reopen_days"),
        CheckConstraint("auto_close_days IS NULL OR auto_close_days > 0", name="auto_close_days"),
    )
    # drawing a number is bookkeeping, not a change anybody decided
    __audit_ignore__ = frozenset({"updated_at", "next_ticket_number", "next_settlement_number"})

    next_ticket_number: Mapped[int] = mapped_column(default=1)
    next_settlement_number: Mapped[int] = mapped_column(default=1)
    reopen_days: Mapped[int] = mapped_column(default=14)
    # the share of a service-level target after which the partner is warned
    sla_warning_percent: Mapped[int] = mapped_column(default=80)
    # a new ticket is dispatched by the tenant's rules at once (apps.service.dispatch)
    auto_dispatch: Mapped[bool] = mapped_column(default=False)
    # a resolved ticket the customer has not confirmed closes by itself after this many days (NULL: never)
    auto_close_days: Mapped[int | None] = mapped_column(default=7)
    # resolving a ticket needs the customer's signature on it first (apps.service.field)
    signature_required: Mapped[bool] = mapped_column(default=False)


class SlaTarget(TenantOwned, Timestamped, Audited, Base):
    """A tenant's service levels for one priority and ticket type, in business minutes on its calendar:
    response from dispatch to acceptance, resolution from opening to resolution (time on hold left out)."""

    __tablename__ = "service_sla_targets"
    __table_args__ = (
        UniqueConstraint("tenant_id", "priority", "type"),
        _in("type", TICKET_TYPES),
        _in("priority", PRIORITIES),
        CheckConstraint("response_minutes > 0 AND resolution_minutes > 0", name="minutes"),
    )

    priority: Mapped[str] = mapped_column(String(8))
    type: Mapped[str] = mapped_column(String(16))
    response_minutes: Mapped[int]
    resolution_minutes: Mapped[int]


class Device(TenantOwned, ScopedRecord, Timestamped, Audited, Base):
    """A product installed at a customer's site. enterprise_id is the service partner that looks after it
    (its people see the device), dealer_id the enterprise that sold it; product_id the catalog's product
    when there is one (product_name is its name then, or the name as given). owner_id is who recorded it."""

    __tablename__ = "service_devices"
    __table_args__ = (
        _fk(["enterprise_id"], "enterprise_links"),
        _fk(["dealer_id"], "enterprise_links"),
        _fk(["region_id"], "regions"),
        _fk(["product_id"], "ordering_products"),
        UniqueConstraint("tenant_id", "serial_number"),
    )

    product_id: Mapped[uuid.UUID | None]
    product_name: Mapped[str] = mapped_column(String(200))
    serial_number: Mapped[str] = mapped_column(String(80))
    customer_name: Mapped[str] = mapped_column(String(200))
    site_address: Mapped[str] = mapped_column(String(500))
    region_id: Mapped[uuid.UUID | None]
    install_date: Mapped[date | None] = mapped_column(Date())
    warranty_end: Mapped[date | None] = mapped_column(Date())
    dealer_id: Mapped[uuid.UUID | None]
    created_by: Mapped[uuid.UUID]
    # The device's public page (its QR label): the random token in its address; NULL: no page (never made,
    # or revoked by staff). Kept as it is, not hashed: it is printed on the label stuck to the device, and
    # the label must be printable again.
    public_token: Mapped[str | None] = mapped_column(String(64), info=MACHINERY)


# The three indexes roles.scopes.where() is planned against (see roles.records), and the region's, which
# the staff "region" scope reads by.
Index("ix_service_devices_enterprise", Device.tenant_id, Device.enterprise_id, Device.created_at.desc())
Index("ix_service_devices_owner", Device.tenant_id, Device.owner_id, Device.created_at.desc())
Index("ix_service_devices_created", Device.tenant_id, Device.created_at.desc())
Index("ix_service_devices_region", Device.tenant_id, Device.region_id, Device.created_at.desc())
Index("ix_service_devices_public_token", Device.tenant_id, Device.public_token, unique=True)


class Ticket(TenantOwned, ScopedRecord, Timestamped, Audited, Base):
    """A service request. enterprise_id is the service partner it is dispatched to (NULL while it waits
    for dispatch: partners never see it then); owner_id the engineer assigned (a partner membership),
    else whoever opened it. Status moves only through apps.service.workflow, whose table is
    apps.service.lifecycle: every UPDATE of a ticket carries its status as read (the mapper's version
    column), so of two transitions made at once from the same status only the first goes through.

    under_warranty is decided from the device when the ticket is opened (NULL: no device). The contact's
    phone and the address are the customer's: a partner sees them only once it has accepted the ticket."""

    __tablename__ = "service_tickets"
    __table_args__ = (
        _fk(["enterprise_id"], "enterprise_links"),
        _fk(["device_id"], "service_devices"),
        _fk(["region_id"], "regions"),
        _fk(["engineer_id"], "memberships"),
        UniqueConstraint("tenant_id", "number"),
        _in("type", TICKET_TYPES),
        _in("priority", PRIORITIES),
        _in("status", TICKET_STATUSES),
        _in("channel", CHANNELS),
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating"),
    )

    number: Mapped[str] = mapped_column(String(20))
    type: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(8), default="normal")
    status: Mapped[str] = mapped_column(String(16), default="new")
    device_id: Mapped[uuid.UUID | None]
    # copied from the device when opened, so the ticket reads the same if the device is edited later
    product_name: Mapped[str | None] = mapped_column(String(200))
    serial_number: Mapped[str | None] = mapped_column(String(80))
    under_warranty: Mapped[bool | None]
    symptoms: Mapped[str] = mapped_column(String(2000))
    contact_name: Mapped[str] = mapped_column(String(100))
    contact_phone: Mapped[str] = mapped_column(String(40))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[str] = mapped_column(String(500))
    region_id: Mapped[uuid.UUID | None]
    engineer_id: Mapped[uuid.UUID | None]
    engineer_name: Mapped[str | None] = mapped_column(String(200))
    opened_by: Mapped[uuid.UUID]
    opened_by_kind: Mapped[str] = mapped_column(String(12))  # internal | external
    # why it was last rejected, held, cancelled or reopened, and how it was resolved
    reject_reason: Mapped[str | None] = mapped_column(String(1000))
    hold_reason: Mapped[str | None] = mapped_column(String(1000))
    cancel_reason: Mapped[str | None] = mapped_column(String(1000))
    reopen_reason: Mapped[str | None] = mapped_column(String(1000))
    resolution: Mapped[str | None] = mapped_column(String(2000))
    # when each milestone was (last) reached
    dispatched_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    on_the_way_at: Mapped[datetime | None]
    on_site_at: Mapped[datetime | None]
    held_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    confirmed_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    reopened_at: Mapped[datetime | None]
    # How it came: "staff", "partner", "api" or "device_page" (a customer through the device's QR page).
    channel: Mapped[str] = mapped_column(String(16), default="staff", server_default="staff")
    # The customer's progress link (a ticket opened on its device page) is signed with the server's key
    # over the ticket and this nonce (a new nonce ends the old link), and works until progress_expires_at.
    progress_nonce: Mapped[str | None] = mapped_column(String(32), info=MACHINERY)
    progress_expires_at: Mapped[datetime | None] = mapped_column(info=MACHINERY)
    # The customer's rating once it is resolved (1-5, once), with a comment.
    rating: Mapped[int | None]
    rating_comment: Mapped[str | None] = mapped_column(String(1000))
    rated_at: Mapped[datetime | None]
    # Service levels (apps.service.sla): the targets copied when the ticket was opened, each target's due
    # and warning instants while its clock runs (NULL when stopped), whether the warning went and whether
    # the target was missed; next_sla_check_at is the earliest of the pending instants, which the timer
    # job selects by (indexed), so it never computes anything for tickets with nothing due.
    response_minutes: Mapped[int | None]
    resolution_minutes: Mapped[int | None]
    response_due_at: Mapped[datetime | None]
    response_warn_at: Mapped[datetime | None] = mapped_column(info=MACHINERY)
    resolution_due_at: Mapped[datetime | None]
    resolution_warn_at: Mapped[datetime | None] = mapped_column(info=MACHINERY)
    response_warned: Mapped[bool] = mapped_column(default=False, info=MACHINERY)
    resolution_warned: Mapped[bool] = mapped_column(default=False, info=MACHINERY)
    response_breached: Mapped[bool] = mapped_column(default=False)
    resolution_breached: Mapped[bool] = mapped_column(default=False)
    next_sla_check_at: Mapped[datetime | None] = mapped_column(info=MACHINERY)
    # Dispatch (apps.service.dispatch): since when the ticket waits in the open pool of its region, for a
    # partner of that region to take it; since when it waits for staff because no dispatch rule matched.
    pooled_at: Mapped[datetime | None]
    unmatched_at: Mapped[datetime | None]

    __mapper_args__ = {"version_id_col": status, "version_id_generator": False}
    # the timer job's bookkeeping is not a change anybody made (a missed target is, and is audited)
    __audit_ignore__ = frozenset({"updated_at", "next_sla_check_at", "response_warned", "resolution_warned"})


Index("ix_service_tickets_enterprise", Ticket.tenant_id, Ticket.enterprise_id, Ticket.created_at.desc())
Index("ix_service_tickets_owner", Ticket.tenant_id, Ticket.owner_id, Ticket.created_at.desc())
Index("ix_service_tickets_created", Ticket.tenant_id, Ticket.created_at.desc())
Index("ix_service_tickets_region", Ticket.tenant_id, Ticket.region_id, Ticket.created_at.desc())
Index("ix_service_tickets_status", Ticket.tenant_id, Ticket.status, Ticket.created_at.desc())
Index("ix_service_tickets_device", Ticket.tenant_id, Ticket.device_id)
# A dispatch decision weighs each candidate partner's open tickets and mean rating: read from this index
# alone, without visiting the tickets (apps/service/dispatch/decide.py).
Index("ix_service_tickets_partner_load", Ticket.tenant_id, Ticket.enterprise_id, Ticket.status, Ticket.rating)
Index(
    "ix_service_tickets_pool",
    Ticket.tenant_id,
    Ticket.region_id,
    Ticket.pooled_at,
    postgresql_where=Ticket.pooled_at.is_not(None),
    sqlite_where=Ticket.pooled_at.is_not(None),
)
Index(
    "ix_service_tickets_next_sla_check",
    Ticket.tenant_id,
    Ticket.next_sla_check_at,
    postgresql_where=Ticket.next_sla_check_at.is_not(None),
    sqlite_where=Ticket.next_sla_check_at.is_not(None),
)


class TicketPause(TenantOwned, Base):
    """An interval the ticket's resolution clock stood still: on hold (waiting for parts), or resolved
    until it was reopened. ended_at is NULL while it lasts."""

    __tablename__ = "service_ticket_pauses"
    __table_args__ = (
        _fk(["ticket_id"], "service_tickets", "CASCADE"),
        Index("ix_service_ticket_pauses_ticket", "tenant_id", "ticket_id"),
    )

    ticket_id: Mapped[uuid.UUID]
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class TicketEvent(TenantOwned, Base):
    """The ticket's timeline: every transition, who made it, when and why. enterprise_id is the partner
    the step concerned (dispatched to, rejected by), engineer_name the engineer assigned by it."""

    __tablename__ = "service_ticket_events"
    __table_args__ = (
        _fk(["ticket_id"], "service_tickets", "CASCADE"),
        Index("ix_service_ticket_events_ticket", "tenant_id", "ticket_id", "at"),
    )

    ticket_id: Mapped[uuid.UUID]
    at: Mapped[datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor_kind: Mapped[str] = mapped_column(String(12))
    actor_id: Mapped[uuid.UUID | None]
    actor_name: Mapped[str | None] = mapped_column(String(200))
    enterprise_id: Mapped[uuid.UUID | None]
    engineer_name: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(String(2000))
    # the dispatch rule that chose the partner (its name as it was then)
    rule_name: Mapped[str | None] = mapped_column(String(100))
