"""The customer's side of the service app, without an account: a device's public page (its QR label) to
open a repair ticket on it, and the ticket's progress link, through which the customer follows it and,
once it is resolved, confirms and rates it.

- A device's page is found by the random token in its address (`<tenant>.<token>`), never by its id;
  staff make a new one (the old label stops working) or revoke it.
- Anti-abuse without a CAPTCHA (docs/service.md): opening is counted per client address and per device
  by the sign-in guard's throttle (portal.identity.throttle, keys of their own); the form carries a token
  signed with the server's key and the time it was served, refused when sent back sooner than
  MIN_FILL or later than FORM_LIFETIME; a honeypot field that people never see must stay empty; and a
  device with a ticket from its page still open within DUPLICATE_WINDOW gets that ticket's progress link
  instead of a second ticket. Wrong device or progress addresses are counted like a wrong password
  reset link, and only the wrong ones stay counted.
- The progress link is `<tenant>.<ticket>.<signature>`: an HMAC with the server's key over the tenant, the
  ticket and the ticket's progress nonce, working until the ticket's progress_expires_at. Being derived,
  the link can be shown again (to the next scan of the device while the ticket is open); a new nonce ends
  it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.service import lifecycle, workflow
from apps.service.models import Device, Ticket, TicketEvent
from apps.service.notices import CUSTOMER_REQUEST
from apps.service.objects import TICKET
from apps.service.tickets import Tickets
from apps.service.workflow import NewTicket
from interconnect.models import EnterpriseLink
from portal.actor import Actor
from portal.db.context import tenant_context
from portal.db.engine import read_phase
from portal.db.tenancy import within
from portal.db.types import utcnow
from portal.errors import Conflict, FieldError, NotFound, ValidationFailed
from portal.i18n import N_
from portal.identity.models import Tenant
from portal.identity.throttle import SignInClient, SignInGuard
from portal.identity.tokens import derive_key
from portal.notifications.service import Notifier, Recipient
from roles.policy import RolePolicy

PROGRESS_LIFETIME = timedelta(days=180)
MIN_FILL = timedelta(seconds=3)
FORM_LIFETIME = timedelta(hours=2)
DUPLICATE_WINDOW = timedelta(days=7)
# Tickets opened in the guard's window (the sign-in lockout's): per client address, and per device.
PER_ADDRESS = 10
PER_DEVICE = 5
HONEYPOT = "website"
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 ()\-]{5,40}$")
# Whom the timeline shows as acting for a customer: nobody's account.
CUSTOMER_ID = uuid.UUID(int=0)

# Each status in the customer's words.
CUSTOMER_STATUS = {
    "new": N_("We have received your request"),
    "dispatched": N_("A service partner is being arranged"),
    "accepted": N_("The service partner has taken on your request"),
    "on_the_way": N_("The engineer is on the way"),
    "on_site": N_("The engineer is on site"),
    "on_hold": N_("Waiting for parts"),
    "resolved": N_("The work is done: please confirm"),
    "confirmed": N_("You confirmed the work"),
    "closed": N_("Closed"),
    "cancelled": N_("Cancelled"),
}
# Steps that the customer sees otherwise than by the status they lead to.
CUSTOMER_ACTION = {
    "reject": N_("Another service partner is being arranged"),
    "reassign": N_("Another service partner is being arranged"),
    "reopen": N_("Reopened: the work goes on"),
}
# Steps the customer does not see (they change nothing the customer waits for), the engineer's field
# steps among them: arriving on site already shows.
HIDDEN_ACTIONS = frozenset({"assign", "pool", "unmatched", "check_in", "work_note", "part_used", "photo", "signature"})


def not_found() -> NotFound:
    return NotFound(N_("This link is not valid"), code="service_link_invalid")


class FormRefused(ValidationFailed):
    """The form came back too soon, too late or filled by a robot: sent again, it goes through."""


@dataclass(frozen=True, slots=True)
class DevicePage:
    tenant: Tenant
    device: Device
    token: str  # the page's whole address part, `<tenant>.<token>`


@dataclass(frozen=True, slots=True)
class Opened:
    ticket: Ticket
    link: str  # the progress link's token
    existing: bool  # an open ticket of the device's page, shown instead of a second one


@dataclass(frozen=True, slots=True)
class Step:
    at: datetime
    text: str


@dataclass(frozen=True, slots=True)
class Progress:
    tenant: Tenant
    ticket: Ticket
    partner: str | None
    steps: list[Step]
    status_text: str


def device_address(tenant_id: uuid.UUID, token: str) -> str:
    return f"{tenant_id.hex}.{token}"


def customer(tenant: Tenant) -> Actor:
    """The customer as an actor: nobody's account, acting through a link of theirs."""
    return Actor(
        user_id=CUSTOMER_ID,
        tenant_id=tenant.id,
        kind="customer",
        channel="web",
        display_name="customer",
        time_zone=tenant.time_zone,
        tenant_slug=tenant.slug,
        tenant_name=tenant.name,
    )


