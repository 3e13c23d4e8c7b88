"""The engineer's steps on site, each written the same way: the actor's `work` permission on their
ticket object (the roles package), the ticket through their write scope (another enterprise's is "not
found"), the status it allows (on site; checking in also from on the way, which makes the `arrive`
transition), then the field entry (audited), its timeline entry and its outbox event
`service.ticket.<action>`, in one flush.

Photos and the signature are stored through portal.storage: the kind is decided by the content (a
file that is not an image is refused, naming what it is), images are re-encoded so EXIF and its GPS
position are gone, and the ticket is their owner, so only those who may read the ticket get them."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass

from sqlalchemy import select

from apps.service import workflow
from apps.service.field.models import FieldEntry
from apps.service.models import Ticket, TicketEvent
from apps.service.parts import stock
from apps.service.tickets import Tickets
from portal.errors import Conflict, FieldError, PermissionDenied, ValidationFailed
from portal.i18n import N_
from portal.outbox import publish
from portal.storage import content as kinds
from portal.storage.attachments import Attachments
from portal.storage.uploads import IMAGES, Use

OWNER = "service.ticket"  # the attachments' owner type: the ticket
NOTE_LIMIT = 2000
SIGNER_LIMIT = 100
SIGNATURE = Use("signature", (kinds.PNG,), max_bytes=512 * 1024)
# the timeline's action for each kind of entry
ACTIONS = {"check_in": "check_in", "note": "work_note", "part": "part_used", "photo": "photo", "signature": "signature"}
ON_SITE = ("on_site",)
CHECK_IN_FROM = ("on_the_way", "on_site")


class NotOnSite(Conflict):
    code, title = "not_on_site", N_("The engineer is not on site")


@dataclass(frozen=True, slots=True)
class Location:
    latitude: float
    longitude: float
    accuracy_m: int | None = None


def check_location(location: Location | None) -> None:
    if location is None:
        return
    errors: list[FieldError] = []
    for field, value, limit in (("latitude", location.latitude, 90), ("longitude", location.longitude, 180)):
        if not math.isfinite(value) or not -limit <= value <= limit:
            errors.append(FieldError(field, N_("must be from -%(max)s to %(max)s"), "out_of_range", {"max": limit}))
    if location.accuracy_m is not None and not 0 <= location.accuracy_m <= 100_000:
        errors.append(FieldError("accuracy_m", N_("must be from 0 to 100000 metres"), "out_of_range"))
    if errors:
        raise ValidationFailed(errors)


class FieldWork:
    """The field steps `tickets.actor` may take on the tickets they reach."""

    def __init__(self, tickets: Tickets, attachments: Attachments) -> None:
        self.tickets = tickets
        self.session = tickets.session
        self.actor = tickets.actor
        self.attachments = attachments

    async def _ticket(self, ticket_id: uuid.UUID, statuses: tuple[str, ...] = ON_SITE) -> Ticket:
        if self.actor.kind != "external" or not self.tickets.may("work"):
            raise PermissionDenied()
        ticket = await self.tickets.writable(ticket_id)
        if ticket.status not in statuses:
            raise NotOnSite(N_("Check in on site first: field work is recorded while the engineer is on site"))
        return ticket

    async def reachable(self, ticket_id: uuid.UUID) -> None:
        """Refuse now, before an upload is read, what a photo or signature would be refused for."""
        await self._ticket(ticket_id)

    async def _record(self, ticket: Ticket, entry: FieldEntry, summary: str | None) -> FieldEntry:
        action = ACTIONS[entry.kind]
        entry.ticket_id = ticket.id
        entry.actor_id = self.actor.user_id
        entry.actor_name = self.actor.display_name or self.actor.email or None
        self.session.add(entry)
        self.session.add(
            TicketEvent(
                ticket_id=ticket.id,
                action=action,
                from_status=ticket.status,
                to_status=ticket.status,
                actor_kind=self.actor.kind,
                actor_id=self.actor.user_id,
                actor_name=entry.actor_name,
                enterprise_id=ticket.enterprise_id,
                note=summary,
            )
        )
        await self.session.flush()
        payload = {**workflow.event_payload(ticket, action), "entry_id": entry.id, "kind": entry.kind}
        publish(self.session, f"service.ticket.{action}", "service.ticket", ticket.id, payload)
        await self.session.flush()
        return entry

    async def check_in(self, ticket_id: uuid.UUID, location: Location | None) -> FieldEntry:
        """On site now: the time, and where the browser says the phone is (when the person allowed it).
        From on the way, this is also the `arrive` transition."""
        check_location(location)
        ticket = await self._ticket(ticket_id, CHECK_IN_FROM)
        if ticket.status == "on_the_way":
            ticket = await workflow.take(self.tickets, ticket_id, "arrive")
        entry = FieldEntry(kind="check_in")
        summary = None
        if location is not None:
            entry.latitude, entry.longitude, entry.accuracy_m = (
                location.latitude,
                location.longitude,
                location.accuracy_m,
            )
            summary = f"{location.latitude:.5f}, {location.longitude:.5f}"
            if location.accuracy_m is not None:
                summary += f" (±{location.accuracy_m} m)"
        return await self._record(ticket, entry, summary)

    async def note(self, ticket_id: uuid.UUID, text: str | None) -> FieldEntry:
        cleaned = (text or "").strip()
        if not cleaned:
            raise ValidationFailed.single("text", N_("is required"), "required")
        if len(cleaned) > NOTE_LIMIT:
            raise ValidationFailed.single("text", N_("may be at most %(max)s characters"), "too_long", max=NOTE_LIMIT)
        ticket = await self._ticket(ticket_id)
        return await self._record(ticket, FieldEntry(kind="note", note=cleaned), cleaned)

    async def use_part(self, ticket_id: uuid.UUID, product_id: uuid.UUID, quantity: int) -> FieldEntry:
        """Parts fitted: taken out of the stock of the partner the ticket is dispatched to (409 naming
        the part when it holds fewer)."""
        errors: list[FieldError] = []
        stock.check_quantity(errors, "quantity", quantity)
        if errors:
            raise ValidationFailed(errors)
        ticket = await self._ticket(ticket_id)
        product = await stock.product_of(self.session, product_id)
        assert ticket.enterprise_id is not None  # a partner reaches only tickets dispatched to it
        await stock.take_out(self.session, ticket.enterprise_id, product, quantity)
        entry = FieldEntry(
            kind="part", product_id=product.id, sku=product.sku, product_name=product.name, quantity=quantity
        )
        return await self._record(ticket, entry, f"{product.name} ({product.sku}): {quantity}")

    async def photo(self, ticket_id: uuid.UUID, content: bytes, filename: str | None) -> FieldEntry:
        ticket = await self._ticket(ticket_id)
        saved = await self.attachments.save(self.session, self.actor, content, filename, IMAGES, OWNER, ticket.id)
        return await self._record(ticket, FieldEntry(kind="photo", attachment_id=saved.id), saved.name)

    async def signature(self, ticket_id: uuid.UUID, content: bytes, signer: str | None) -> FieldEntry:
        """The customer's signature drawn on the screen, as a PNG, and the name they gave."""
        name = (signer or "").strip()
        if len(name) > SIGNER_LIMIT:
            raise ValidationFailed.single(
                "signer", N_("may be at most %(max)s characters"), "too_long", max=SIGNER_LIMIT
            )
        ticket = await self._ticket(ticket_id)
        saved = await self.attachments.save(
            self.session, self.actor, content, "signature.png", SIGNATURE, OWNER, ticket.id
        )
        entry = FieldEntry(kind="signature", attachment_id=saved.id, note=name or None)
        return await self._record(ticket, entry, name or None)


async def entries(tickets: Tickets, ticket_id: uuid.UUID) -> tuple[Ticket, list[FieldEntry]]:
    """The ticket's field record, oldest first, to whoever may read the ticket (through their scope)."""
    ticket = await tickets.get(ticket_id)
    rows = await tickets.session.scalars(
        select(FieldEntry).where(FieldEntry.ticket_id == ticket.id).order_by(FieldEntry.at, FieldEntry.id)
    )
    return ticket, list(rows)
