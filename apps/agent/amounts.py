"""Amounts of money and rates as the commission and fund features accept them: finite, within what a
NUMERIC(18, 4) column holds, never negative, and in whole cents (money) or four places (a rate)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from portal.errors import ValidationFailed
from portal.i18n import N_

CENT = Decimal("0.01")
RATE_PLACES = Decimal("0.0001")
MAX_MONEY = Decimal(10) ** 14 - CENT  # NUMERIC(18, 4)


def _number(field: str, value: Any) -> Decimal:
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationFailed.single(field, N_("must be a number"), "invalid") from None
    if not number.is_finite():
        raise ValidationFailed.single(field, N_("must be a number"), "invalid")
    return number


def money(field: str, value: Any, *, positive: bool = True) -> Decimal:
    """An amount of money: more than zero (`positive`) or at least zero, at most MAX_MONEY, cents only."""
    number = _number(field, value)
    low = CENT if positive else Decimal(0)
    if not low <= number <= MAX_MONEY:
        raise ValidationFailed.single(
            field, N_("must be between %(low)s and %(high)s"), "out_of_range", low=low, high=MAX_MONEY
        )
    if number != number.quantize(CENT):
        raise ValidationFailed.single(field, N_("may have at most %(places)s decimal places"), "invalid", places=2)
    return number.quantize(CENT)


def rate(field: str, value: Any) -> Decimal:
    """A share of an amount, 0 to 1 (0.05 is five percent), four places at most."""
    number = _number(field, value)
    if not Decimal(0) <= number <= Decimal(1):
        raise ValidationFailed.single(field, N_("must be between %(low)s and %(high)s"), "out_of_range", low=0, high=1)
    if number != number.quantize(RATE_PLACES):
        raise ValidationFailed.single(field, N_("may have at most %(places)s decimal places"), "invalid", places=4)
    return number.quantize(RATE_PLACES)
