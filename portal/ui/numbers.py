"""Numbers as pages show them."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import list_currencies

CENTS = Decimal("0.01")


def money(value: Decimal | None) -> str:
    """Two decimals, rounded half up, with thousands separated; never through a float."""
    if value is None:
        return ""
    return f"{value.quantize(CENTS, rounding=ROUND_HALF_UP):,.2f}"


# ISO 4217 codes, as the locale data Babel ships knows them (CNY, USD, EUR, …).
CURRENCIES = frozenset(list_currencies())


def is_currency(code: str) -> bool:
    return code in CURRENCIES
