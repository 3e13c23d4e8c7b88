"""Numbers as pages show them."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENTS = Decimal("0.01")


def money(value: Decimal | None) -> str:
    """Two decimals, rounded half up, with thousands separated; never through a float."""
    if value is None:
        return ""
    return f"{value.quantize(CENTS, rounding=ROUND_HALF_UP):,.2f}"
