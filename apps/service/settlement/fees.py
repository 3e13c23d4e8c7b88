"""The tenant's fee schedule: per ticket type, and per region where it differs, what a closed ticket
earns its partner for labour and travel. The parts are not in it: a settlement bills the parts the ticket
used, each at its catalog price (apps.service.settlement.parts). Staff replace it whole (the API and the
console call these), checked whole, every mistake under its field."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.service.models import TICKET_TYPES
from apps.service.settlement.models import Fee
from interconnect.models import Region
from portal.errors import FieldError, ValidationFailed
from portal.i18n import N_

MAX_FEES = 500
MAX_AMOUNT = Decimal(10) ** 9  # a fee of a billion is a typing mistake, and sums of many stay in Money
CENTS = Decimal("0.01")
ZERO = Decimal(0)
AMOUNTS = ("labour", "travel")


@dataclass(frozen=True, slots=True)
class FeeIn:
    ticket_type: str
    region_id: uuid.UUID | None
    labour: Decimal
    travel: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class Price:
    labour: Decimal
    travel: Decimal
    parts: Decimal = ZERO

    @property
    def amount(self) -> Decimal:
        return self.labour + self.travel + self.parts


def amount_error(field: str, value: Decimal) -> FieldError | None:
    """Why an amount of money is refused (None: it is fine): finite, 0 or more, below MAX_AMOUNT, cents."""
    if not value.is_finite() or value < 0:
        return FieldError(field, N_("must be 0 or more"), "out_of_range")
    if value >= MAX_AMOUNT:
        return FieldError(field, N_("must be less than %(max)s"), "out_of_range", {"max": f"{MAX_AMOUNT:,}"})
    if value != value.quantize(CENTS):
        return FieldError(field, N_("may have at most %(places)s decimal places"), "invalid", {"places": 2})
    return None


def amount_of(text: str) -> Decimal | None:
    """A form's amount as typed ("" is 0), or None when it is not a number."""
    try:
        return Decimal(text.strip().replace(",", "")) if text.strip() else ZERO
    except InvalidOperation:
        return None


async def listed(session: AsyncSession) -> list[dict[str, Any]]:
    """The schedule with each region's name, by type, the "any region" fee first."""
    rows = await session.execute(select(Fee, Region.name).outerjoin(Region, Region.id == Fee.region_id))
    found = [
        {
            "id": fee.id,
            "ticket_type": fee.ticket_type,
            "region_id": fee.region_id,
            "region": region,
            "labour": fee.labour,
            "travel": fee.travel,
        }
        for fee, region in rows
    ]
    found.sort(key=lambda f: (TICKET_TYPES.index(f["ticket_type"]), f["region"] is not None, f["region"] or ""))
    return found


async def replace(session: AsyncSession, fees: Sequence[FeeIn]) -> None:
    """The schedule becomes `fees`; refused whole (`fees[2].labour`) with nothing written when one is wrong.
    Settlements already run keep the amounts they were priced with."""
    if len(fees) > MAX_FEES:
        raise ValidationFailed.single("fees", N_("at most %(count)s fees"), "too_many", count=MAX_FEES)
    regions = set(await session.scalars(select(Region.id)))
    errors: list[FieldError] = []
    seen: set[tuple[str, uuid.UUID | None]] = set()
    for index, fee in enumerate(fees):
        where = f"fees[{index}]"
        if fee.ticket_type not in TICKET_TYPES:
            errors.append(
                FieldError(
                    f"{where}.ticket_type",
                    N_("must be one of %(choices)s"),
                    "invalid",
                    {"choices": ", ".join(TICKET_TYPES)},
                )
            )
        if fee.region_id is not None and fee.region_id not in regions:
            errors.append(FieldError(f"{where}.region_id", N_("No such region"), "unknown"))
        if (fee.ticket_type, fee.region_id) in seen:
            errors.append(FieldError(f"{where}.region_id", N_("this type and region have a fee already"), "duplicate"))
        seen.add((fee.ticket_type, fee.region_id))
        for name in AMOUNTS:
            error = amount_error(f"{where}.{name}", getattr(fee, name))
            if error is not None:
                errors.append(error)
    if errors:
        raise ValidationFailed(errors)
    await session.execute(delete(Fee).execution_options(synchronize_session=False))
    for fee in fees:
        session.add(
            Fee(
                ticket_type=fee.ticket_type,
                region_id=fee.region_id,
                labour=fee.labour,
                travel=fee.travel,
            )
        )
    await session.flush()


class Schedule:
    """The schedule as read once for a settlement run: the price of each ticket."""

    def __init__(self, fees: Sequence[Fee]) -> None:
        self._fees = {(f.ticket_type, f.region_id): f for f in fees}

    @classmethod
    async def read(cls, session: AsyncSession) -> Schedule:
        return cls(list(await session.scalars(select(Fee))))

    def price(self, ticket_type: str, region_id: uuid.UUID | None) -> Price | None:
        """The fee of the ticket's type in its region, else of any region; None when there is none. The
        parts come on top (apps.service.settlement.parts)."""
        fee = self._fees.get((ticket_type, region_id)) if region_id is not None else None
        fee = fee or self._fees.get((ticket_type, None))
        if fee is None:
            return None
        return Price(fee.labour, fee.travel)
