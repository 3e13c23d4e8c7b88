"""Notifications as WeChat template messages (模板消息) through the tenant's official account: a channel of the
notification service (portal.notifications) beside email and SMS.

- Which kinds go this way is the manufacturer's choice: per kind of notification, the template id it added in
  WeChat's admin console and what fills each of the template's fields (`WeChatTemplate`). A kind without a
  template is not sent on WeChat.
- `reach` is the notification service's question "where does this notice go on WeChat?", asked in the caller's
  transaction: the person's openid in the tenant's active official account (bound when they signed in from it,
  channels.wechat.official), if the kind has a template. The person's choices decide before that: a kind they
  turned off for WeChat is not asked about.
- `deliver_wechat`, the outbox subscriber `notifications.wechat`, sends it on a worker with
  `POST /cgi-bin/message/template/send` and the official account's cached access token (channels.wechat.tokens).
  WeChat's answers: 40001/42001/40014 (the token is invalid or expired) refresh it once, through the one-process
  lease, and send again; 45011 (rate limit) and -1 (system busy, once the call's own short retries are spent)
  leave the delivery to be retried later by the workers with their growing backoff; 43004 (the person does not
  follow the account) is recorded as undeliverable and not retried; any other code is recorded with its code and
  not retried. Each outcome is on the notice (`wechat_status`, `wechat_error`) and on the delivery
  (/console/deliveries, like email's and SMS's).

A one-time link (set-password, invitation, password reset) never goes by WeChat: the email or SMS carries it.
The message opens the person's inbox on the partner portal (portal.http.hosts.partner_url).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from channels.wechat.api import WeChatApi
from channels.wechat.errors import TOKEN_ERRORS, WeChatError
from channels.wechat.models import OfficialAccount, WeChatBinding, WeChatTemplate
from channels.wechat.tokens import AccessTokens
from interconnect.models import Membership
from portal.actor import Actor
from portal.db.context import tenant_context
from portal.db.types import utcnow
from portal.errors import FieldError, NotFound, ValidationFailed
from portal.http.hosts import partner_url
from portal.i18n import N_
from portal.identity.models import Tenant
from portal.ids import uuid7
from portal.notifications.kinds import NotificationKind
from portal.notifications.models import Notification
from portal.notifications.service import CREATED, Recipient
from portal.notifications.shown import shown_name
from portal.outbox import Event, PermanentFailure, Subscriber

if TYPE_CHECKING:
    from channels.wechat.service import WeChat
    from portal.notifications.service import Notifier
    from portal.services import Services

SEND_PATH = "/cgi-bin/message/template/send"
NOT_FOLLOWING = 43004
# what fills a field besides the notice's own values: its inbox title and body, in the person's language
TEXT_SOURCES = ("title", "body")
TEMPLATE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# WeChat's field names: "first", "keyword1", "remark", "thing2", "character_string3", "amount4", ...
FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
MAX_FIELDS = 10
# WeChat cuts a field's value; the platform sends no more than this of any
MAX_VALUE = 200
# the page the message opens: the person's inbox on the partner portal
INBOX_PATH = "/notifications"


def sources_of(kind: NotificationKind) -> list[str]:
    """What may fill a field of this kind's template: its values (as its sample names them) and its inbox texts."""
    return [*sorted(k for k in kind.sample if k != "link"), *TEXT_SOURCES]


def partner_kinds(notifier: Notifier) -> list[NotificationKind]:
    return notifier.kinds.for_audience("external")


@dataclass(frozen=True, slots=True)
class TemplateChoice:
    kind: NotificationKind
    template: WeChatTemplate | None
    sources: list[str]

    @property
    def text(self) -> str:
        """The fields as the console's form shows them."""
        return fields_text(self.template.fields) if self.template else ""


