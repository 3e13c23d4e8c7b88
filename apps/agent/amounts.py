"""Amounts of money and rates as the commission and fund features accept them: finite, within what a
NUMERIC(18, 4) column holds, never negative, and in whole cents (money) or four places (a rate)."""

from __future__ import annotations

import re
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


# A power typed as one ("10^20", "10**20", "10²⁰"): read only to say whether it is within range.
POWER = re.compile(r"^\s*(\d{1,6})\s*(?:\^|\*\*)\s*(\d{1,4})\s*$")
SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
SUPERSCRIPT_POWER = re.compile(r"^\s*(\d{1,6})([⁰¹²³⁴⁵⁶⁷⁸⁹]{1,4})\s*$")


def _power(value: Any) -> Decimal | None:
    text = str(value) if value is not None else ""
    found = POWER.match(text) or SUPERSCRIPT_POWER.match(text)
    if found is None:
        return None
    base, exponent = int(found.group(1)), int(found.group(2).translate(SUPERSCRIPTS))
    if base > 1 and exponent * len(str(base)) > 60:
        return MAX_MONEY * 10  # beyond any range worth computing
    return Decimal(base**exponent)


def money(field: str, value: Any, *, positive: bool = True) -> Decimal:
    """An amount of money: more than zero (`positive`) or at least zero, at most MAX_MONEY, cents only.
    What is not a number is told the range with it; a power typed as one ("10^20") is told it is beyond
    the range when it is, else to write the amount in digits."""
    low = CENT if positive else Decimal(0)
    try:
        number = _number(field, value)
    except ValidationFailed:
        power = _power(value)
        if power is not None and not low <= power <= MAX_MONEY:
            raise ValidationFailed.single(
                field, N_("must be between %(low)s and %(high)s"), "out_of_range", low=low, high=MAX_MONEY
            ) from None
        raise ValidationFailed.single(
            field,
            N_("must be an amount in digits between %(low)s and %(high)s"),
            "invalid",
            low=low,
            high=MAX_MONEY,
        ) from None
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
