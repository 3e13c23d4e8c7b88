"""The upstream's commission set-up: the rules (tier, product line, deal type -> rate) and each deal's
terms (its product line and type), which the rules match on when the deal is won."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.agent.amounts import rate
from apps.agent.commissions.models import DEAL_TYPES, CommissionRule, DealTerms
from apps.agent.models import Deal
from interconnect.models import PartnerTier
from portal.errors import NotFound, ValidationFailed
from portal.i18n import N_

RULE_FIELDS = ("name", "position", "tier_id", "product_line", "deal_type", "rate", "active")


def _text(field: str, value: Any, limit: int, required: bool = False) -> str | None:
    cleaned = str(value).strip() if value is not None else ""
    if not cleaned:
        if required:
            raise ValidationFailed.single(field, N_("is required"), "required")
        return None
    if len(cleaned) > limit:
        raise ValidationFailed.single(field, N_("may be at most %(max)s characters"), "too_long", max=limit)
    return cleaned


def _deal_type(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if value not in DEAL_TYPES:
        raise ValidationFailed.single(
            "deal_type", N_("must be one of %(choices)s"), "invalid", choices=", ".join(DEAL_TYPES)
        )
    return str(value)


class CommissionSetup:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def rules(self) -> list[CommissionRule]:
        return list(
            await self.session.scalars(
                select(CommissionRule).order_by(CommissionRule.position, CommissionRule.created_at)
            )
        )

    async def rule(self, rule_id: uuid.UUID) -> CommissionRule:
        rule = await self.session.scalar(select(CommissionRule).where(CommissionRule.id == rule_id))
        if rule is None:
            raise NotFound(N_("No such commission rule"))
        return rule

    async def _clean(self, values: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in values.items():
            if name == "name":
                out[name] = _text(name, value, 100, required=True)
            elif name == "product_line":
                out[name] = _text(name, value, 80)
            elif name == "deal_type":
                out[name] = _deal_type(value)
            elif name == "rate":
                if value is None or value == "":
                    raise ValidationFailed.single(name, N_("is required"), "required")
                out[name] = rate(name, value)
            elif name == "tier_id":
                if value is not None and value != "":
                    tier_id = uuid.UUID(str(value))
                    if await self.session.scalar(select(PartnerTier.id).where(PartnerTier.id == tier_id)) is None:
                        raise ValidationFailed.single(name, N_("No such tier"), "not_found")
                    out[name] = tier_id
                else:
                    out[name] = None
            elif name in ("position", "active"):
                out[name] = value
            else:
                raise KeyError(name)
        return out

    async def create(self, values: Mapping[str, Any]) -> CommissionRule:
        given = await self._clean(values)
        for required in ("name", "rate"):
            if given.get(required) is None:
                raise ValidationFailed.single(required, N_("is required"), "required")
        rule = CommissionRule(**given)
        self.session.add(rule)
        await self.session.flush()
        await self.session.refresh(rule)
        return rule

    async def update(self, rule_id: uuid.UUID, values: Mapping[str, Any]) -> CommissionRule:
        rule = await self.rule(rule_id)
        for name, value in (await self._clean(values)).items():
            setattr(rule, name, value)
        await self.session.flush()
        await self.session.refresh(rule)
        return rule

    async def delete(self, rule_id: uuid.UUID) -> None:
        """Lines it made keep their rate; they only lose the rule's name."""
        await self.session.delete(await self.rule(rule_id))
        await self.session.flush()

    async def terms(self, deal_id: uuid.UUID) -> DealTerms | None:
        await self._deal(deal_id)
        return await self.session.scalar(select(DealTerms).where(DealTerms.deal_id == deal_id))

    async def set_terms(self, deal_id: uuid.UUID, product_line: Any, deal_type: Any) -> DealTerms:
        await self._deal(deal_id)
        line, kind = _text("product_line", product_line, 80), _deal_type(deal_type)
        terms = await self.session.scalar(select(DealTerms).where(DealTerms.deal_id == deal_id))
        if terms is None:
            terms = DealTerms(deal_id=deal_id)
            self.session.add(terms)
        terms.product_line, terms.deal_type = line, kind
        await self.session.flush()
        await self.session.refresh(terms)
        return terms

    async def _deal(self, deal_id: uuid.UUID) -> None:
        if await self.session.scalar(select(Deal.id).where(Deal.id == deal_id)) is None:
            raise NotFound(N_("No such deal"))
