"""Leads as one actor reaches them: the upstream's staff ("agent.lead": make, import, distribute, decide
extensions) and partners ("partner.agent.lead": their leads as their data level gives them, and the pools
their enterprise may claim from). Every read of a held lead goes through the actor's data scope
(`roles.access.scoped`) and leaves through the field rules (`shown`); a pool's unclaimed lead shows only
the fields its pool opens.

A claim is atomic: the claimer's enterprise is locked for the transaction (a PostgreSQL advisory lock;
SQLite writes one transaction at a time anyway), so its holding and daily limits are counted with no
other claim of its in flight, and the lead's row is locked (`FOR UPDATE`), so of many claims of one lead
exactly one finds it still in the pool."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.agent.follow_ups import follow_up_values
from apps.agent.leads import rules
from apps.agent.leads.assignment import distribute_new
from apps.agent.leads.models import (
    Lead,
    LeadEvent,
    LeadExtension,
    LeadFollowUp,
    LeadPool,
)
from apps.agent.leads.notices import LEADS_ASSIGNED
from apps.agent.listing import NEWEST, NO_SPAN, OLDEST, Sorts, Span
from apps.agent.objects import LEAD_FIELD_NAMES, PARTNER_LEAD
from interconnect.models import EnterpriseLink, ExternalIdentity, Membership, Region
from interconnect.notices import recipient
from portal.actor import Actor
from portal.db.types import utcnow
from portal.errors import Conflict, FieldError, NotFound, ValidationFailed
from portal.i18n import N_
from portal.notifications.service import Notifier
from portal.spreadsheets import Columns, read_table
from roles.access import scoped, shown_to
from roles.policy import RolePolicy
from roles.scopes import Access

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TEXT_LIMITS = {"company_name": 200, "contact_name": 100, "phone": 40, "email": 254, "product_line": 80, "notes": 2000}
MAX_ERRORS = 50
MAX_EXTENSION_DAYS = 90
# What a lead shows besides its governed fields.
OUT_FIELDS = (
    "id",
    *LEAD_FIELD_NAMES,
    "source",
    "status",
    "pool_id",
    "enterprise_id",
    "owner_id",
    "holder_id",
    "assigned_at",
    "last_follow_up_at",
    "follow_up_due",
    "convert_due",
    "converted_at",
    "created_at",
)
IMPORT_COLUMNS = Columns(
    aliases={
        "company_name": ("company_name", "company", "customer", "公司名称", "公司", "客户名称"),
        "contact_name": ("contact_name", "contact", "联系人", "联系人姓名"),
        "phone": ("phone", "mobile", "电话", "手机"),
        "email": ("email", "e_mail", "邮箱", "电子邮件"),
        "region": ("region", "region_code", "区域", "区域编码"),
        "product_line": ("product_line", "product", "产品线", "意向产品"),
        "notes": ("notes", "note", "备注"),
    },
    required=("company_name",),
    max_rows=5000,
)


class LeadTaken(Conflict):
    code, title = "lead_taken", N_("This lead was already claimed by someone else")


class LeadLimitReached(Conflict):
    code, title = "lead_limit_reached", N_("A limit of this pool is reached")


class LeadCooldown(Conflict):
    code, title = "lead_cooldown", N_("You gave this lead back or lost it too recently to claim it again")


class LeadStateRefused(Conflict):
    code, title = "lead_state", N_("The lead's state does not allow this")


def _text(errors: list[FieldError], name: str, value: Any, prefix: str = "", row: int | None = None) -> str | None:
    cleaned = str(value).strip() if value is not None else ""
    if not cleaned:
        if name == "company_name":
            errors.append(_error(name, N_("is required"), "required", prefix, row))
        return None
    if len(cleaned) > TEXT_LIMITS[name]:
        errors.append(
            _error(name, N_("may be at most %(max)s characters"), "too_long", prefix, row, max=TEXT_LIMITS[name])
        )
        return None
    if name == "email" and not EMAIL.match(cleaned):
        errors.append(_error(name, N_("must be an email address"), "invalid", prefix, row))
        return None
    return cleaned


ROW_MESSAGES = {
    "required": N_("Row %(row)s: %(column)s is missing"),
    "too_long": N_("Row %(row)s: %(column)s may be at most %(max)s characters"),
    "invalid": N_("Row %(row)s: %(column)s must be an email address"),
}


def _error(name: str, message: str, code: str, prefix: str, row: int | None, **params: Any) -> FieldError:
    if row is None:
        return FieldError(name, message, code, params)
    return FieldError(f"rows[{row}].{name}", ROW_MESSAGES[code], code, {"row": row, "column": name, **params})


def clean_lead(
    values: Mapping[str, Any], row: int | None = None, errors: list[FieldError] | None = None
) -> dict[str, Any]:
    """The lead's text fields checked and trimmed (`region_id` passes through: the caller resolved it)."""
    found: list[FieldError] = [] if errors is None else errors
    out = {name: _text(found, name, values.get(name), row=row) for name in TEXT_LIMITS}
    out["region_id"] = values.get("region_id")
    if errors is None and found:
        raise ValidationFailed(found)
    return out


