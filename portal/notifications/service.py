"""The one way to notify a person: `Notifier.notify()` writes the notice (its inbox entry and what each
channel must deliver) in the caller's transaction and publishes `notification.created`, whose
subscribers (portal.notifications.senders) send the email and the SMS on the workers. Also each person's
inbox and their choice of what they receive where."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portal.actor import Actor
from portal.config import Settings
from portal.db.types import utcnow
from portal.errors import Conflict, NotFound, ValidationFailed
from portal.i18n import N_
from portal.jsonable import jsonable
from portal.notifications.kinds import Kinds, NotificationKind
from portal.notifications.models import AUDIENCE_CHANNELS, CHANNELS, Notification, NotificationPreference
from portal.notifications.render import Renderer
from portal.outbox import publish

CREATED = "notification.created"
# "customer": a person without an account (a service ticket's contact): email and SMS only, no inbox.
RecipientKind = Literal["internal", "external", "customer"]


@dataclass(frozen=True, slots=True)
class Recipient:
    """A person as the sender knows them: whose inbox (a staff user's id, or a partner's membership id)
    and where else to reach them, in which language."""

    kind: RecipientKind
    id: uuid.UUID
    name: str
    email: str | None = None
    mobile: str | None = None
    locale: str | None = None


@dataclass(frozen=True, slots=True)
class Sent:
    """What became of a notice: its row, and whether a channel will deliver it (False: it reaches the
    inbox only, or nothing, so a one-time link must be handed over some other way)."""

    notification: Notification
    delivered_by: tuple[str, ...]  # "email", "sms"

    @property
    def delivered(self) -> bool:
        return bool(self.delivered_by)


# How a package that reaches people on WeChat (channels.wechat.templates) says where a notice of a kind goes
# for one recipient: their openid in the tenant's official account, or None (not bound, no template for
# the kind, no official account). It runs in the caller's transaction.
WeChatReach = Callable[[AsyncSession, "Recipient", str], Awaitable[str | None]]
# Whether the workspace of the session sends any notification as a WeChat template message at all.
WeChatAvailable = Callable[[AsyncSession], Awaitable[bool]]


def mask_email(email: str) -> str:
    """a***@example.com: enough for the person who asked to recognise it, not to learn it."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_mobile(mobile: str) -> str:
    return f"{mobile[:3]}****{mobile[-2:]}" if len(mobile) > 6 else "****"