class TemplateSettings:
    """The tenant's template messages, in the request's unit of work (the actor's tenant)."""

    def __init__(self, session: AsyncSession, actor: Actor, notifier: Notifier) -> None:
        self.session, self.actor, self.notifier = session, actor, notifier

    def _kind(self, name: str) -> NotificationKind:
        kind = self.notifier.kinds.get(name)
        if kind is None or "external" not in kind.audience:
            raise NotFound(N_("No such kind of notification to partners"), code="unknown_kind")
        return kind

    async def list(self) -> list[TemplateChoice]:
        saved = {t.kind: t for t in await self.session.scalars(select(WeChatTemplate))}
        return [TemplateChoice(k, saved.get(k.name), sources_of(k)) for k in partner_kinds(self.notifier)]

    async def get(self, name: str) -> TemplateChoice:
        kind = self._kind(name)
        saved = await self.session.scalar(select(WeChatTemplate).where(WeChatTemplate.kind == name))
        return TemplateChoice(kind, saved, sources_of(kind))

    async def save(self, name: str, template_id: str, fields: dict[str, str]) -> TemplateChoice:
        kind = self._kind(name)
        sources = sources_of(kind)
        template_id = template_id.strip()
        errors: list[FieldError] = []
        if not TEMPLATE_ID.match(template_id):
            errors.append(
                FieldError("template_id", N_("Enter the template ID WeChat shows: letters, digits, - and _"), "invalid")
            )
        if not fields:
            errors.append(FieldError("fields", N_("Name at least one field of the template"), "required"))
        elif len(fields) > MAX_FIELDS:
            errors.append(
                FieldError("fields", N_("A template has at most %(count)s fields"), "too_many", {"count": MAX_FIELDS})
            )
        for field_name, source in fields.items():
            if not FIELD_NAME.match(field_name):
                errors.append(
                    FieldError(
                        "fields",
                        N_("%(name)s is not a field name of WeChat's (e.g. keyword1, thing2, remark)"),
                        "invalid_field",
                        {"name": shown_name(field_name)[:40]},
                    )
                )
            elif source not in sources:
                errors.append(
                    FieldError(
                        "fields",
                        N_("%(name)s: choose what fills it among %(choices)s"),
                        "invalid_source",
                        {"name": field_name, "choices": ", ".join(sources)},
                    )
                )
        if errors:
            raise ValidationFailed(errors)
        saved = await self.session.scalar(select(WeChatTemplate).where(WeChatTemplate.kind == name))
        if saved is None:
            saved = WeChatTemplate(id=uuid7(), kind=name, created_by=self.actor.user_id)
            self.session.add(saved)
        saved.template_id = template_id
        saved.fields = dict(fields)
        await self.session.flush()
        return TemplateChoice(kind, saved, sources)

    async def remove(self, name: str) -> None:
        self._kind(name)
        await self.session.execute(
            delete(WeChatTemplate).where(WeChatTemplate.kind == name).execution_options(synchronize_session=False)
        )


def parse_fields(text: str) -> dict[str, str]:
    """The console form's fields, separated by semicolons: `keyword1 = number; keyword2 = total`. A field
    named twice is refused (one of the two would be dropped unseen)."""
    fields: dict[str, str] = {}
    for line in text.replace(";", "\n").splitlines():
        if not line.strip():
            continue
        name, _, source = line.partition("=")
        if name.strip() in fields:
            raise ValidationFailed.single(
                "fields", N_("%(name)s is named twice"), "repeated", name=shown_name(name.strip())[:40]
            )
        fields[name.strip()] = source.strip()
    return fields


def fields_text(fields: dict[str, str]) -> str:
    return "; ".join(f"{name} = {source}" for name, source in fields.items())


# --- the notification service's channel ---------------------------------------------------------------------


async def reach(session: AsyncSession, recipient: Recipient, kind: str) -> str | None:
    """The partner's openid in the tenant's active official account, when the kind has a template; else None."""
    if recipient.kind != "external":
        return None
    has_template = select(WeChatTemplate.id).where(WeChatTemplate.kind == kind).exists()
    found = await session.scalar(
        select(WeChatBinding.openid)
        .join(Membership, Membership.identity_id == WeChatBinding.identity_id)
        .join(OfficialAccount, OfficialAccount.app_id == WeChatBinding.app_id)
        .where(Membership.id == recipient.id, OfficialAccount.status == "active", has_template)
        .order_by(WeChatBinding.last_sign_in_at.desc())
        .limit(1)
    )
    return found


async def available(session: AsyncSession) -> bool:
    """Whether the session's workspace sends any notification as a template message: an active official account
    and at least one kind with a template (else partners are not offered the channel)."""
    account = select(OfficialAccount.id).where(OfficialAccount.status == "active").exists()
    template = select(WeChatTemplate.id).exists()
    return bool(await session.scalar(select(account & template)))


