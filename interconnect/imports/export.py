"""The enterprise list as an XLSX workbook in the import's columns (an exported file can be imported
again)."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from interconnect.imports.columns import EXPORT_COLUMNS
from interconnect.models import EnterpriseLink, ExternalIdentity, Membership, PartnerTier, PartnerType, Region
from portal import timezones
from portal.spreadsheets import workbook_bytes


async def export_rows(session: AsyncSession, time_zone: str = timezones.DEFAULT_TIME_ZONE) -> list[list[str]]:
    """Every enterprise of the programme as the columns of EXPORT_COLUMNS (the import's own columns first)."""
    parent = aliased(EnterpriseLink)
    same = EnterpriseLink.tenant_id
    result = await session.execute(
        select(EnterpriseLink, PartnerType.code, PartnerTier.code, Region.code, parent.code, parent.name)
        .join(PartnerType, (PartnerType.tenant_id == same) & (PartnerType.id == EnterpriseLink.partner_type_id))
        .outerjoin(PartnerTier, (PartnerTier.tenant_id == same) & (PartnerTier.id == EnterpriseLink.tier_id))
        .outerjoin(Region, (Region.tenant_id == same) & (Region.id == EnterpriseLink.region_id))
        .outerjoin(parent, (parent.tenant_id == same) & (parent.id == EnterpriseLink.parent_id))
        .order_by(EnterpriseLink.name, EnterpriseLink.id)
    )
    admins: dict[uuid.UUID, list[tuple[str, str, str]]] = {}
    people = await session.execute(
        select(Membership.link_id, Membership.display_name, ExternalIdentity.email, ExternalIdentity.mobile)
        .join(ExternalIdentity, ExternalIdentity.id == Membership.identity_id)
        .where(Membership.is_enterprise_admin.is_(True), Membership.status != "disabled")
        .order_by(Membership.created_at, Membership.id)
    )
    for link_id, name, email, mobile in people.all():
        admins.setdefault(link_id, []).append((name, email or "", mobile or ""))
    rows = []
    for link, type_code, tier_code, region_code, parent_code, parent_name in result.all():
        its = admins.get(link.id, [])
        rows.append(
            [
                link.name,
                link.code or "",
                type_code,
                tier_code or "",
                region_code or "",
                parent_code or "",
                link.contact_phone or "",
                "; ".join(a[0] for a in its),
                "; ".join(a[1] for a in its if a[1]),
                "; ".join(a[2] for a in its if a[2]),
                parent_name or "",
                link.status,
                timezones.moment_text(link.created_at, time_zone),
            ]
        )
    return rows


async def export_xlsx(session: AsyncSession, time_zone: str = timezones.DEFAULT_TIME_ZONE) -> bytes:
    rows = await export_rows(session, time_zone)
    return await asyncio.to_thread(workbook_bytes, EXPORT_COLUMNS, rows, "Enterprises")