class Notifier:
    """Process-wide: the registered kinds, the renderer and which channels are configured."""

    def __init__(self, settings: Settings, kinds: Kinds, renderer: Renderer) -> None:
        self.settings = settings
        self.kinds = kinds
        self.renderer = renderer
        # set by the package that sends WeChat template messages; None: that channel is not offered
        self.wechat_reach: WeChatReach | None = None
        self.wechat_available: WeChatAvailable | None = None

    @property
    def channels(self) -> tuple[str, ...]:
        """The delivery channels configured (beside the inbox, which always is)."""
        return tuple(
            c for c, on in (("email", self.settings.email_configured), ("sms", self.settings.sms_configured)) if on
        )

    async def offered(self, session: AsyncSession, audience: str) -> tuple[str, ...]:
        """The delivery channels a person of this audience may choose among here (beside the inbox): email and
        SMS as configured, and for partners WeChat where the workspace sends template messages."""
        wechat = ("wechat",) if audience == "external" and await self.wechat_offered(session) else ()
        return (*self.channels, *wechat)

    async def wechat_offered(self, session: AsyncSession) -> bool:
        return self.wechat_available is not None and await self.wechat_available(session)

    def can_reach(self, recipient: Recipient) -> bool:
        """Whether a one-time link for this person can be sent to them rather than shown to an admin."""
        return bool(
            (self.settings.email_configured and recipient.email) or (self.settings.sms_configured and recipient.mobile)
        )

    async def notify(
        self,
        session: AsyncSession,
        recipient: Recipient,
        kind: str,
        params: dict[str, Any],
        *,
        link: str | None = None,
        link_expires_at: datetime | None = None,
        dedup_key: str | None = None,
        read: dict[tuple[str, uuid.UUID, str], tuple[set[str], str | None]] | None = None,
    ) -> Sent:
        """Write the notice in the caller's transaction and publish it for the senders. The kind says
        whether it is a security notice (always sent on every channel that can reach the person);
        otherwise the person's preferences choose the channels. `link`, a one-time secret link, goes by
        email or SMS only, and is not stored at all when neither will carry it. `dedup_key` makes a
        repeated call (a subscriber's event delivered twice) write nothing the second time. A caller
        sending many notices in one transaction (a job's batch) passes the same `read` to each: a person's
        channels for a kind are then read once, not once a notice."""
        spec = self.kinds[kind]
        if dedup_key is not None:
            existing = await session.scalar(select(Notification).where(Notification.dedup_key == dedup_key))
            if existing is not None:
                return Sent(existing, ())
        key = (recipient.kind, recipient.id, kind)
        if read is not None and key in read:
            wanted, wechat_to = read[key]
        else:
            wanted = set(CHANNELS) if spec.security else await self._wanted(session, recipient, kind)
            wechat_to = None
            if "wechat" in wanted and self.wechat_reach is not None and recipient.kind == "external":
                wechat_to = await self.wechat_reach(session, recipient, kind)
            if read is not None:
                read[key] = (wanted, wechat_to)
        email = "pending" if "email" in wanted and self.settings.email_configured and recipient.email else "off"
        sms = "pending" if "sms" in wanted and self.settings.sms_configured and recipient.mobile else "off"
        delivered_by = tuple(c for c, s in (("email", email), ("sms", sms)) if s == "pending")
        row = Notification(
            recipient_kind=recipient.kind,
            recipient_id=recipient.id,
            recipient_name=recipient.name[:200],
            kind=kind,
            params=jsonable({k: v for k, v in params.items() if k != "link"}),
            locale=self.renderer.language(recipient.locale),
            security=spec.security,
            in_inbox="inbox" in wanted,
            email=recipient.email if email == "pending" else None,
            mobile=recipient.mobile if sms == "pending" else None,
            email_status=email,
            sms_status=sms,
            wechat_to=wechat_to,
            wechat_status="pending" if wechat_to else "off",
            secret_link=link if delivered_by else None,
            link_expires_at=link_expires_at if delivered_by else None,
            dedup_key=dedup_key,
        )
        session.add(row)
        await session.flush()
        if delivered_by or wechat_to:
            # the id only: the senders read the rest, the link included, from the row
            publish(session, CREATED, "notification", row.id, {"notification_id": row.id, "kind": kind})
        return Sent(row, delivered_by)

    async def _wanted(self, session: AsyncSession, recipient: Recipient, kind: str) -> set[str]:
        """Every channel but those the person turned off for this kind. A WeChat template message never
        carries the one-time link: the email or SMS does (channels.wechat.templates)."""
        off = await session.scalars(
            select(NotificationPreference.channel).where(
                NotificationPreference.recipient_kind == recipient.kind,
                NotificationPreference.recipient_id == recipient.id,
                NotificationPreference.kind == kind,
                NotificationPreference.enabled.is_(False),
            )
        )
        return set(CHANNELS) - set(off)

    def inbox(self, session: AsyncSession, actor: Actor) -> Inbox:
        return Inbox(session, actor, self)

    def preferences(self, session: AsyncSession, actor: Actor) -> Preferences:
        return Preferences(session, actor, self)


@dataclass(frozen=True, slots=True)
class Entry:
    notification: Notification
    title: str
    body: str


def _whose(actor: Actor) -> Any:
    return and_(Notification.recipient_kind == actor.kind, Notification.recipient_id == actor.user_id)