def message_data(fields: dict[str, str], values: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The template's `data`: each field filled from its source, on one line, shorter than WeChat cuts."""
    return {
        name: {"value": shown_name(str(values.get(source, "") or ""))[:MAX_VALUE]} for name, source in fields.items()
    }


async def _record(services: Services, event: Event, status: str, error: str | None = None) -> None:
    notification_id = uuid.UUID(str(event.payload["notification_id"]))
    values: dict[str, Any] = {"wechat_status": status, "wechat_error": error[:200] if error else None}
    if status == "sent":
        values["wechat_sent_at"] = utcnow()
    async with services.db.session(tenant_context(event.tenant_id, channel="system")) as session:
        await session.execute(
            update(Notification)
            .where(Notification.id == notification_id, Notification.wechat_status != "sent")
            .values(**values)
            .execution_options(synchronize_session=False)
        )


@dataclass(frozen=True, slots=True)
class Outgoing:
    openid: str
    template_id: str
    url: str
    data: dict[str, dict[str, str]]


async def _outgoing(services: Services, event: Event) -> Outgoing | None:
    """What to send for this notice, or None: not on WeChat, sent already, or no longer wanted (its kind's
    template removed since). A notice WeChat refused is sent again only when its delivery is replayed."""
    notification_id = uuid.UUID(str(event.payload["notification_id"]))
    async with services.db.session(tenant_context(event.tenant_id, channel="system"), write=False) as session:
        row = await session.scalar(select(Notification).where(Notification.id == notification_id))
        if row is None or not row.wechat_to or row.wechat_status in ("sent", "off"):
            return None
        template = await session.scalar(select(WeChatTemplate).where(WeChatTemplate.kind == row.kind))
        tenant = (await session.scalars(select(Tenant).where(Tenant.id == event.tenant_id))).one()
        openid, kind_name, locale, params = row.wechat_to, row.kind, row.locale, dict(row.params)
    if template is None:
        await _record(services, event, "off")
        return None
    notifier: Notifier = services.notifications
    kind = notifier.kinds.get(kind_name)
    if kind is None:
        raise PermanentFailure(f"no notification kind {kind_name!r} is registered")
    title, body = notifier.renderer.inbox(kind, locale, params)
    url = partner_url(services.settings.base_url, tenant.slug, tenant.partner_domain, INBOX_PATH)
    return Outgoing(
        openid, template.template_id, url, message_data(template.fields, {**params, "title": title, "body": body})
    )


async def deliver_wechat(services: Services, event: Event) -> None:
    outgoing = await _outgoing(services, event)
    if outgoing is None:
        return
    wechat: WeChat = services.extensions["wechat"]
    # the worker's own database and a client per call: the web app's pooled client lives on its event loop
    api = WeChatApi(wechat.base_url)
    tokens = AccessTokens(services.db, api, wechat.sealer, OfficialAccount)
    try:
        token = await tokens.current(event.tenant_id)
    except NotFound as error:  # the official account was removed or disabled since
        await _record(services, event, "failed", "no_official_account")
        raise PermanentFailure("the workspace has no active WeChat official account") from error
    try:
        try:
            await api.send_template(token, outgoing.openid, outgoing.template_id, outgoing.url, outgoing.data)
        except WeChatError as error:
            if error.errcode not in TOKEN_ERRORS:
                raise
            # the cached token is stale: one refresh (one process at a time, across workers), then once more
            token = await tokens.current(event.tenant_id, stale=token)
            await api.send_template(token, outgoing.openid, outgoing.template_id, outgoing.url, outgoing.data)
    except WeChatError as error:
        if error.errcode in TOKEN_ERRORS:
            raise RuntimeError(f"WeChat refused a fresh access token ({error.errcode}); tried again later") from error
        text = f"{error.errcode} {error.errmsg}".strip()
        if error.errcode == NOT_FOLLOWING:
            await _record(services, event, "undeliverable", text)
            raise PermanentFailure(
                f"undeliverable: the person does not follow the official account ({text})"
            ) from error
        await _record(services, event, "failed", text)
        raise PermanentFailure(f"WeChat refused the template message ({text})") from error
    await _record(services, event, "sent")


SUBSCRIBERS = (
    Subscriber(
        "notifications.wechat",
        lambda event_type: event_type == CREATED,
        deliver_wechat,
        label=N_("WeChat template messages to partners"),
    ),
)
