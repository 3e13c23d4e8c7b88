"""The programme's settings as the partner console's pages show them (partner types, tiers, regions by
id), quota bars and invitation QR codes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from interconnect.models import PartnerTier, PartnerType, Region
from interconnect.programme import Programme
from portal.http.deps import CurrentActor
from portal.identity.models import Tenant

PARENT_CHOICES = 200  # enterprises offered as a parent in a select


@dataclass(frozen=True, slots=True)
class Settings:
    """The programme's partner types, tiers and regions, with lookups by id for showing names."""

    types: list[PartnerType]
    tiers: list[PartnerTier]
    regions: list[Region]

    @property
    def type_names(self) -> dict[uuid.UUID, str]:
        return {t.id: t.name for t in self.types}

    @property
    def tier_names(self) -> dict[uuid.UUID, str]:
        return {t.id: t.name for t in self.tiers}

    @property
    def region_names(self) -> dict[uuid.UUID, str]:
        return {r.id: r.name for r in self.regions}


async def programme_settings(programme: Programme) -> Settings:
    return Settings(await programme.list(PartnerType), await programme.list(PartnerTier), await programme.list(Region))


def percent(used: int, maximum: int) -> int:
    return 100 if maximum <= 0 else min(100, round(used * 100 / maximum))


async def tenant_slug(db: AsyncSession, actor: CurrentActor) -> str:
    return (await db.scalars(select(Tenant.slug).where(Tenant.id == actor.tenant_id))).one()
