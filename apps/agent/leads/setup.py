"""Pools with their rules, and the ordered assignment rules: what the upstream sets up once."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.agent.leads.models import STRATEGIES, AssignmentRule, LeadPool
from apps.agent.objects import LEAD_FIELD_NAMES
from interconnect.models import PartnerTier, PartnerType, Region
from portal.errors import FieldError, NotFound, ValidationFailed
from portal.i18n import N_

POOL_NUMBERS = ("enterprise_limit", "person_limit", "daily_claim_limit", "follow_up_days", "convert_days")
POOL_DAYS = ("cooldown_days", "notice_days")
DEFAULT_VISIBLE = ("region_id", "product_line")
MAX_NUMBER = 100_000


def _number(errors: list[FieldError], name: str, value: Any, low: int) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(str(value).strip()) if not isinstance(value, int) or isinstance(value, bool) else value
    except ValueError:
        errors.append(FieldError(name, N_("must be a whole number"), "invalid"))
        return None
    if not low <= number <= MAX_NUMBER:
        errors.append(
            FieldError(
                name, N_("must be between %(low)s and %(high)s"), "out_of_range", {"low": low, "high": MAX_NUMBER}
            )
        )
        return None
    return number


def _name(errors: list[FieldError], value: Any) -> str:
    name = str(value or "").strip()
    if not name:
        errors.append(FieldError("name", N_("is required"), "required"))
    elif len(name) > 100:
        errors.append(FieldError("name", N_("may be at most %(max)s characters"), "too_long", {"max": 100}))
    return name


class LeadSetup:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _known(self, errors: list[FieldError], model: Any, name: str, value: uuid.UUID | None) -> None:
        if value is not None and await self.session.scalar(select(model.id).where(model.id == value)) is None:
            errors.append(FieldError(name, N_("is not known"), "unknown"))

    # --- pools ---

    async def pools(self) -> list[LeadPool]:
        return list(await self.session.scalars(select(LeadPool).order_by(LeadPool.name, LeadPool.id)))

    async def pool(self, pool_id: uuid.UUID) -> LeadPool:
        pool = await self.session.scalar(select(LeadPool).where(LeadPool.id == pool_id))
        if pool is None:
            raise NotFound(N_("No such pool"))
        return pool

    async def _pool_values(self, values: Mapping[str, Any], partial: bool) -> dict[str, Any]:
        errors: list[FieldError] = []
        out: dict[str, Any] = {}
        if "name" in values or not partial:
            out["name"] = _name(errors, values.get("name"))
        for name in POOL_NUMBERS:
            if name in values:
                out[name] = _number(errors, name, values[name], 1)
        for name in POOL_DAYS:
            if name in values:
                number = _number(errors, name, values[name], 0)
                out[name] = number if number is not None else 0
        for name, model in (("partner_type_id", PartnerType), ("region_id", Region)):
            if name in values:
                out[name] = values[name]
                await self._known(errors, model, name, values[name])
        if "visible_fields" in values:
            fields = list(dict.fromkeys(values["visible_fields"] or ()))
            unknown = [f for f in fields if f not in LEAD_FIELD_NAMES]
            if unknown:
                errors.append(
                    FieldError(
                        "visible_fields", N_("has unknown fields: %(names)s"), "invalid", {"names": ", ".join(unknown)}
                    )
                )
            out["visible_fields"] = [f for f in LEAD_FIELD_NAMES if f in fields]
        if "active" in values:
            out["active"] = bool(values["active"])
        if errors:
            raise ValidationFailed(errors)
        return out

    async def create_pool(self, values: Mapping[str, Any]) -> LeadPool:
        cleaned = await self._pool_values(values, partial=False)
        cleaned.setdefault("visible_fields", list(DEFAULT_VISIBLE))
        pool = LeadPool(**{"cooldown_days": 0, "notice_days": 1, "active": True, **cleaned})
        self.session.add(pool)
        await self.session.flush()
        return pool

    async def update_pool(self, pool_id: uuid.UUID, values: Mapping[str, Any]) -> LeadPool:
        pool = await self.pool(pool_id)
        for name, value in (await self._pool_values(values, partial=True)).items():
            setattr(pool, name, value)
        await self.session.flush()
        return pool

    # --- assignment rules ---

    async def rules(self) -> list[AssignmentRule]:
        return list(
            await self.session.scalars(
                select(AssignmentRule).order_by(AssignmentRule.position, AssignmentRule.created_at)
            )
        )

    async def rule(self, rule_id: uuid.UUID) -> AssignmentRule:
        rule = await self.session.scalar(select(AssignmentRule).where(AssignmentRule.id == rule_id))
        if rule is None:
            raise NotFound(N_("No such assignment rule"))
        return rule

    async def _rule_values(
        self, values: Mapping[str, Any], partial: bool, current: AssignmentRule | None
    ) -> dict[str, Any]:
        errors: list[FieldError] = []
        out: dict[str, Any] = {}
        if "name" in values or not partial:
            out["name"] = _name(errors, values.get("name"))
        if "strategy" in values or not partial:
            strategy = values.get("strategy") or "round_robin"
            if strategy not in STRATEGIES:
                errors.append(
                    FieldError(
                        "strategy", N_("must be one of %(choices)s"), "invalid", {"choices": ", ".join(STRATEGIES)}
                    )
                )
            out["strategy"] = strategy
        if "position" in values:
            out["position"] = _number(errors, "position", values["position"], 0) or 0
        if "capacity" in values:
            out["capacity"] = _number(errors, "capacity", values["capacity"], 1)
        if "product_line" in values:
            line = str(values["product_line"] or "").strip() or None
            if line and len(line) > 80:
                errors.append(
                    FieldError("product_line", N_("may be at most %(max)s characters"), "too_long", {"max": 80})
                )
            out["product_line"] = line
        for name, model in (
            ("partner_type_id", PartnerType),
            ("tier_id", PartnerTier),
            ("region_id", Region),
            ("pool_id", LeadPool),
        ):
            if name in values:
                out[name] = values[name]
                await self._known(errors, model, name, values[name])
        if "active" in values:
            out["active"] = bool(values["active"])
        strategy = out.get("strategy", current.strategy if current else "round_robin")
        pool_id = out.get("pool_id", current.pool_id if current else None)
        capacity = out.get("capacity", current.capacity if current else None)
        if strategy == "pool" and pool_id is None:
            errors.append(FieldError("pool_id", N_("is required when the rule puts leads in a pool"), "required"))
        if strategy == "capacity" and capacity is None:
            errors.append(FieldError("capacity", N_("is required when the rule assigns by capacity"), "required"))
        if errors:
            raise ValidationFailed(errors)
        return out

    async def create_rule(self, values: Mapping[str, Any]) -> AssignmentRule:
        cleaned = await self._rule_values(values, partial=False, current=None)
        if "position" not in cleaned:
            last = await self.session.scalar(select(func.max(AssignmentRule.position)))
            cleaned["position"] = (last or 0) + 10
        rule = AssignmentRule(**{"active": True, "cursor": 0, **cleaned})
        self.session.add(rule)
        await self.session.flush()
        return rule

    async def update_rule(self, rule_id: uuid.UUID, values: Mapping[str, Any]) -> AssignmentRule:
        rule = await self.rule(rule_id)
        for name, value in (await self._rule_values(values, partial=True, current=rule)).items():
            setattr(rule, name, value)
        await self.session.flush()
        return rule

    async def delete_rule(self, rule_id: uuid.UUID) -> None:
        await self.session.delete(await self.rule(rule_id))
        await self.session.flush()
