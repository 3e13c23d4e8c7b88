"""The upstream's partner programme settings: partner types, tiers, regions; seeded at sign-up."""

from __future__ import annotations

import re
import uuid
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from interconnect.models import PRESET_PARTNER_TYPES, InterconnectQuota, PartnerTier, PartnerType, Region
from portal.errors import Conflict, NotFound, ValidationFailed
from portal.i18n import N_
from portal.identity.accounts import check_name

CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
PRESET_TYPE_NAMES = {
    "distributor": N_("Distributor"),
    "dealer": N_("Dealer"),
    "agent": N_("Agent"),
    "service_provider": N_("Service provider"),
    "subsidiary": N_("Subsidiary"),
    "store": N_("Store"),
}
DEFAULT_TIERS = (("gold", "Gold", 30), ("silver", "Silver", 20), ("bronze", "Bronze", 10))

Setting = TypeVar("Setting", PartnerType, PartnerTier, Region)


async def seed_programme(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    """A new upstream starts with the preset partner types, three tiers and its quota."""
    for order, code in enumerate(PRESET_PARTNER_TYPES):
        session.add(
            PartnerType(tenant_id=tenant_id, code=code, name=PRESET_TYPE_NAMES[code], preset=True, sort_order=order)
        )
    for code, name, rank in DEFAULT_TIERS:
        session.add(PartnerTier(tenant_id=tenant_id, code=code, name=name, rank=rank))
    session.add(InterconnectQuota(tenant_id=tenant_id))


def check_code(code: str) -> str:
    code = code.strip().lower()
    if not CODE.match(code):
        raise ValidationFailed.single("code", N_("must be 1 to 40 lowercase letters, digits, '-' or '_'"))
    return code


class Programme:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def list(self, model: type[Setting]) -> list[Setting]:
        order = {
            PartnerType: (PartnerType.sort_order, PartnerType.code),
            PartnerTier: (PartnerTier.rank.desc(),),
            Region: (Region.code,),
        }[model]
        return list(await self.session.scalars(select(model).order_by(*order)))

    async def get(self, model: type[Setting], item_id: uuid.UUID) -> Setting:
        item = await self.session.scalar(select(model).where(model.id == item_id))
        if item is None:
            raise NotFound()
        return item

    async def by_code(self, model: type[Setting], code: str, field: str) -> Setting:
        item = await self.session.scalar(select(model).where(model.code == code.strip().lower()))
        if item is None:
            raise ValidationFailed.single(field, N_("is not a known code: %(code)s"), "unknown", code=code)
        return item

    async def create(self, model: type[Setting], code: str, name: str, rank: int = 0) -> Setting:
        code = check_code(code)
        if await self.session.scalar(select(model.id).where(model.code == code)):
            raise Conflict(N_("This code is already used"), code="code_taken")
        item = model(code=code, name=check_name(name, "name", 100))
        if isinstance(item, PartnerTier):
            item.rank = rank
        self.session.add(item)
        await self.session.flush()
        return item

    async def update(
        self,
        model: type[Setting],
        item_id: uuid.UUID,
        *,
        name: str | None = None,
        rank: int | None = None,
        active: bool | None = None,
    ) -> Setting:
        item = await self.get(model, item_id)
        if name is not None:
            item.name = check_name(name, "name", 100)
        if rank is not None and isinstance(item, PartnerTier):
            item.rank = rank
        if active is not None and isinstance(item, PartnerType):
            item.active = active
        await self.session.flush()
        return item