class Inbox:
    """The signed-in person's own notices; nobody else's is ever found."""

    def __init__(self, session: AsyncSession, actor: Actor, notifier: Notifier) -> None:
        self.session, self.actor, self.notifier = session, actor, notifier

    def _mine(self) -> Any:
        return and_(_whose(self.actor), Notification.in_inbox.is_(True))

    async def list(
        self, language: str, *, unread_only: bool = False, limit: int = 20, offset: int = 0
    ) -> tuple[list[Entry], int]:
        where = [self._mine()]
        if unread_only:
            where.append(Notification.read_at.is_(None))
        total = await self.session.scalar(select(func.count()).select_from(Notification).where(*where)) or 0
        rows = await self.session.scalars(
            select(Notification)
            .where(*where)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return [self.entry(n, language) for n in rows], total

    def entry(self, notification: Notification, language: str) -> Entry:
        kind = self.notifier.kinds.get(notification.kind)
        if kind is None:  # a kind its package no longer registers
            return Entry(notification, notification.kind, "")
        title, body = self.notifier.renderer.inbox(kind, language, notification.params)
        return Entry(notification, title, body)

    async def unread(self) -> int:
        return (
            await self.session.scalar(
                select(func.count()).select_from(Notification).where(self._mine(), Notification.read_at.is_(None))
            )
            or 0
        )

    async def mark_read(self, notification_id: uuid.UUID) -> Notification:
        row = await self.session.scalar(select(Notification).where(self._mine(), Notification.id == notification_id))
        if row is None:
            raise NotFound(N_("No such notification"))
        if row.read_at is None:
            row.read_at = utcnow()
            await self.session.flush()
        return row

    async def mark_all_read(self) -> int:
        done = await self.session.execute(
            update(Notification)
            .where(self._mine(), Notification.read_at.is_(None))
            .values(read_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        return int(getattr(done, "rowcount", 0) or 0)


@dataclass(frozen=True, slots=True)
class Choice:
    kind: NotificationKind
    channels: dict[str, bool]  # channel -> receives it


class Preferences:
    """Which kinds the signed-in person receives on each channel (security notices always go)."""

    def __init__(self, session: AsyncSession, actor: Actor, notifier: Notifier) -> None:
        self.session, self.actor, self.notifier = session, actor, notifier

    def _audience(self) -> Literal["internal", "external"]:
        return "external" if self.actor.kind == "external" else "internal"

    async def choices(self) -> list[Choice]:
        rows = await self.session.execute(
            select(NotificationPreference.kind, NotificationPreference.channel, NotificationPreference.enabled).where(
                NotificationPreference.recipient_kind == self.actor.kind,
                NotificationPreference.recipient_id == self.actor.user_id,
            )
        )
        stored = {(k, c): e for k, c, e in rows.all()}
        channels = await self._channels()
        return [
            Choice(kind, {c: kind.security or stored.get((kind.name, c), True) for c in channels})
            for kind in self.notifier.kinds.for_audience(self._audience())
        ]

    async def _channels(self) -> tuple[str, ...]:
        """What the person chooses among: WeChat only where the workspace sends template messages."""
        channels = AUDIENCE_CHANNELS[self._audience()]
        if "wechat" in channels and not await self.notifier.wechat_offered(self.session):
            channels = tuple(c for c in channels if c != "wechat")
        return channels

    async def save(self, receiving: set[str]) -> None:
        """Every choice at once, from a form: `receiving` holds "kind:channel" for each one received."""
        for choice in await self.choices():
            if choice.kind.security:
                continue
            for channel, was in choice.channels.items():
                wanted = f"{choice.kind.name}:{channel}" in receiving
                if wanted != was:
                    await self.set(choice.kind.name, channel, wanted)

    async def set(self, kind: str, channel: str, enabled: bool) -> None:
        spec = self.notifier.kinds.get(kind)
        if spec is None or self._audience() not in spec.audience:
            raise ValidationFailed.single("kind", N_("is not a kind of notification you receive"), "unknown_kind")
        channels = await self._channels()
        if channel not in channels:
            raise ValidationFailed.single("channel", N_("must be one of %(choices)s"), choices=", ".join(channels))
        if spec.security and not enabled:
            raise Conflict(N_("Security notices always go and cannot be turned off"), code="security_notice")
        mine = (
            NotificationPreference.recipient_kind == self.actor.kind,
            NotificationPreference.recipient_id == self.actor.user_id,
            NotificationPreference.kind == kind,
            NotificationPreference.channel == channel,
        )
        await self.session.execute(delete(NotificationPreference).where(*mine))
        if not enabled:  # receiving is the default: only a refusal is stored
            self.session.add(
                NotificationPreference(
                    recipient_kind=self.actor.kind,
                    recipient_id=self.actor.user_id,
                    kind=kind,
                    channel=channel,
                    enabled=False,
                )
            )
        await self.session.flush()