def _day_start(now: datetime, time_zone: str) -> datetime:
    """The start of the actor's day in the tenant's time zone, as an aware UTC instant."""
    try:
        zone = ZoneInfo(time_zone)
    except Exception:  # an unknown zone name: count days in UTC
        zone = ZoneInfo("UTC")
    local = now.astimezone(zone)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(now.tzinfo)


ANY_PARTNER = "any"  # held by a partner enterprise, whichever
LEAD_SORTS = Sorts(
    {
        "newest": (NEWEST, (Lead.created_at.desc(), Lead.id.desc())),
        "oldest": (OLDEST, (Lead.created_at, Lead.id)),
        "company": (N_("Company"), (Lead.company_name, Lead.id)),
        "assigned": (N_("Latest taken on"), (Lead.assigned_at.desc(), Lead.id.desc())),
        "status": (N_("Status"), (Lead.status, Lead.created_at.desc(), Lead.id.desc())),
    }
)
EXTENSION_FILTERS = ("requested", "granted")
SEARCHED = {
    "company_name": Lead.company_name,
    "contact_name": Lead.contact_name,
    "phone": Lead.phone,
    "email": Lead.email,
}


@dataclass(frozen=True, slots=True)
class LeadFilter:
    """What a lead list shows. `enterprise_id` (or ANY_PARTNER) and `tier_id` name the partner; the
    `span` bounds when the partner took the lead on, or, with `recycled` (a reason), when it was taken
    back from the partner for that reason, or, with `extension`, when the partner asked for more time
    ("requested") or was given it ("granted")."""

    status: str | None = None
    pool_id: uuid.UUID | None = None
    enterprise_id: uuid.UUID | str | None = None
    search: str | None = None
    tier_id: uuid.UUID | None = None
    span: Span = NO_SPAN
    recycled: str | None = None
    extension: str | None = None
    sort: str | None = None


