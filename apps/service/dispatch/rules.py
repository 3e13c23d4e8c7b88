"""The tenant's dispatch rules and dispatch settings, as staff edit them (the API and the console call
these): list, create, change, reorder, delete; each rule checked whole, every mistake under its field,
nothing written while one is wrong."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.ordering.models import Category
from apps.service.dispatch.models import PREFERENCES, DispatchRule, DispatchRulePartner
from apps.service.models import TICKET_TYPES, ServiceSettings
from interconnect.models import EnterpriseLink, Region
from portal.errors import FieldError, NotFound, ValidationFailed
from portal.i18n import N_

MAX_RULES = 1000
MAX_PARTNERS = 1000
MAX_CLOSE_DAYS = 365


@dataclass(frozen=True, slots=True)
class RuleIn:
    name: str
    partner_ids: Sequence[uuid.UUID]
    region_id: uuid.UUID | None = None
    category_id: uuid.UUID | None = None
    ticket_type: str | None = None
    prefer: str = "load"
    max_open: int | None = None
    active: bool = True


@dataclass(slots=True)
class RuleView:
    id: uuid.UUID
    position: int
    name: str
    region_id: uuid.UUID | None
    region: str | None
    category_id: uuid.UUID | None
    category: str | None
    ticket_type: str | None
    prefer: str
    max_open: int | None
    active: bool
    partners: list[tuple[uuid.UUID, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "position": self.position,
            "name": self.name,
            "region_id": self.region_id,
            "region": self.region,
            "category_id": self.category_id,
            "category": self.category,
            "ticket_type": self.ticket_type,
            "prefer": self.prefer,
            "max_open": self.max_open,
            "active": self.active,
            "partners": [{"id": key, "name": name} for key, name in self.partners],
        }


async def listed(session: AsyncSession) -> list[RuleView]:
    """Every rule in the order they are tried, with the names of what they name."""
    rules = list(await session.scalars(select(DispatchRule).order_by(DispatchRule.position, DispatchRule.id)))
    return await _views(session, rules, 1)


async def one(session: AsyncSession, rule_id: uuid.UUID) -> RuleView:
    rule = await session.scalar(select(DispatchRule).where(DispatchRule.id == rule_id))
    if rule is None:
        raise NotFound(N_("No such dispatch rule"))
    before = (DispatchRule.position < rule.position) | (
        (DispatchRule.position == rule.position) & (DispatchRule.id < rule.id)
    )
    tried_before = await session.scalar(select(func.count()).select_from(DispatchRule).where(before)) or 0
    return (await _views(session, [rule], tried_before + 1))[0]


async def _views(session: AsyncSession, rules: list[DispatchRule], first_position: int) -> list[RuleView]:
    """The rules (consecutive in the order they are tried, the first at `first_position`) with the names of
    their region, product line and partners."""
    if not rules:
        return []
    region_ids = {r.region_id for r in rules if r.region_id is not None}
    category_ids = {r.category_id for r in rules if r.category_id is not None}
    regions = dict((await session.execute(select(Region.id, Region.name).where(Region.id.in_(region_ids)))).all())
    categories = dict(
        (await session.execute(select(Category.id, Category.name).where(Category.id.in_(category_ids)))).all()
    )
    partners: dict[uuid.UUID, list[tuple[uuid.UUID, str]]] = {}
    rows = await session.execute(
        select(DispatchRulePartner.rule_id, EnterpriseLink.id, EnterpriseLink.name)
        .join(
            EnterpriseLink,
            (EnterpriseLink.tenant_id == DispatchRulePartner.tenant_id)
            & (EnterpriseLink.id == DispatchRulePartner.enterprise_id),
        )
        .where(DispatchRulePartner.rule_id.in_([r.id for r in rules]))
        .order_by(EnterpriseLink.name)
    )
    for rule_id, key, name in rows:
        partners.setdefault(rule_id, []).append((key, name))
    return [
        RuleView(
            r.id,
            first_position + index,
            r.name,
            r.region_id,
            regions.get(r.region_id) if r.region_id else None,
            r.category_id,
            categories.get(r.category_id) if r.category_id else None,
            r.ticket_type,
            r.prefer,
            r.max_open,
            r.active,
            partners.get(r.id, []),
        )
        for index, r in enumerate(rules)
    ]


async def _checked(session: AsyncSession, data: RuleIn) -> tuple[str, list[uuid.UUID]]:
    errors: list[FieldError] = []
    name = (data.name or "").strip()
    if not name:
        errors.append(FieldError("name", N_("is required"), "required"))
    elif len(name) > 100:
        errors.append(FieldError("name", N_("may be at most %(max)s characters"), "too_long", {"max": 100}))
    if data.ticket_type is not None and data.ticket_type not in TICKET_TYPES:
        errors.append(
            FieldError("ticket_type", N_("must be one of %(choices)s"), "invalid", {"choices": ", ".join(TICKET_TYPES)})
        )
    if data.prefer not in PREFERENCES:
        errors.append(
            FieldError("prefer", N_("must be one of %(choices)s"), "invalid", {"choices": ", ".join(PREFERENCES)})
        )
    if data.max_open is not None and not 1 <= data.max_open <= 100_000:
        errors.append(FieldError("max_open", N_("must be a whole number from 1 to 100000"), "invalid"))
    if (
        data.region_id is not None
        and await session.scalar(select(Region.id).where(Region.id == data.region_id)) is None
    ):
        errors.append(FieldError("region_id", N_("No such region"), "unknown"))
    if (
        data.category_id is not None
        and await session.scalar(select(Category.id).where(Category.id == data.category_id)) is None
    ):
        errors.append(FieldError("category_id", N_("No such product line"), "unknown"))
    partners = list(dict.fromkeys(data.partner_ids))
    if not partners:
        errors.append(FieldError("partner_ids", N_("Choose at least one service partner"), "required"))
    elif len(partners) > MAX_PARTNERS:
        errors.append(
            FieldError("partner_ids", N_("may name at most %(max)s partners"), "too_many", {"max": MAX_PARTNERS})
        )
    else:
        known = set(await session.scalars(select(EnterpriseLink.id).where(EnterpriseLink.id.in_(partners))))
        for index, key in enumerate(partners):
            if key not in known:
                errors.append(FieldError(f"partner_ids[{index}]", N_("No such partner enterprise"), "unknown"))
    if errors:
        raise ValidationFailed(errors)
    return name, partners


def _write(rule: DispatchRule, data: RuleIn, name: str) -> None:
    rule.name = name
    rule.region_id = data.region_id
    rule.category_id = data.category_id
    rule.ticket_type = data.ticket_type
    rule.prefer = data.prefer
    rule.max_open = data.max_open
    rule.active = data.active


async def _set_partners(session: AsyncSession, rule: DispatchRule, partners: list[uuid.UUID]) -> None:
    """The rule's partners as given: those dropped deleted and those added inserted, one by one, so the
    audit log has each."""
    held = {
        p.enterprise_id: p
        for p in await session.scalars(select(DispatchRulePartner).where(DispatchRulePartner.rule_id == rule.id))
    }
    for key, row in held.items():
        if key not in partners:
            await session.delete(row)
    session.add_all([DispatchRulePartner(rule_id=rule.id, enterprise_id=key) for key in partners if key not in held])


async def create(session: AsyncSession, data: RuleIn) -> RuleView:
    """A new rule, tried after the others."""
    name, partners = await _checked(session, data)
    count = await session.scalar(select(func.count()).select_from(DispatchRule)) or 0
    if count >= MAX_RULES:
        raise ValidationFailed.single(
            "name", N_("A workspace may have at most %(max)s dispatch rules"), "too_many", max=MAX_RULES
        )
    last = await session.scalar(select(func.max(DispatchRule.position)))
    rule = DispatchRule(position=(last or 0) + 1)
    _write(rule, data, name)
    session.add(rule)
    await session.flush()
    await _set_partners(session, rule, partners)
    await session.flush()
    return await one(session, rule.id)


async def _rule(session: AsyncSession, rule_id: uuid.UUID) -> DispatchRule:
    rule = await session.scalar(select(DispatchRule).where(DispatchRule.id == rule_id))
    if rule is None:
        raise NotFound(N_("No such dispatch rule"))
    return rule


async def change(session: AsyncSession, rule_id: uuid.UUID, data: RuleIn) -> RuleView:
    rule = await _rule(session, rule_id)
    name, partners = await _checked(session, data)
    _write(rule, data, name)
    await _set_partners(session, rule, partners)
    await session.flush()
    return await one(session, rule.id)


async def remove(session: AsyncSession, rule_id: uuid.UUID) -> None:
    rule = await _rule(session, rule_id)
    await session.delete(rule)
    await session.flush()


async def reorder(session: AsyncSession, rule_ids: Sequence[uuid.UUID]) -> list[RuleView]:
    """The rules in the order given, which must name each rule once."""
    rules = {r.id: r for r in await session.scalars(select(DispatchRule))}
    if len(rule_ids) != len(set(rule_ids)) or set(rule_ids) != set(rules):
        raise ValidationFailed.single("rule_ids", N_("must name every dispatch rule exactly once"), "invalid")
    for index, key in enumerate(rule_ids):
        if rules[key].position != index + 1:
            rules[key].position = index + 1
    await session.flush()
    return await listed(session)


async def move(session: AsyncSession, rule_id: uuid.UUID, by: int) -> list[RuleView]:
    """One place up (by=-1) or down (by=1): the console's arrows."""
    order = [r.id for r in await listed(session)]
    if rule_id not in order:
        raise NotFound(N_("No such dispatch rule"))
    index = order.index(rule_id)
    other = index + by
    if 0 <= other < len(order):
        order[index], order[other] = order[other], order[index]
    return await reorder(session, order)


@dataclass(frozen=True, slots=True)
class DispatchSettings:
    auto_dispatch: bool
    auto_close_days: int | None


async def settings(session: AsyncSession) -> DispatchSettings:
    row = await session.scalar(select(ServiceSettings))
    if row is None:
        return DispatchSettings(False, 7)
    return DispatchSettings(row.auto_dispatch, row.auto_close_days)


async def save_settings(session: AsyncSession, wanted: DispatchSettings) -> DispatchSettings:
    if wanted.auto_close_days is not None and not 1 <= wanted.auto_close_days <= MAX_CLOSE_DAYS:
        raise ValidationFailed.single(
            "auto_close_days",
            N_("must be a whole number of days from 1 to %(max)s, or empty for never"),
            "invalid",
            max=MAX_CLOSE_DAYS,
        )
    row = await session.scalar(select(ServiceSettings))
    if row is None:
        row = ServiceSettings()
        session.add(row)
    row.auto_dispatch = wanted.auto_dispatch
    row.auto_close_days = wanted.auto_close_days
    await session.flush()
    return await settings(session)
