"""The email and SMS senders: outbox subscribers (run by the workers in sync/) that deliver a
`notification.created` event on their channel. Each is retried on its own (an SMTP server that is down
holds back the email, not the SMS); a notice already sent on a channel is not sent again, so an event
delivered twice sends once, short of a crash between sending and recording it (at least once)."""

from __future__ import annotations

import uuid
from email.message import EmailMessage
from email.utils import make_msgid
from html import escape
from typing import TYPE_CHECKING, Any

import aiosmtplib
import httpx
from sqlalchemy import case, select, update

from portal.config import Settings
from portal.db.context import SYSTEM, tenant_context
from portal.db.types import utcnow
from portal.i18n import N_
from portal.identity.models import Tenant
from portal.notifications.models import Notification
from portal.notifications.render import Rendered
from portal.notifications.service import CREATED
from portal.outbox import Event, PermanentFailure, Subscriber

if TYPE_CHECKING:
    from portal.notifications.service import Notifier
    from portal.services import Services


class EmailSender:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def send(self, to: str, subject: str, text: str, html: str, message_id: str) -> None:
        s = self.settings
        message = EmailMessage()
        message["From"] = s.smtp_from
        message["To"] = to
        message["Subject"] = subject
        message["Message-ID"] = message_id
        message.set_content(text)
        if html:
            message.add_alternative(html, subtype="html")
        try:
            await aiosmtplib.send(
                message,
                hostname=s.smtp_host,
                port=s.smtp_port,
                username=s.smtp_username or None,
                password=s.smtp_password or None,
                use_tls=s.smtp_tls == "tls",
                start_tls=s.smtp_tls == "starttls",
                timeout=s.smtp_timeout_seconds,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:  # 5xx for the address: retrying cannot help
            codes = [r.code for r in exc.recipients]
            if all(500 <= c < 600 for c in codes):
                raise PermanentFailure(f"the mail server refused the recipient ({', '.join(map(str, codes))})") from exc
            raise
        except aiosmtplib.SMTPAuthenticationError as exc:
            raise PermanentFailure(f"the mail server refused PORTAL_SMTP_USERNAME/PASSWORD ({exc.code})") from exc


class SmsSender:
    """The provider contract: `POST PORTAL_SMS_URL` with `Authorization: Bearer PORTAL_SMS_KEY` and the
    JSON body `{"id": "<notification id>", "to": "+86...", "text": "..."}`; any 2xx is accepted. `id`
    repeats when a message is retried, so the provider can drop a duplicate."""

    def __init__(self, settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self.transport = transport

    async def send(self, to: str, text: str, message_id: str) -> None:
        async with httpx.AsyncClient(timeout=10.0, follow_redirects=False, transport=self.transport) as client:
            response = await client.post(
                self.settings.sms_url,
                json={"id": message_id, "to": to, "text": text},
                headers={"Authorization": f"Bearer {self.settings.sms_key}"},
            )
        if 200 <= response.status_code < 300:
            return
        reason = f"the SMS provider answered {response.status_code}"
        if 400 <= response.status_code < 500 and response.status_code not in (408, 425, 429):
            raise PermanentFailure(reason)
        raise RuntimeError(reason)


def _notifier(services: Services) -> Notifier:
    return services.notifications


async def _load(services: Services, event: Event) -> Notification | None:
    notification_id = uuid.UUID(str(event.payload["notification_id"]))
    async with services.db.session(tenant_context(event.tenant_id, channel="system"), write=False) as session:
        row = await session.scalar(select(Notification).where(Notification.id == notification_id))
        if row is not None:
            session.expunge(row)
        return row


async def _email_header(services: Services, tenant_id: uuid.UUID) -> str | None:
    """The line the tenant puts at the top of its emails (portal.brand), if any."""
    async with services.db.session(tenant_context(tenant_id, channel="system"), write=False) as session:
        return await session.scalar(select(Tenant.email_header).where(Tenant.id == tenant_id))


async def _record(services: Services, event: Event, channel: str, outcome: str) -> None:
    """Record the channel's outcome and, in the same statement, drop the one-time link once no channel
    still has to deliver it (one row update: two senders finishing at once cannot both keep it)."""
    status = getattr(Notification, f"{channel}_status")
    other = Notification.sms_status if channel == "email" else Notification.email_status
    notification_id = uuid.UUID(str(event.payload["notification_id"]))
    values: dict[str, Any] = {
        f"{channel}_status": outcome,
        "secret_link": case((other == "pending", Notification.secret_link), else_=None),
    }
    if outcome == "sent":
        values[f"{channel}_sent_at"] = utcnow()
    async with services.db.session(tenant_context(event.tenant_id, channel="system")) as session:
        await session.execute(
            update(Notification)
            .where(Notification.id == notification_id, status == "pending")
            .values(**values)
            .execution_options(synchronize_session=False)
        )


def _expired(row: Notification) -> bool:
    return row.link_expires_at is not None and row.link_expires_at <= utcnow()


def _params(row: Notification) -> dict[str, Any]:
    params = dict(row.params)
    if row.secret_link is not None:
        params["link"] = row.secret_link
    return params


def _rendered(services: Services, row: Notification) -> Rendered:
    """The notification in its recipient's language, as its kind's templates render it."""
    notifier = _notifier(services)
    kind = notifier.kinds.get(row.kind)
    if kind is None:
        raise PermanentFailure(f"no notification kind {row.kind!r} is registered")
    return notifier.renderer.render(kind, row.locale, _params(row))


async def deliver_email(services: Services, event: Event) -> None:
    row = await _load(services, event)
    if row is None or row.email_status != "pending" or not row.email:
        return
    if _expired(row):
        await _record(services, event, "email", "expired")
        return
    rendered = _rendered(services, row)
    text, html = rendered.text, rendered.html
    header = await _email_header(services, event.tenant_id)
    if header:
        text, html = f"{header}\n\n{text}", f'<p class="header">{escape(header)}</p>\n{html}'
    domain = (services.settings.smtp_from.rpartition("@")[2] or "portal").strip(">")
    await EmailSender(services.settings).send(
        row.email, rendered.subject, text, html, make_msgid(row.id.hex, domain=domain)
    )
    await _record(services, event, "email", "sent")


async def deliver_sms(services: Services, event: Event) -> None:
    row = await _load(services, event)
    if row is None or row.sms_status != "pending" or not row.mobile:
        return
    if _expired(row):
        await _record(services, event, "sms", "expired")
        return
    rendered = _rendered(services, row)
    await SmsSender(services.settings).send(row.mobile, rendered.sms, str(row.id))
    await _record(services, event, "sms", "sent")


SUBSCRIBERS = (
    Subscriber(
        "notifications.email", lambda event_type: event_type == CREATED, deliver_email, label=N_("Email to people")
    ),
    Subscriber("notifications.sms", lambda event_type: event_type == CREATED, deliver_sms, label=N_("SMS to people")),
)


async def expire_links(services: Services) -> int:
    """A scheduled job: drop every one-time link whose time is up, sent or not (the link no longer works,
    and no copy of it should stay behind)."""
    async with services.db.session(SYSTEM) as session:
        done = await session.execute(
            update(Notification)
            .where(Notification.secret_link.is_not(None), Notification.link_expires_at <= utcnow())
            .values(
                secret_link=None,
                email_status=case((Notification.email_status == "pending", "expired"), else_=Notification.email_status),
                sms_status=case((Notification.sms_status == "pending", "expired"), else_=Notification.sms_status),
            )
            .execution_options(synchronize_session=False)
        )
        return int(getattr(done, "rowcount", 0) or 0)


__all__ = ["SUBSCRIBERS", "EmailSender", "SmsSender", "deliver_email", "deliver_sms", "expire_links"]
