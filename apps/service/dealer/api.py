"""The tickets a dealer opened, over the partner API (/api/partner/service/opened-tickets): the list, one
ticket with its progress, and a new one (201; with an Idempotency-Key a retried request opens one)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody

from apps.service.dealer.tickets import DealerTicketIn, DealerTickets
from apps.service.objects import PARTNER_DEALER_TICKET
from portal.http.deps import DB, CurrentActor
from portal.http.inputs import Limit, Multiline, Offset, Search
from portal.identity.schemas import Out, Strict, typed
from portal.permissions import requires
from roles.access import policy_of

AnyRequest = Request[Any, Any, Any]


class OpenedTicketIn(Strict):
    """A ticket for a device the enterprise sold (by `device_id`, or by `serial_number`), whose site,
    region and warranty then come from it; or for no device, with the address."""

    type: str  # installation | repair | maintenance | inspection
    symptoms: Multiline
    contact_name: str
    contact_phone: str
    priority: str = "normal"  # low | normal | high | urgent
    device_id: uuid.UUID | None = None
    serial_number: str | None = None
    address: Multiline | None = None
    region_id: uuid.UUID | None = None
    contact_email: str | None = None  # where the customer's rating link goes on resolution


class ProgressStepOut(Out, kw_only=True):
    at: datetime
    action: str  # the step taken: open, dispatch, accept, start, arrive, hold, resolve, …
    status: str  # the status it led to


class OpenedTicketOut(Out, kw_only=True):
    id: uuid.UUID  # the ticket's
    number: str
    type: str
    priority: str
    status: str
    device_id: uuid.UUID | None
    product_name: str | None
    serial_number: str | None
    under_warranty: bool | None  # read from the device's warranty when opened (none: no device)
    symptoms: str
    # the customer's details as the enterprise entered them (address: none when it was the device's site)
    contact_name: str
    contact_phone: str
    contact_email: str | None
    address: str | None
    service_partner: str | None  # the service partner it is dispatched to
    created_at: datetime
    dispatched_at: datetime | None
    accepted_at: datetime | None
    on_site_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    cancelled_at: datetime | None


class OpenedTicketDetailOut(OpenedTicketOut, kw_only=True):
    progress: list[ProgressStepOut]


class OpenedTicketPage(Out, kw_only=True):
    items: list[OpenedTicketOut]
    total: int
    limit: int
    offset: int


def provide_dealer_tickets(request: AnyRequest, db: DB, actor: CurrentActor) -> DealerTickets:
    return DealerTickets(db, policy_of(request), actor)


DEALER_DEPENDENCIES = {"dealer_tickets": Provide(provide_dealer_tickets, sync_to_thread=False)}
DealerTicketsDep = NamedDependency[DealerTickets]


def values_of(data: OpenedTicketIn) -> DealerTicketIn:
    return DealerTicketIn(
        type=data.type,
        symptoms=data.symptoms,
        contact_name=data.contact_name,
        contact_phone=data.contact_phone,
        priority=data.priority,
        device_id=data.device_id,
        serial_number=data.serial_number,
        address=data.address,
        region_id=data.region_id,
        contact_email=data.contact_email,
    )


class OpenedTicketsController(Controller):
    path = "/api/partner/service/opened-tickets"
    tags = ["partner: service"]
    dependencies = DEALER_DEPENDENCIES

    @get("/", opt=requires(PARTNER_DEALER_TICKET, "read"))
    async def list_opened_tickets(
        self,
        dealer_tickets: DealerTicketsDep,
        status: FromQuery[str | None] = None,
        search: Search = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> OpenedTicketPage:
        """The tickets the enterprise opened (a distributor's level may add its stores'), newest first:
        `status` one status or "open"; `search` a ticket or serial number."""
        rows, total = await dealer_tickets.page(status, search, limit, offset)
        items = await dealer_tickets.out_many(rows)
        return typed({"items": items, "total": total, "limit": limit, "offset": offset}, OpenedTicketPage)

    @post("/", opt=requires(PARTNER_DEALER_TICKET, "create"))
    async def open_dealer_ticket(
        self, data: JSONBody[OpenedTicketIn], db: DB, dealer_tickets: DealerTicketsDep
    ) -> OpenedTicketDetailOut:
        """Open a ticket for a device the enterprise sold, or for none with the customer's address. A
        device the enterprise did not sell (another dealer's, another workspace's, or none at all) is 422
        naming the device as given."""
        opened, ticket = await dealer_tickets.open(values_of(data))
        return typed(await dealer_tickets.out(opened, ticket), OpenedTicketDetailOut)

    @get("/{ticket_id:uuid}", opt=requires(PARTNER_DEALER_TICKET, "read"))
    async def get_opened_ticket(
        self, ticket_id: FromPath[uuid.UUID], dealer_tickets: DealerTicketsDep
    ) -> OpenedTicketDetailOut:
        """The ticket with its progress (each step's time and the status it led to)."""
        opened, ticket = await dealer_tickets.get(ticket_id)
        return typed(await dealer_tickets.out(opened, ticket), OpenedTicketDetailOut)


DEALER_CONTROLLERS = [OpenedTicketsController]
