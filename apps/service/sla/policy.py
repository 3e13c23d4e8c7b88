"""A tenant's service-level targets: the defaults a new tenant starts with, and the target a ticket of
a given priority and type is held to."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.service.models import PRIORITIES, TICKET_TYPES, ServiceSettings, SlaTarget

WARNING_PERCENT = 80
# business minutes (response, resolution) per priority; an installation gets twice the resolution time
_BY_PRIORITY = {"urgent": (60, 480), "high": (120, 960), "normal": (240, 1620), "low": (480, 2700)}


def default_targets() -> list[tuple[str, str, int, int]]:
    """(priority, type, response minutes, resolution minutes) for every priority and type."""
    return [
        (priority, kind, _BY_PRIORITY[priority][0], _BY_PRIORITY[priority][1] * (2 if kind == "installation" else 1))
        for priority in PRIORITIES
        for kind in TICKET_TYPES
    ]


def seed_targets(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    for priority, kind, response, resolution in default_targets():
        session.add(
            SlaTarget(
                tenant_id=tenant_id,
                priority=priority,
                type=kind,
                response_minutes=response,
                resolution_minutes=resolution,
            )
        )


async def target_for(session: AsyncSession, priority: str, kind: str) -> SlaTarget | None:
    return await session.scalar(select(SlaTarget).where(SlaTarget.priority == priority, SlaTarget.type == kind))


async def warning_percent(session: AsyncSession) -> int:
    value = await session.scalar(select(ServiceSettings.sla_warning_percent))
    return WARNING_PERCENT if value is None else value