class Leads:
    """The leads `actor` reaches as `obj` ("partner.agent.lead" or "agent.lead")."""

    def __init__(
        self, session: AsyncSession, policy: RolePolicy, actor: Actor, obj: str, notifier: Notifier | None = None
    ) -> None:
        self.session = session
        self.policy = policy
        self.actor = actor
        self.obj = obj
        self.notifier = notifier

    async def _tell_partners(self, leads: Sequence[Lead]) -> None:
        """The enterprises the upstream just gave leads to hear of it: their active admins, one notice per
        enterprise however many leads (an import may hand out hundreds)."""
        given: dict[uuid.UUID, list[Lead]] = {}
        for lead in leads:
            if lead.status == "assigned" and lead.enterprise_id is not None:
                given.setdefault(lead.enterprise_id, []).append(lead)
        if self.notifier is None or not given:
            return
        admins = await self.session.execute(
            select(Membership, ExternalIdentity)
            .join(ExternalIdentity, ExternalIdentity.id == Membership.identity_id)
            .where(
                Membership.link_id.in_(list(given)),
                Membership.status == "active",
                Membership.is_enterprise_admin.is_(True),
            )
        )
        for membership, identity in admins:
            mine = given[membership.link_id] if membership.link_id else []
            params = {
                "name": membership.display_name,
                "workspace": self.actor.tenant_name,
                "count": len(mine),
                "company": mine[0].company_name,
            }
            await self.notifier.notify(self.session, recipient(membership, identity), LEADS_ASSIGNED, params)

    # --- reading ---

    async def query(self, access: Access = "read") -> Select[tuple[Lead]]:
        return await scoped(self.session, select(Lead), self.policy, self.actor, self.obj, access)

    async def filtered(self, wanted: LeadFilter) -> Select[tuple[Lead]]:
        """The leads one may read that `wanted` lets through."""
        query = await self.query()
        if wanted.status:
            query = query.where(Lead.status == wanted.status)
        if wanted.pool_id:
            query = query.where(Lead.pool_id == wanted.pool_id)
        hidden = self.policy.hidden(self.actor, self.obj)
        searched = [
            func.lower(column).contains((wanted.search or "").lower(), autoescape=True)
            for name, column in SEARCHED.items()
            if name not in hidden  # a search never reads what the field rules hide from the actor
        ]
        if wanted.search and searched:
            query = query.where(or_(*searched))
        partner = wanted.enterprise_id
        tier = select(EnterpriseLink.id).where(EnterpriseLink.tier_id == wanted.tier_id)

        def of_partner(column: Any) -> list[ColumnElement[bool]]:
            conditions = []
            if partner == ANY_PARTNER or (wanted.tier_id and not partner):
                conditions.append(column.is_not(None))
            elif partner:
                conditions.append(column == partner)
            if wanted.tier_id:
                conditions.append(column.in_(tier))
            return conditions

        if wanted.recycled:
            query = query.where(
                Lead.id.in_(
                    select(LeadEvent.lead_id).where(
                        LeadEvent.action == "recycled",
                        LeadEvent.note == wanted.recycled,
                        *wanted.span.where(LeadEvent.at),
                        *of_partner(LeadEvent.enterprise_id),
                    )
                )
            )
        elif wanted.extension:
            moment = LeadExtension.created_at if wanted.extension == "requested" else LeadExtension.decided_at
            asked = select(LeadExtension.lead_id).where(
                *wanted.span.where(moment), *of_partner(LeadExtension.enterprise_id)
            )
            if wanted.extension == "granted":
                asked = asked.where(LeadExtension.status == "approved")
            query = query.where(Lead.id.in_(asked))
        else:
            query = query.where(*of_partner(Lead.enterprise_id), *wanted.span.where(Lead.assigned_at))
        return query

    def sorts(self) -> Sorts:
        """The orders offered: none by a field the field rules hide from the actor."""
        hidden = self.policy.hidden(self.actor, self.obj)
        return Sorts({k: v for k, v in LEAD_SORTS.orders.items() if not (k == "company" and "company_name" in hidden)})

    async def page(self, wanted: LeadFilter, limit: int = 50, offset: int = 0) -> tuple[list[Lead], int]:
        query = await self.filtered(wanted)
        total = await self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = await self.session.scalars(query.order_by(*self.sorts().by(wanted.sort)).limit(limit).offset(offset))
        return list(rows), total

    async def get(self, lead_id: uuid.UUID, access: Access = "read", lock: bool = False) -> Lead:
        query = (await self.query(access)).where(Lead.id == lead_id)
        if lock:
            query = query.with_for_update().execution_options(populate_existing=True)
        lead = await self.session.scalar(query)
        if lead is None:
            raise NotFound(N_("No such lead"))
        return lead

    def out(self, lead: Lead) -> dict[str, Any]:
        return self.out_many([lead])[0]

    def out_many(self, leads: Sequence[Lead]) -> list[dict[str, Any]]:
        show = shown_to(self.policy, self.actor, self.obj)
        return [show({name: getattr(lead, name) for name in OUT_FIELDS}) for lead in leads]

    async def history(self, lead_id: uuid.UUID) -> tuple[list[LeadEvent], list[LeadFollowUp]]:
        events = await self.session.scalars(
            select(LeadEvent).where(LeadEvent.lead_id == lead_id).order_by(LeadEvent.at, LeadEvent.id)
        )
        follow_ups = await self.session.scalars(
            select(LeadFollowUp).where(LeadFollowUp.lead_id == lead_id).order_by(LeadFollowUp.created_at.desc())
        )
        return list(events), list(follow_ups)

    def _event(self, lead: Lead, action: str, enterprise_id: uuid.UUID | None = None, note: str | None = None) -> None:
        self.session.add(
            LeadEvent(
                lead_id=lead.id,
                action=action,
                actor_kind=self.actor.kind,
                actor_id=self.actor.user_id,
                enterprise_id=enterprise_id,
                note=note,
                at=utcnow(),
            )
        )

    async def _pool(self, pool_id: uuid.UUID | None) -> LeadPool | None:
        if pool_id is None:
            return None
        return await self.session.scalar(select(LeadPool).where(LeadPool.id == pool_id))

    # --- the upstream's side ---

    async def create(self, values: Mapping[str, Any], source: str = "manual", distribute: bool = True) -> Lead:
        """A lead from the console or an integration; the assignment rules place it unless told not to."""
        cleaned = clean_lead(values)
        if cleaned["region_id"] is not None and not await self._region_exists(cleaned["region_id"]):
            raise ValidationFailed.single("region_id", N_("is not known"), "unknown")
        lead = self._new(cleaned, source)
        self.session.add(lead)
        await self.session.flush()
        self._event(lead, "created", note=source)
        if distribute:
            await distribute_new(self.session, lead, self.actor.user_id, utcnow())
        await self.session.flush()
        await self._tell_partners([lead])
        return lead

    def _new(self, cleaned: Mapping[str, Any], source: str) -> Lead:
        return Lead(
            **cleaned,
            source=source,
            status="new",
            owner_id=self.actor.user_id,
            enterprise_id=None,
            created_by=self.actor.user_id,
        )

    async def _region_exists(self, region_id: uuid.UUID) -> bool:
        return await self.session.scalar(select(Region.id).where(Region.id == region_id)) is not None

    async def import_file(self, filename: str, content: bytes, distribute: bool = True) -> dict[str, int]:
        """Every row of the file made into a lead, or none: a refusal names each bad row by its number."""
        table = await asyncio.to_thread(read_table, filename, content, IMPORT_COLUMNS)
        regions = {
            code.lower(): region_id for code, region_id in await self.session.execute(select(Region.code, Region.id))
        }
        errors: list[FieldError] = []
        cleaned_rows: list[dict[str, Any]] = []
        for row in table:
            found: list[FieldError] = []
            code = (row.values.get("region") or "").strip()
            region_id = regions.get(code.lower()) if code else None
            if code and region_id is None:
                found.append(
                    FieldError(
                        f"rows[{row.number}].region",
                        N_("Row %(row)s: no region has the code %(code)s"),
                        "unknown",
                        {"row": row.number, "code": code},
                    )
                )
            cleaned = clean_lead({**row.values, "region_id": region_id}, row=row.number, errors=found)
            if found:
                errors.extend(found)
            else:
                cleaned_rows.append(cleaned)
            if len(errors) >= MAX_ERRORS:
                break
        if errors:
            raise ValidationFailed(errors, N_("The file was not imported: correct the rows named and upload it again"))
        leads = [self._new(cleaned, "import") for cleaned in cleaned_rows]
        self.session.add_all(leads)
        await self.session.flush()
        counts = {"imported": len(leads), "assigned": 0, "pooled": 0}
        now = utcnow()
        for lead in leads:
            self._event(lead, "created", note="import")
            if distribute:
                await distribute_new(self.session, lead, self.actor.user_id, now)
            if lead.status in ("assigned", "pooled"):
                counts[lead.status] += 1
        await self.session.flush()
        await self._tell_partners(leads)
        return counts

    async def distribute(self, lead_id: uuid.UUID, enterprise_id: uuid.UUID | None, pool_id: uuid.UUID | None) -> Lead:
        """By hand: to a partner enterprise (with `pool_id` its home pool, whose rules recycle it), or into a
        pool. A lead a partner holds is taken from it first (it may claim it again after the cooldown)."""
        if (enterprise_id is None) == (pool_id is None) and enterprise_id is None:
            raise ValidationFailed.single("enterprise_id", N_("name a partner enterprise or a pool"), "required")
        lead = await self.get(lead_id, "write", lock=True)
        if lead.status in ("converted", "closed"):
            raise LeadStateRefused(N_("A converted or closed lead is not distributed again"))
        pool = await self._pool(pool_id)
        if pool_id is not None and pool is None:
            raise ValidationFailed.single("pool_id", N_("is not known"), "unknown")
        now = utcnow()
        if lead.status == "assigned" and lead.enterprise_id is not None:
            self._event(lead, "recycled", lead.enterprise_id, note="redistributed")
        if enterprise_id is not None:
            link = await self.session.scalar(select(EnterpriseLink).where(EnterpriseLink.id == enterprise_id))
            if link is None or link.status != "active":
                raise ValidationFailed.single("enterprise_id", N_("is not an active partner enterprise"), "unknown")
            lead.status, lead.enterprise_id, lead.pool_id = "assigned", link.id, pool_id
            lead.owner_id, lead.holder_id = self.actor.user_id, None
            rules.start_clock(lead, pool, now)
            self._event(lead, "assigned", link.id)
            await self.session.flush()
            await self._tell_partners([lead])
        else:
            assert pool is not None
            lead.status, lead.pool_id, lead.enterprise_id = "pooled", pool.id, None
            lead.owner_id, lead.holder_id = lead.created_by, None
            rules.stop_clock(lead)
            self._event(lead, "pooled")
        await self.session.flush()
        return lead

    async def extensions(self, status: str | None = "pending") -> list[tuple[LeadExtension, Lead]]:
        """Extension requests on the leads one may read, oldest first."""
        readable = (await self.query()).subquery()
        query = (
            select(LeadExtension, Lead)
            .join(Lead, Lead.id == LeadExtension.lead_id)
            .where(LeadExtension.lead_id.in_(select(readable.c.id)))
        )
        if status:
            query = query.where(LeadExtension.status == status)
        return [
            (e, lead) for e, lead in await self.session.execute(query.order_by(LeadExtension.created_at).limit(200))
        ]

    async def decide_extension(self, extension_id: uuid.UUID, approve: bool) -> LeadExtension:
        extension = await self.session.scalar(
            select(LeadExtension).where(LeadExtension.id == extension_id).with_for_update()
        )
        if extension is None:
            raise NotFound(N_("No such extension request"))
        lead = await self.get(extension.lead_id, "write", lock=True)
        if extension.status != "pending":
            raise LeadStateRefused(N_("This request is already decided"))
        extension.status = "approved" if approve else "rejected"
        extension.decided_by, extension.decided_at = self.actor.user_id, utcnow()
        if approve:
            if lead.status != "assigned" or lead.enterprise_id != extension.enterprise_id:
                raise LeadStateRefused(N_("The partner no longer holds this lead"))
            rules.extended(lead, await self._pool(lead.pool_id), extension.days)
            self._event(lead, "extended", lead.enterprise_id, note=str(extension.days))
        await self.session.flush()
        return extension

    # --- both sides: working on a held lead ---

    async def follow_up(self, lead_id: uuid.UUID, values: Mapping[str, Any]) -> LeadFollowUp:
        given = follow_up_values(values)
        lead = await self.get(lead_id, "write", lock=True)
        if lead.status != "assigned":
            raise LeadStateRefused(N_("Only a lead someone holds is followed up"))
        now = utcnow()
        entry = LeadFollowUp(
            lead_id=lead.id,
            **given,
            author_kind=self.actor.kind,
            author_id=self.actor.user_id,
            enterprise_id=self.actor.enterprise_id,
            created_at=now,
        )
        self.session.add(entry)
        rules.followed_up(lead, await self._pool(lead.pool_id), now)
        self._event(lead, "followed_up", lead.enterprise_id)
        await self.session.flush()
        return entry

    async def convert(self, lead_id: uuid.UUID) -> Lead:
        lead = await self.get(lead_id, "write", lock=True)
        if lead.status != "assigned":
            raise LeadStateRefused(N_("Only a lead someone holds is converted"))
        lead.status, lead.converted_at = "converted", utcnow()
        rules.stop_clock(lead)
        self._event(lead, "converted", lead.enterprise_id)
        await self.session.flush()
        return lead

    # --- the partner's side ---

    async def eligible_pools(self) -> dict[uuid.UUID, LeadPool]:
        """The active pools the actor's enterprise may claim from: its partner type and its region. Pools
        are a handful per tenant, read whole; the leads in them are then one indexed range per pool."""
        if self.actor.enterprise_id is None:
            return {}
        region_id = await self.session.scalar(
            select(EnterpriseLink.region_id).where(EnterpriseLink.id == self.actor.enterprise_id)
        )
        pools = await self.session.scalars(select(LeadPool).where(LeadPool.active.is_(True)))
        return {
            p.id: p
            for p in pools
            if (p.partner_type_id is None or p.partner_type_id == self.actor.partner_type_id)
            and (p.region_id is None or p.region_id == region_id)
        }

    def pool_out(self, lead: Lead, pool: LeadPool) -> dict[str, Any]:
        """An unclaimed lead as a pool shows it: the fields the pool opens, less what field rules hide."""
        hidden = self.policy.hidden(self.actor, PARTNER_LEAD)
        opened = [name for name in LEAD_FIELD_NAMES if name in pool.visible_fields and name not in hidden]
        return {
            "id": lead.id,
            "pool_id": pool.id,
            "pool_name": pool.name,
            "created_at": lead.created_at,
            **{name: getattr(lead, name) for name in opened},
        }

    async def pool_page(
        self, pool_id: uuid.UUID | None = None, limit: int = 50, offset: int = 0
    ) -> tuple[list[dict[str, Any]], int, dict[uuid.UUID, LeadPool]]:
        pools = await self.eligible_pools()
        wanted = [pool_id] if pool_id in pools else [] if pool_id else list(pools)
        if not wanted:
            return [], 0, pools
        query = select(Lead).where(Lead.pool_id.in_(wanted), Lead.status == "pooled")
        total = await self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = await self.session.scalars(query.order_by(Lead.created_at, Lead.id).limit(limit).offset(offset))
        return [self.pool_out(lead, pools[lead.pool_id]) for lead in rows if lead.pool_id], total, pools

    async def _lock_claimer(self, claimer: uuid.UUID | None) -> None:
        """Claims of one enterprise (or one staff member), one at a time until the transaction ends
        (PostgreSQL; on SQLite a writing transaction already holds the database's one write lock)."""
        if self.session.bind.dialect.name == "postgresql":
            await self.session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"agent.claim:{claimer}"))))

    async def claim(self, lead_id: uuid.UUID) -> Lead:
        """Take a lead from a pool. A partner claims for its enterprise from the pools its type and region
        may claim from; the upstream's staff claim for themselves from any active pool, under the same
        person, daily and cooldown rules (the enterprise limit is the partners')."""
        actor = self.actor
        staff = actor.kind == "internal"
        if not staff and actor.enterprise_id is None:
            raise NotFound(N_("No such lead in your pools"))
        if staff:
            pools = {p.id: p for p in await self.session.scalars(select(LeadPool).where(LeadPool.active.is_(True)))}
        else:
            pools = await self.eligible_pools()
        await self._lock_claimer(actor.user_id if staff else actor.enterprise_id)
        lead = await self.session.scalar(
            select(Lead)
            .where(Lead.id == lead_id, Lead.pool_id.in_(list(pools)))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if lead is None or lead.pool_id is None:
            raise NotFound(N_("No such lead in your pools"))
        if lead.status != "pooled":
            raise LeadTaken()
        pool = pools[lead.pool_id]
        now = utcnow()
        await self._check_limits(lead, pool, now)
        lead.status, lead.enterprise_id = "assigned", None if staff else actor.enterprise_id
        lead.owner_id = lead.holder_id = actor.user_id
        rules.start_clock(lead, pool, now)
        self._event(lead, "claimed", lead.enterprise_id)
        await self.session.flush()
        return lead

    async def _check_limits(self, lead: Lead, pool: LeadPool, now: datetime) -> None:
        actor = self.actor
        held = select(func.count()).select_from(Lead).where(Lead.pool_id == pool.id, Lead.status == "assigned")
        if pool.enterprise_limit is not None and actor.enterprise_id is not None:
            count = await self.session.scalar(held.where(Lead.enterprise_id == actor.enterprise_id)) or 0
            if count >= pool.enterprise_limit:
                raise LeadLimitReached(
                    N_("Your enterprise already holds %(limit)s leads of this pool"), limit=pool.enterprise_limit
                )
        if pool.person_limit is not None:
            count = await self.session.scalar(held.where(Lead.holder_id == actor.user_id)) or 0
            if count >= pool.person_limit:
                raise LeadLimitReached(N_("You already hold %(limit)s leads of this pool"), limit=pool.person_limit)
        if pool.daily_claim_limit is not None:
            claimed = await self.session.scalar(
                select(func.count())
                .select_from(LeadEvent)
                .where(
                    LeadEvent.actor_id == actor.user_id,
                    LeadEvent.action == "claimed",
                    LeadEvent.at >= _day_start(now, actor.time_zone),
                )
            )
            if (claimed or 0) >= pool.daily_claim_limit:
                raise LeadLimitReached(
                    N_("You claimed %(limit)s leads today, as many as a day allows"), limit=pool.daily_claim_limit
                )
        if pool.cooldown_days:
            # who lost it: the partner enterprise, or (held by the upstream's staff) the person
            lost_by = (
                LeadEvent.enterprise_id == actor.enterprise_id
                if actor.enterprise_id is not None
                else (LeadEvent.enterprise_id.is_(None) & (LeadEvent.actor_id == actor.user_id))
            )
            last = await self.session.scalar(
                select(func.max(LeadEvent.at)).where(
                    LeadEvent.lead_id == lead.id, LeadEvent.action.in_(("returned", "recycled")), lost_by
                )
            )
            if last is not None and last > now - timedelta(days=pool.cooldown_days):
                raise LeadCooldown(
                    N_("Your enterprise gave this lead back or lost it less than %(days)s days ago")
                    if actor.enterprise_id is not None
                    else N_("You gave this lead back or lost it less than %(days)s days ago"),
                    days=pool.cooldown_days,
                )

    async def give_back(self, lead_id: uuid.UUID, note: str | None = None) -> Lead:
        """The holder hands a lead back: into its pool, or to the upstream without one. A partner gives
        back what its enterprise holds; a staff member what they claimed themselves."""
        lead = await self.get(lead_id, "write", lock=True)
        if self.actor.kind == "internal":
            if lead.status != "assigned" or lead.enterprise_id is not None or lead.holder_id != self.actor.user_id:
                raise LeadStateRefused(N_("Only a lead you claimed is given back"))
        elif lead.status != "assigned" or lead.enterprise_id != self.actor.enterprise_id:
            raise LeadStateRefused(N_("Only a lead your enterprise holds is given back"))
        released_by = lead.enterprise_id
        release(lead)
        self._event(lead, "returned", released_by, note=(note or "").strip()[:500] or None)
        await self.session.flush()
        return lead

    async def request_extension(self, lead_id: uuid.UUID, days: int, reason: str | None) -> LeadExtension:
        if not 1 <= days <= MAX_EXTENSION_DAYS:
            raise ValidationFailed.single(
                "days", N_("must be between %(low)s and %(high)s"), "out_of_range", low=1, high=MAX_EXTENSION_DAYS
            )
        reason = (reason or "").strip() or None
        if reason and len(reason) > 500:
            raise ValidationFailed.single("reason", N_("may be at most %(max)s characters"), "too_long", max=500)
        lead = await self.get(lead_id, "write", lock=True)
        if lead.status != "assigned" or rules.recycle_at(lead) is None or lead.enterprise_id is None:
            raise LeadStateRefused(N_("Only a lead your enterprise holds, with a deadline, may be extended"))
        pending = await self.session.scalar(
            select(LeadExtension.id).where(LeadExtension.lead_id == lead.id, LeadExtension.status == "pending")
        )
        if pending is not None:
            raise LeadStateRefused(N_("An extension of this lead is already waiting for a decision"))
        extension = LeadExtension(
            lead_id=lead.id, enterprise_id=lead.enterprise_id, requested_by=self.actor.user_id, days=days, reason=reason
        )
        self.session.add(extension)
        await self.session.flush()
        return extension


def release(lead: Lead) -> None:
    """The lead leaves its holder: back into its pool, or to the upstream (new) without one."""
    lead.status = "pooled" if lead.pool_id is not None else "new"
    lead.noticed = False
    lead.enterprise_id, lead.holder_id, lead.owner_id = None, None, lead.created_by
    rules.stop_clock(lead)
