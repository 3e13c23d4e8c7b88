"""A tenant's service-level targets: the defaults a new tenant starts with, the target a ticket of a
given priority and type is held to, and reading and changing them (checked whole)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.service.models import PRIORITIES, TICKET_TYPES, ServiceSettings, SlaTarget
from portal.errors import FieldError, ValidationFailed
from portal.i18n import N_

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


MAX_MINUTES = 366 * 24 * 60  # a year of business minutes: anything longer is a typing mistake


@dataclass(frozen=True)
class TargetEntry:
    priority: str
    type: str
    response_minutes: int
    resolution_minutes: int


@dataclass(frozen=True)
class Levels:
    """A tenant's service levels as the API shows and takes them."""

    warning_percent: int
    targets: list[TargetEntry]


async def levels(session: AsyncSession) -> Levels:
    rows = await session.scalars(select(SlaTarget))
    order = {(p, t): n for n, (p, t, _r, _s) in enumerate(default_targets())}
    targets = sorted(
        (TargetEntry(r.priority, r.type, r.response_minutes, r.resolution_minutes) for r in rows),
        key=lambda e: order.get((e.priority, e.type), len(order)),
    )
    return Levels(await warning_percent(session), targets)


def _minutes(errors: list[FieldError], field: str, value: int) -> None:
    if not 1 <= value <= MAX_MINUTES:
        errors.append(
            FieldError(field, N_("must be between 1 and %(max)s minutes"), "out_of_range", {"max": MAX_MINUTES})
        )


def mistakes(wanted: Levels) -> list[FieldError]:
    """Each mistake in the levels, under its field (`targets[2].response_minutes`)."""
    errors: list[FieldError] = []
    if not 1 <= wanted.warning_percent <= 99:
        errors.append(FieldError("warning_percent", N_("must be between 1 and 99"), "out_of_range"))
    seen: set[tuple[str, str]] = set()
    for index, entry in enumerate(wanted.targets):
        where = f"targets[{index}]"
        if entry.priority not in PRIORITIES:
            errors.append(FieldError(f"{where}.priority", N_("must be low, normal, high or urgent"), "invalid"))
        if entry.type not in TICKET_TYPES:
            errors.append(
                FieldError(f"{where}.type", N_("must be installation, repair, maintenance or inspection"), "invalid")
            )
        if (entry.priority, entry.type) in seen:
            errors.append(FieldError(f"{where}.type", N_("this priority and type are listed twice"), "duplicate"))
        seen.add((entry.priority, entry.type))
        _minutes(errors, f"{where}.response_minutes", entry.response_minutes)
        _minutes(errors, f"{where}.resolution_minutes", entry.resolution_minutes)
    return errors


async def replace(session: AsyncSession, wanted: Levels) -> Levels:
    """Set the warning share and the targets given (each priority and type at most once; those left out
    stay as they are). Refused whole, each mistake under its field. Tickets already open keep the targets
    they were opened with."""
    errors = mistakes(wanted)
    if errors:
        raise ValidationFailed(errors)
    settings = await session.scalar(select(ServiceSettings))
    if settings is None:
        settings = ServiceSettings()
        session.add(settings)
    settings.sla_warning_percent = wanted.warning_percent
    existing = {(r.priority, r.type): r for r in await session.scalars(select(SlaTarget))}
    for entry in wanted.targets:
        row = existing.get((entry.priority, entry.type))
        if row is None:
            row = SlaTarget(priority=entry.priority, type=entry.type)
            session.add(row)
        row.response_minutes, row.resolution_minutes = entry.response_minutes, entry.resolution_minutes
    await session.flush()
    return await levels(session)
