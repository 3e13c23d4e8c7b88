"""Tickets a dealer opens for the devices it sold, and follows.

A dealer's person (a role granting "partner.service.dealer_ticket" `create`) opens a ticket for a device
its enterprise sold (the device's dealer), named by id or serial number, or for no device with a free
contact and address. Any other device, another dealer's or another tenant's, is refused naming the device
as given, the same way whether it exists or not. The ticket is opened as every other way opens one
(apps.service.workflow: the warranty read from the device, the site and region from it unless given, the
tenant's automatic dispatch), and a DealerTicket row puts it under the dealer's data level.

What the dealer reads of it: the ticket's number, type, priority, device, status and the dates it moved
on, its progress as the customer's page shows it (no notes, no names), the service partner's name, and the
customer's details as the dealer entered them. Never the ticket's own contact or address (the service
partner's and staff's), the partner's notes, reasons or field work."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.service import lifecycle, workflow
from apps.service.dealer.models import DealerTicket
from apps.service.models import TICKET_STATUSES, Device, Ticket, TicketEvent
from apps.service.objects import PARTNER_DEALER_TICKET, TICKET
from apps.service.public import HIDDEN_ACTIONS
from apps.service.tickets import OPEN, Tickets
from interconnect.models import EnterpriseLink
from portal.actor import Actor
from portal.errors import FieldError, NotFound, PermissionDenied
from portal.i18n import N_
from roles.access import scoped
from roles.policy import RolePolicy

DEVICE_CHOICES = 500  # serial numbers offered on the page's form


@dataclass(frozen=True, slots=True)
class DealerTicketIn:
    type: str
    symptoms: str
    contact_name: str
    contact_phone: str
    priority: str = "normal"
    device_id: uuid.UUID | None = None
    serial_number: str | None = None  # the device by its serial number, when no id is given
    address: str | None = None
    region_id: uuid.UUID | None = None
    contact_email: str | None = None


class DealerTickets:
    """The tickets `actor`'s enterprise opened, as far as their data level reaches."""

    def __init__(self, session: AsyncSession, policy: RolePolicy, actor: Actor) -> None:
        self.session = session
        self.policy = policy
        self.actor = actor

    def may(self, action: str) -> bool:
        return self.policy.allows(self.actor, (PARTNER_DEALER_TICKET, action))

    async def query(self) -> Select[tuple[DealerTicket, Ticket]]:
        joined = select(DealerTicket, Ticket).join(
            Ticket, and_(Ticket.tenant_id == DealerTicket.tenant_id, Ticket.id == DealerTicket.ticket_id)
        )
        return await scoped(self.session, joined, self.policy, self.actor, PARTNER_DEALER_TICKET)

    async def page(
        self, status: str | None = None, search: str | None = None, limit: int = 50, offset: int = 0
    ) -> tuple[list[tuple[DealerTicket, Ticket]], int]:
        """Newest first; `status` one status or "open"; `search` a ticket number or serial number."""
        query = await self.query()
        if status == OPEN:
            query = query.where(Ticket.status.in_(lifecycle.OPEN))
        elif status in TICKET_STATUSES:
            query = query.where(Ticket.status == status)
        if search and search.strip():
            like = f"%{search.strip().lower()}%"
            query = query.where(or_(func.lower(Ticket.number).like(like), func.lower(Ticket.serial_number).like(like)))
        total = await self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = await self.session.execute(
            query.order_by(DealerTicket.created_at.desc(), DealerTicket.id.desc()).limit(limit).offset(offset)
        )
        return [(opened, ticket) for opened, ticket in rows], total

    async def get(self, ticket_id: uuid.UUID) -> tuple[DealerTicket, Ticket]:
        found = (await self.session.execute((await self.query()).where(DealerTicket.ticket_id == ticket_id))).first()
        if found is None:
            raise NotFound(N_("No such ticket"))
        return found[0], found[1]

    # --- opening ---

    async def device(self, wanted: DealerTicketIn) -> tuple[Device | None, list[FieldError]]:
        """The device named, when the actor's enterprise sold it; else the error naming it as given."""
        if wanted.device_id is None and not (wanted.serial_number or "").strip():
            return None, []
        sold = Device.dealer_id == self.actor.enterprise_id
        if wanted.device_id is not None:
            field, given = "device_id", str(wanted.device_id)
            device = await self.session.scalar(select(Device).where(Device.id == wanted.device_id, sold))
        else:
            field, given = "serial_number", (wanted.serial_number or "").strip()[:80]
            device = await self.session.scalar(select(Device).where(Device.serial_number == given, sold))
        if device is None:
            message = N_("Device %(device)s is not among the devices your enterprise sold")
            return None, [FieldError(field, message, "unknown", {"device": given})]
        serial = (wanted.serial_number or "").strip()
        if field == "device_id" and serial and serial != device.serial_number:
            # both given: they must name the same device, or one of them is a mistake
            message = N_("names another device than device_id (%(serial)s)")
            return None, [FieldError("serial_number", message, "mismatch", {"serial": device.serial_number})]
        return device, []

    async def open(self, wanted: DealerTicketIn) -> tuple[DealerTicket, Ticket]:
        """A new ticket for a device the enterprise sold, or for none (then the address is required)."""
        if self.actor.kind != "external" or self.actor.enterprise_id is None:
            raise PermissionDenied(N_("Only people of a partner enterprise open tickets as its dealer"))
        device, errors = await self.device(wanted)
        tickets = Tickets(self.session, self.policy, self.actor, TICKET)
        ticket = await workflow.open_on_device(
            tickets,
            workflow.NewTicket(
                type=wanted.type,
                symptoms=wanted.symptoms,
                contact_name=wanted.contact_name,
                contact_phone=wanted.contact_phone,
                priority=wanted.priority,
                device_id=device.id if device is not None else None,
                address=wanted.address,
                region_id=wanted.region_id,
                contact_email=wanted.contact_email,
            ),
            device,
            errors,
        )
        opened = DealerTicket(
            ticket_id=ticket.id,
            enterprise_id=self.actor.enterprise_id,
            owner_id=self.actor.user_id,
            contact_name=ticket.contact_name,
            contact_phone=ticket.contact_phone,
            contact_email=ticket.contact_email,
            # what the dealer typed: the device's site, when it typed none, is not shown back to it
            address=ticket.address if (wanted.address or "").strip() else None,
        )
        self.session.add(opened)
        await self.session.flush()
        return opened, ticket

    async def devices_sold(self) -> list[tuple[str, str]]:
        """(serial number, product) of the devices the enterprise sold, for the form to offer."""
        if self.actor.enterprise_id is None:
            return []
        rows = await self.session.execute(
            select(Device.serial_number, Device.product_name)
            .where(Device.dealer_id == self.actor.enterprise_id)
            .order_by(Device.serial_number)
            .limit(DEVICE_CHOICES)
        )
        return [(serial, product) for serial, product in rows]

    # --- presenting ---

    async def _partners(self, tickets: Sequence[Ticket]) -> dict[uuid.UUID, str]:
        ids = sorted({t.enterprise_id for t in tickets if t.enterprise_id is not None})
        if not ids:
            return {}
        rows = await self.session.execute(
            select(EnterpriseLink.id, EnterpriseLink.name).where(EnterpriseLink.id.in_(ids))
        )
        return {key: name for key, name in rows}

    def summary(self, opened: DealerTicket, ticket: Ticket, partners: dict[uuid.UUID, str]) -> dict[str, Any]:
        return {
            "id": ticket.id,
            "number": ticket.number,
            "type": ticket.type,
            "priority": ticket.priority,
            "status": ticket.status,
            "device_id": ticket.device_id,
            "product_name": ticket.product_name,
            "serial_number": ticket.serial_number,
            "under_warranty": ticket.under_warranty,
            "symptoms": ticket.symptoms,
            "contact_name": opened.contact_name,
            "contact_phone": opened.contact_phone,
            "contact_email": opened.contact_email,
            "address": opened.address,
            "service_partner": partners.get(ticket.enterprise_id) if ticket.enterprise_id else None,
            "created_at": opened.created_at,
            "dispatched_at": ticket.dispatched_at,
            "accepted_at": ticket.accepted_at,
            "on_site_at": ticket.on_site_at,
            "resolved_at": ticket.resolved_at,
            "closed_at": ticket.closed_at,
            "cancelled_at": ticket.cancelled_at,
        }

    async def out_many(self, rows: Sequence[tuple[DealerTicket, Ticket]]) -> list[dict[str, Any]]:
        partners = await self._partners([t for _o, t in rows])
        return [self.summary(opened, ticket, partners) for opened, ticket in rows]

    async def out(self, opened: DealerTicket, ticket: Ticket) -> dict[str, Any]:
        """The ticket with its progress: each step's time, what it was and the status it led to."""
        events = await self.session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.at, TicketEvent.id)
        )
        progress = [
            {"at": e.at, "action": e.action, "status": e.to_status} for e in events if e.action not in HIDDEN_ACTIONS
        ]
        return {**self.summary(opened, ticket, await self._partners([ticket])), "progress": progress}
