"""Request and response bodies of the service API. Unknown fields are refused (422 naming them): no body
carries a tenant, an owner or a status; status moves by transitions only.

Each response field a field rule can hide (or the side asking never gets) defaults to UNSET, so it is
absent from the JSON, not null."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from msgspec import UNSET, UnsetType

from portal.http.inputs import Multiline
from portal.identity.schemas import Out, Strict


class TicketIn(Strict):
    """A ticket to open. With `device_id` its site address and region are the device's unless given, and
    the warranty is read from it."""

    type: str  # installation | repair | maintenance | inspection
    symptoms: Multiline
    contact_name: str
    contact_phone: str
    priority: str = "normal"  # low | normal | high | urgent
    device_id: uuid.UUID | None = None
    address: Multiline | None = None
    region_id: uuid.UUID | None = None
    contact_email: str | None = None  # where the rating link goes on resolution (with the phone, by SMS)


class NoteIn(Strict):
    """Why (rejecting, holding, cancelling, reopening: required), or what was done (resolving: required)."""

    note: Multiline | None = None


class DispatchIn(Strict):
    """The service partner to send the ticket to and, optionally, which of its engineers."""

    enterprise_id: uuid.UUID
    engineer_id: uuid.UUID | None = None
    note: Multiline | None = None


class AssignIn(Strict):
    engineer_id: uuid.UUID  # a person of the enterprise the ticket is dispatched to
    note: Multiline | None = None


class DeviceIn(Strict):
    """A device to record: the product by catalog SKU or by name."""

    serial_number: str
    customer_name: str
    site_address: Multiline
    sku: str | None = None
    product_name: str | None = None
    region_id: uuid.UUID | None = None
    install_date: date | None = None
    warranty_end: date | None = None
    dealer_id: uuid.UUID | None = None  # the enterprise that sold it
    enterprise_id: uuid.UUID | None = None  # the service partner that looks after it


# --- responses ---


class TicketOut(Out, kw_only=True):
    id: uuid.UUID
    number: str
    type: str
    priority: str
    status: str
    device_id: uuid.UUID | None
    product_name: str | None
    serial_number: str | None
    under_warranty: bool | UnsetType | None = UNSET
    symptoms: str | UnsetType = UNSET
    contact_name: str | UnsetType = UNSET
    contact_phone: str | UnsetType = UNSET
    address: str | UnsetType = UNSET
    region_id: uuid.UUID | None
    region: str | None
    enterprise_id: uuid.UUID | None
    enterprise: str | None
    engineer_id: uuid.UUID | None
    engineer_name: str | None
    opened_by_kind: str
    reject_reason: str | UnsetType | None = UNSET  # staff only
    hold_reason: str | None
    cancel_reason: str | None
    reopen_reason: str | None
    resolution: str | UnsetType | None = UNSET
    created_at: datetime
    dispatched_at: datetime | None
    accepted_at: datetime | None
    on_the_way_at: datetime | None
    on_site_at: datetime | None
    held_at: datetime | None
    resolved_at: datetime | None
    confirmed_at: datetime | None
    closed_at: datetime | None
    cancelled_at: datetime | None
    reopened_at: datetime | None
    pooled_at: datetime | None  # waiting in the open pool of its region since
    unmatched_at: datetime | None  # no dispatch rule matched: waiting for staff since
    rating: int | None  # the customer's, 1 to 5
    actions: list[str]  # the transitions the caller may take now
    # service levels: due instants, missed or not, business minutes left (negative: overdue by)
    response_due_at: datetime | None
    response_breached: bool
    response_left_minutes: int | None
    resolution_due_at: datetime | None
    resolution_breached: bool
    resolution_left_minutes: int | None
    sla_paused: bool  # on hold: the resolution clock stands still


class TimelineEntryOut(Out, kw_only=True):
    at: datetime
    action: str
    from_status: str | None
    to_status: str
    by: str | None
    by_kind: str
    enterprise: str | None  # the partner the step concerned (dispatched to, rejected by)
    engineer_name: str | None
    note: str | None
    rule: str | None  # the dispatch rule that chose the partner


class TicketDetailOut(TicketOut, kw_only=True):
    timeline: list[TimelineEntryOut]


class TicketPage(Out, kw_only=True):
    items: list[TicketOut]
    total: int
    limit: int
    offset: int


class EngineerOut(Out, kw_only=True):
    id: uuid.UUID  # the person's membership
    name: str


class DeviceOut(Out, kw_only=True):
    id: uuid.UUID
    serial_number: str
    product_id: uuid.UUID | None
    product_name: str
    customer_name: str | UnsetType = UNSET
    site_address: str | UnsetType = UNSET
    region_id: uuid.UUID | None
    region: str | None
    install_date: date | UnsetType | None = UNSET
    warranty_end: date | UnsetType | None = UNSET
    dealer_id: uuid.UUID | None
    dealer: str | None
    enterprise_id: uuid.UUID | None
    enterprise: str | None
    created_at: datetime


class DevicePage(Out, kw_only=True):
    items: list[DeviceOut]
    total: int
    limit: int
    offset: int


class DeviceImportOut(Out, kw_only=True):
    imported: int


class DevicePageOut(Out, kw_only=True):
    """The device's public page: its address (what its QR label encodes), or none once revoked."""

    url: str | None