def _split(value: str, parts: int) -> list[str] | None:
    pieces = value.split(".")
    if len(value) > 200 or len(pieces) != parts or not all(pieces):
        return None
    return pieces


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(hex=value)
    except ValueError:
        return None


def new_device_token(device: Device) -> str:
    """A new address for the device's page (its label): the old one stops working."""
    device.public_token = secrets.token_urlsafe(24)
    return device_address(device.tenant_id, device.public_token)


def page_url(base_url: str, device: Device) -> str | None:
    """The device's public page, as its QR label encodes it (None: it has none)."""
    if device.public_token is None:
        return None
    return f"{base_url}/service/d/{device_address(device.tenant_id, device.public_token)}"


def revoke_device_token(device: Device) -> None:
    device.public_token = None


@dataclass(frozen=True, slots=True)
class PublicService:
    guard: SignInGuard
    secret_key: str
    notifier: Notifier
    base_url: str

    # --- the form's token ------------------------------------------------------------------------

    def _mac(self, purpose: str, message: str) -> str:
        key = derive_key(self.secret_key, purpose)
        return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()[:32]

    def form_token(self, address: str, issued: float | None = None) -> str:
        """The token the device page's form carries: when it was served, signed for this device."""
        stamp = str(int(issued if issued is not None else time.time()))
        return f"{stamp}.{self._mac('service-device-form', f'{address}:{stamp}')}"

    def check_form(self, address: str, token: str, honeypot: str) -> None:
        stamp, _, mac = token.partition(".")
        valid = stamp.isdigit() and hmac.compare_digest(mac, self._mac("service-device-form", f"{address}:{stamp}"))
        age = time.time() - int(stamp) if valid else -1.0
        if honeypot.strip() or not valid or age > FORM_LIFETIME.total_seconds():
            raise FormRefused.single("form", N_("This form has expired; it is shown again, send it once more"), "form")
        if age < MIN_FILL.total_seconds():
            raise FormRefused.single(
                "form", N_("That was quicker than a person fills in the form; send it again"), "too_fast"
            )

    # --- the progress link -----------------------------------------------------------------------

    def progress_link(self, ticket: Ticket) -> str:
        assert ticket.progress_nonce is not None
        mac = self._mac("service-progress", f"{ticket.tenant_id.hex}:{ticket.id.hex}:{ticket.progress_nonce}")
        return f"{ticket.tenant_id.hex}.{ticket.id.hex}.{mac}"

    # --- the device's page ------------------------------------------------------------------------

    async def device_page(self, session: AsyncSession, address: str, client: SignInClient) -> DevicePage:
        """The device of a page address, counted as a try of a link (only wrong ones stay counted)."""
        keys = await self.guard.count_link_attempt(client)
        async with read_phase(session):
            page = await self._device_page(session, address)
        await self.guard.succeeded(keys)
        return page

    async def _device_page(self, session: AsyncSession, address: str) -> DevicePage:
        pieces = _split(address, 2)
        tenant_id = _uuid(pieces[0]) if pieces else None
        if pieces is None or tenant_id is None:
            raise not_found()
        async with within(session, tenant_context(tenant_id, channel="web")):
            tenant = await session.scalar(select(Tenant).where(Tenant.id == tenant_id, Tenant.status == "active"))
            device = await session.scalar(select(Device).where(Device.public_token == pieces[1]))
        if tenant is None or device is None:
            raise not_found()
        return DevicePage(tenant, device, address)

    async def open(
        self,
        session: AsyncSession,
        policy: RolePolicy,
        page: DevicePage,
        form: dict[str, str],
        client: SignInClient,
        language: str,
    ) -> Opened:
        """A repair ticket on the page's device, as the customer; or the device's open one."""
        limits = [(f"service-open:device:{page.token}", PER_DEVICE)]
        if client.address:
            limits.append((f"service-open:address:{client.address}", PER_ADDRESS))
        self.check_form(page.token, form.get("form_token", ""), form.get(HONEYPOT, ""))
        await self.guard.count_requests(limits)
        actor = customer(page.tenant)
        async with within(session, tenant_context(page.tenant.id, actor=actor, channel="web")):
            existing = await self._open_one(session, page.device)
            if existing is not None:
                return Opened(existing, self.progress_link(existing), existing=True)
            phone = (form.get("contact_phone") or "").strip()
            if phone and not _PHONE.match(phone):
                raise ValidationFailed(
                    [FieldError("contact_phone", N_("may contain only digits, spaces, + - ( ) (5 to 40)"), "invalid")]
                )
            email = (form.get("contact_email") or "").strip() or None
            if email is not None and not _EMAIL.match(email):
                raise ValidationFailed([FieldError("contact_email", N_("is not an email address"), "invalid")])
            data = NewTicket(
                type="repair",
                symptoms=form.get("symptoms", ""),
                contact_name=form.get("contact_name", ""),
                contact_phone=phone,
                contact_email=email,
            )
            ticket = await workflow.open_on_device(Tickets(session, policy, actor, TICKET), data, page.device)
            ticket.progress_nonce = secrets.token_hex(16)
            ticket.progress_expires_at = utcnow() + PROGRESS_LIFETIME
            await session.flush()
            link = self.progress_link(ticket)
            await self._send_link(session, page, ticket, link, language)
        return Opened(ticket, link, existing=False)

    async def _send_link(
        self, session: AsyncSession, page: DevicePage, ticket: Ticket, link: str, language: str
    ) -> None:
        """The progress link to the contact, by email and SMS (whichever are configured and given), in the
        language the page was read in; the notice keeps the link only while a channel has to carry it."""
        person = Recipient(
            "customer", ticket.id, ticket.contact_name, ticket.contact_email, ticket.contact_phone, language
        )
        params = {"name": ticket.contact_name, "number": ticket.number, "product": ticket.product_name or ""}
        await self.notifier.notify(
            session,
            person,
            CUSTOMER_REQUEST,
            {**params, "workspace": page.tenant.name},
            link=f"{self.base_url}/service/t/{link}",
            link_expires_at=ticket.progress_expires_at,
        )

    async def _open_one(self, session: AsyncSession, device: Device) -> Ticket | None:
        return await session.scalar(
            select(Ticket)
            .where(
                Ticket.device_id == device.id,
                Ticket.channel == "device_page",
                Ticket.status.in_(lifecycle.OPEN),
                Ticket.progress_nonce.is_not(None),
                Ticket.created_at >= utcnow() - DUPLICATE_WINDOW,
            )
            .order_by(Ticket.created_at.desc())
            .limit(1)
        )

    # --- the progress page ------------------------------------------------------------------------

    async def progress(self, session: AsyncSession, link: str, client: SignInClient) -> Progress:
        keys = await self.guard.count_link_attempt(client)
        async with read_phase(session):
            found = await self._progress(session, link)
        await self.guard.succeeded(keys)
        return found

    async def view(self, session: AsyncSession, link: str) -> Progress:
        """The progress page again after `confirm` (the link is counted and checked there already)."""
        return await self._progress(session, link)

    async def _ticket(self, session: AsyncSession, link: str) -> tuple[Tenant, Ticket]:
        pieces = _split(link, 3)
        tenant_id, ticket_id = (_uuid(pieces[0]), _uuid(pieces[1])) if pieces else (None, None)
        if pieces is None or tenant_id is None or ticket_id is None:
            raise not_found()
        async with within(session, tenant_context(tenant_id, channel="web")):
            tenant = await session.scalar(select(Tenant).where(Tenant.id == tenant_id, Tenant.status == "active"))
            ticket = await session.scalar(
                select(Ticket).where(Ticket.id == ticket_id), execution_options={"populate_existing": True}
            )
        if (
            tenant is None
            or ticket is None
            or ticket.progress_nonce is None
            or not hmac.compare_digest(self.progress_link(ticket), link)
            or ticket.progress_expires_at is None
            or ticket.progress_expires_at < utcnow()
        ):
            raise not_found()
        return tenant, ticket

    async def _progress(self, session: AsyncSession, link: str) -> Progress:
        tenant, ticket = await self._ticket(session, link)
        async with within(session, tenant_context(tenant.id, channel="web")):
            events = (
                await session.scalars(
                    select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.at)
                )
            ).all()
            partner = None
            if ticket.enterprise_id is not None:
                partner = await session.scalar(
                    select(EnterpriseLink.name).where(EnterpriseLink.id == ticket.enterprise_id)
                )
        steps = [
            Step(e.at, CUSTOMER_ACTION.get(e.action) or CUSTOMER_STATUS[e.to_status])
            for e in events
            if e.action not in HIDDEN_ACTIONS
        ]
        return Progress(tenant, ticket, partner, steps, CUSTOMER_STATUS[ticket.status])

    async def confirm(
        self, session: AsyncSession, policy: RolePolicy, link: str, rating: str, comment: str, client: SignInClient
    ) -> Ticket:
        """The customer confirms the resolved ticket and rates it (once)."""
        keys = await self.guard.count_link_attempt(client)
        async with read_phase(session):
            tenant, ticket = await self._ticket(session, link)
        await self.guard.succeeded(keys)
        try:
            stars = int(rating)
        except ValueError:
            stars = 0
        actor = customer(tenant)
        async with within(session, tenant_context(tenant.id, actor=actor, channel="web")):
            ticket = await session.scalar(
                select(Ticket).where(Ticket.id == ticket.id), execution_options={"populate_existing": True}
            )
            if ticket is None:
                raise not_found()
            if ticket.rating is not None:
                raise Conflict(N_("This ticket has already been rated"), code="already_rated")
            await workflow.confirm_by_customer(Tickets(session, policy, actor, TICKET), ticket, stars, comment)
        return ticket
