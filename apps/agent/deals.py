"""Deals as one actor may see and change them. Every read and write goes through the actor's data scope
(`roles.access.scoped`), every write through the field rules (`check_writable`), and every record leaves
as `shown()` makes it, so a hidden field is never in a response, a page or an export.

One class serves both sides: partners act on "partner.agent.deal", staff on "agent.deal" (same table,
their own rules). A record outside the read scope is "not found"; one readable but outside the write
scope is refused (403), so a partner learns nothing about records they may not see.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.agent.commissions.earning import deal_stage_changed
from apps.agent.listing import NEWEST, NO_SPAN, OLDEST, Sorts, Span
from apps.agent.models import STAGES, Deal
from apps.agent.objects import FIELD_NAMES, PARTNER_OBJECT
from interconnect.models import EnterpriseLink, Membership
from portal import timezones
from portal.actor import Actor
from portal.errors import FieldError, NotFound, PermissionDenied, ValidationFailed
from portal.i18n import N_
from portal.ui.numbers import is_currency
from roles.access import check_writable, hidden_fields, scoped, shown
from roles.models import RECORD_ACCESS, RecordTeamMember
from roles.policy import RolePolicy
from roles.scopes import Access

# What a deal is made of, as it is written (the fields field rules govern, and the currency).
VALUE_FIELDS = (
    "customer_name",
    "customer_contact",
    "amount",
    "currency",
    "stage",
    "expected_close",
    "notes",
    "commission_rate",
)
# What a deal shows, before field rules take their part out.
OUT_FIELDS = ("id", *VALUE_FIELDS, "owner_id", "enterprise_id", "created_by", "created_at", "updated_at")
# Columns of the export, before hidden fields are taken out.
EXPORT_FIELDS = (*VALUE_FIELDS, "created_at")
EXPORT_LIMIT = 10_000
PLACES = 4
QUANTUM = Decimal(1).scaleb(-PLACES)  # as stored: a response shows the amount as the database holds it
MAX_AMOUNT = Decimal(10) ** 14 - QUANTUM  # NUMERIC(18, 4)


REGISTERED = "registered"  # a registration filter: any deal that went through registration
ANY_PARTNER = "any"  # an enterprise filter: any partner's deal
DEAL_SORTS = Sorts(
    {
        "newest": (NEWEST, (Deal.created_at.desc(), Deal.id.desc())),
        "oldest": (OLDEST, (Deal.created_at, Deal.id)),
        "customer": (N_("Customer"), (Deal.customer_name, Deal.id)),
        "amount": (N_("Largest amount"), (Deal.amount.desc(), Deal.id)),
        "close": (N_("Expected close"), (Deal.expected_close, Deal.id)),
        "stage": (N_("Stage"), (Deal.stage, Deal.created_at.desc(), Deal.id)),
    }
)
SORT_FIELDS = {"customer": "customer_name", "amount": "amount", "close": "expected_close", "stage": "stage"}


@dataclass(frozen=True, slots=True)
class DealFilter:
    """What a deal list shows: a stage, a registration state (or REGISTERED: any), a partner (or
    ANY_PARTNER) and its tier (staff), the days it was registered, a search of the customer, an order."""

    stage: str | None = None
    registration: str | None = None
    enterprise_id: uuid.UUID | str | None = None
    tier_id: uuid.UUID | None = None
    span: Span = NO_SPAN
    search: str | None = None
    sort: str | None = None


def _decimal(errors: list[FieldError], name: str, value: Any, low: Decimal, high: Decimal) -> Decimal | None:
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        errors.append(FieldError(name, N_("must be a number"), "invalid"))
        return None
    if not number.is_finite() or not low <= number <= high:
        errors.append(
            FieldError(name, N_("must be between %(low)s and %(high)s"), "out_of_range", {"low": low, "high": high})
        )
        return None
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -PLACES:
        errors.append(FieldError(name, N_("may have at most %(places)s decimal places"), "invalid", {"places": PLACES}))
        return None
    return number.quantize(QUANTUM)


def _text(errors: list[FieldError], name: str, value: Any, limit: int, required: bool = False) -> str | None:
    cleaned = (value or "").strip() if isinstance(value, str) or value is None else str(value).strip()
    if not cleaned:
        if required:
            errors.append(FieldError(name, N_("is required"), "required"))
        return None
    if len(cleaned) > limit:
        errors.append(FieldError(name, N_("may be at most %(max)s characters"), "too_long", {"max": limit}))
        return None
    return cleaned


def clean(values: Mapping[str, Any]) -> dict[str, Any]:
    """The given values checked and normalised (only those given: a PATCH sends some). Dates and
    numbers may come as text (the form) or typed (the JSON API)."""
    errors: list[FieldError] = []
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name == "customer_name":
            out[name] = _text(errors, name, value, 200, required=True)
        elif name == "customer_contact":
            out[name] = _text(errors, name, value, 200)
        elif name == "notes":
            out[name] = _text(errors, name, value, 2000)
        elif name == "currency":
            code = (value or "").strip().upper()
            if not is_currency(code):
                errors.append(FieldError(name, N_("must be a currency code such as CNY or USD"), "invalid"))
            out[name] = code
        elif name == "stage":
            if value not in STAGES:
                errors.append(
                    FieldError(name, N_("must be one of %(choices)s"), "invalid", {"choices": ", ".join(STAGES)})
                )
            out[name] = value
        elif name == "amount":
            if value is None or value == "":
                errors.append(FieldError(name, N_("is required"), "required"))
            else:
                out[name] = _decimal(errors, name, value, Decimal(0), MAX_AMOUNT)
        elif name == "commission_rate":
            out[name] = None if value is None or value == "" else _decimal(errors, name, value, Decimal(0), Decimal(1))
        elif name == "expected_close":
            if value is None or value == "" or isinstance(value, date):
                out[name] = value or None
            else:
                try:
                    out[name] = date.fromisoformat(str(value).strip())
                except ValueError:
                    errors.append(FieldError(name, N_("must be a date (YYYY-MM-DD)"), "invalid"))
        else:
            raise KeyError(name)  # the schemas let no other field through
    if errors:
        raise ValidationFailed(errors)
    return out


def values_of(deal: Deal) -> dict[str, Any]:
    return {name: getattr(deal, name) for name in OUT_FIELDS}


class Deals:
    """The deals `actor` may reach as `obj` ("partner.agent.deal" or "agent.deal")."""

    def __init__(self, session: AsyncSession, policy: RolePolicy, actor: Actor, obj: str) -> None:
        self.session = session
        self.policy = policy
        self.actor = actor
        self.obj = obj

    # --- reading ---

    async def query(self, access: Access = "read") -> Select[tuple[Deal]]:
        return await scoped(self.session, select(Deal), self.policy, self.actor, self.obj, access)

    async def filtered(self, wanted: DealFilter) -> Select[tuple[Deal]]:
        """The deals one may read that `wanted` lets through. A search, a stage filter or an order never
        reads a field the field rules hide from the actor (it would tell what it hides)."""
        query = await self.query()
        hidden = self.hidden()
        if wanted.stage and "stage" not in hidden:
            query = query.where(Deal.stage == wanted.stage)
        if wanted.registration == REGISTERED:
            query = query.where(Deal.registration.is_not(None))
        elif wanted.registration:
            query = query.where(Deal.registration == wanted.registration)
        if wanted.enterprise_id == ANY_PARTNER or (wanted.tier_id and not wanted.enterprise_id):
            query = query.where(Deal.enterprise_id.is_not(None))
        elif wanted.enterprise_id:
            query = query.where(Deal.enterprise_id == wanted.enterprise_id)
        if wanted.tier_id:
            query = query.where(
                Deal.enterprise_id.in_(select(EnterpriseLink.id).where(EnterpriseLink.tier_id == wanted.tier_id))
            )
        query = query.where(*wanted.span.where(Deal.created_at))
        typed = (wanted.search or "").lower()
        searched = [
            func.lower(column).contains(typed, autoescape=True)
            for name, column in (("customer_name", Deal.customer_name), ("customer_contact", Deal.customer_contact))
            if name not in hidden
        ]
        if typed and searched:
            query = query.where(or_(*searched))
        return query

    def sorts(self) -> Sorts:
        """The orders the actor may choose: none by a field hidden from them."""
        hidden = self.hidden()
        return Sorts({key: value for key, value in DEAL_SORTS.orders.items() if SORT_FIELDS.get(key) not in hidden})

    async def page(
        self, stage: str | None = None, limit: int = 50, offset: int = 0, *, wanted: DealFilter | None = None
    ) -> tuple[list[Deal], int]:
        """Newest first unless `wanted` orders otherwise."""
        wanted = wanted or DealFilter(stage=stage)
        query = await self.filtered(wanted)
        total = await self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = await self.session.scalars(query.order_by(*self.sorts().by(wanted.sort)).limit(limit).offset(offset))
        return list(rows), total

    async def get(self, deal_id: uuid.UUID) -> Deal:
        """A deal the actor may read; any other (another tenant's, outside the scope) is not found."""
        deal = await self.session.scalar((await self.query()).where(Deal.id == deal_id))
        if deal is None:
            raise NotFound(N_("No such deal"))
        return deal

    async def writable(self, deal_id: uuid.UUID) -> Deal:
        """A deal the actor may change: not found if they may not even read it, refused if only read."""
        deal = await self.get(deal_id)
        if (
            await self.session.scalar((await self.query("write")).with_only_columns(Deal.id).where(Deal.id == deal_id))
            is None
        ):
            raise PermissionDenied(N_("You may read this deal but not change it"), code="record_read_only")
        return deal

    def hidden(self) -> frozenset[str]:
        return hidden_fields(self.policy, self.actor, self.obj)

    def field_rules(self) -> Mapping[str, str]:
        return self.policy.fields(self.actor, self.obj)

    def out(self, deal: Deal) -> dict[str, Any]:
        return shown(self.policy, self.actor, self.obj, values_of(deal))

    def export_columns(self) -> list[str]:
        hidden = self.hidden()
        return [name for name in EXPORT_FIELDS if name not in hidden]

    async def export_rows(self, wanted: DealFilter | None = None) -> tuple[list[str], list[list[str]]]:
        """The scoped list (what `wanted` lets through) as text cells, in the columns the actor may see."""
        columns = self.export_columns()
        rows, _total = await self.page(limit=EXPORT_LIMIT, wanted=wanted or DealFilter())
        cells = []
        for deal in rows:
            values = self.out(deal)
            cells.append([_cell(values.get(name), self.actor.time_zone) for name in columns])
        return columns, cells

    # --- writing ---

    def check_fields(self, values: Mapping[str, Any], deal: Deal | None = None) -> None:
        """Refuse a write naming a field the actor may not see or change (never dropped silently); on the
        partner side, a stage change of a registration the upstream has not approved (in conflict or
        rejected) too. Every such field in one answer."""
        errors: list[FieldError] = []
        try:
            check_writable(self.policy, self.actor, self.obj, [name for name in values if name in FIELD_NAMES])
        except ValidationFailed as refused:
            errors.extend(refused.errors)
        if (
            self.obj == PARTNER_OBJECT
            and deal is not None
            and "stage" in values
            and values["stage"] != deal.stage
            and deal.registration in ("conflict", "rejected")
            and not any(e.field == "stage" for e in errors)
        ):
            errors.append(
                FieldError("stage", N_("the stage moves once the registration is approved"), "stage_not_allowed")
            )
        if errors:
            raise ValidationFailed(errors)

    async def create(self, values: Mapping[str, Any], *, owner_id: uuid.UUID, enterprise_id: uuid.UUID | None) -> Deal:
        """`values` as given (checked here): the fields the actor sent; the others take their defaults."""
        self.check_fields(values)
        given = clean(values)
        for required in ("customer_name", "amount"):
            if required not in given:
                raise ValidationFailed.single(required, N_("is required"), "required")
        if enterprise_id is not None:
            await self._enterprise(enterprise_id)
        deal = Deal(owner_id=owner_id, enterprise_id=enterprise_id, created_by=self.actor.user_id, **given)
        deal.currency = given.get("currency") or "CNY"
        deal.stage = given.get("stage") or "registered"
        self.session.add(deal)
        await self.session.flush()
        await deal_stage_changed(self.session, deal, None)
        await self.session.refresh(deal)
        return deal

    async def update(self, deal_id: uuid.UUID, values: Mapping[str, Any], **links: uuid.UUID | None) -> Deal:
        """Change the given fields; `links` (staff only: enterprise_id) moves the deal to a partner."""
        deal = await self.writable(deal_id)
        self.check_fields(values, deal)
        given = clean(values)
        if "enterprise_id" in links:
            if links["enterprise_id"] is not None:
                await self._enterprise(links["enterprise_id"])
            deal.enterprise_id = links["enterprise_id"]
        previous = deal.stage
        for name, value in given.items():
            setattr(deal, name, value)
        await self.session.flush()
        await deal_stage_changed(self.session, deal, previous)
        await self.session.refresh(deal)
        return deal

    async def delete(self, deal_id: uuid.UUID) -> None:
        deal = await self.writable(deal_id)
        for member in await self.session.scalars(
            select(RecordTeamMember).where(
                RecordTeamMember.object == PARTNER_OBJECT, RecordTeamMember.record_id == deal.id
            )
        ):
            await self.session.delete(member)
        await self.session.delete(deal)
        await self.session.flush()

    async def _enterprise(self, enterprise_id: uuid.UUID) -> None:
        found = await self.session.scalar(select(EnterpriseLink.id).where(EnterpriseLink.id == enterprise_id))
        if found is None:
            raise ValidationFailed.single("enterprise_id", N_("No such enterprise"), "not_found")

    # --- the external team of a deal (staff) ---

    async def team(self, deal_id: uuid.UUID) -> list[dict[str, Any]]:
        await self.get(deal_id)
        rows = await self.session.execute(
            select(RecordTeamMember, Membership)
            .join(
                Membership,
                (Membership.tenant_id == RecordTeamMember.tenant_id)
                & (Membership.id == RecordTeamMember.membership_id),
            )
            .where(RecordTeamMember.object == PARTNER_OBJECT, RecordTeamMember.record_id == deal_id)
            .order_by(Membership.display_name, Membership.id)
        )
        return [
            {
                "membership_id": member.membership_id,
                "display_name": person.display_name,
                "enterprise_id": person.link_id,
                "access": member.access,
            }
            for member, person in rows
        ]

    async def set_team_member(self, deal_id: uuid.UUID, membership_id: uuid.UUID, access: str) -> None:
        """Let one partner person read (or also change) this deal, whatever their data level."""
        deal = await self.writable(deal_id)
        if access not in RECORD_ACCESS:
            raise ValidationFailed.single(
                "access", N_("must be one of %(choices)s"), "invalid", choices=", ".join(RECORD_ACCESS)
            )
        if await self.session.scalar(select(Membership.id).where(Membership.id == membership_id)) is None:
            raise ValidationFailed.single("membership_id", N_("No such partner user"), "not_found")
        row = await self._team_row(deal.id, membership_id)
        if row is None:
            row = RecordTeamMember(object=PARTNER_OBJECT, record_id=deal.id, membership_id=membership_id)
            self.session.add(row)
        row.access = access
        await self.session.flush()

    async def remove_team_member(self, deal_id: uuid.UUID, membership_id: uuid.UUID) -> None:
        deal = await self.writable(deal_id)
        row = await self._team_row(deal.id, membership_id)
        if row is None:
            raise NotFound(N_("This person is not on the deal's team"))
        await self.session.delete(row)
        await self.session.flush()

    async def _team_row(self, deal_id: uuid.UUID, membership_id: uuid.UUID) -> RecordTeamMember | None:
        return await self.session.scalar(
            select(RecordTeamMember).where(
                RecordTeamMember.object == PARTNER_OBJECT,
                RecordTeamMember.record_id == deal_id,
                RecordTeamMember.membership_id == membership_id,
            )
        )


def plain(number: Decimal) -> str:
    """A stored amount without the trailing zeros of its four places: 1200.5000 is "1200.5"."""
    text = format(number, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _cell(value: Any, time_zone: str) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezones.moment_text(value, time_zone)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return plain(value)
    return str(value)
