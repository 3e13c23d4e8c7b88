"""A buyer's effective price, computed here and nowhere else: the catalog shows it, the cart totals it,
and an order is placed at it.

For each product, the valid lists that price it are ranked: the buyer enterprise's own list, then its
tier's, then the base list (among lists of one kind, the one valid from the latest date first). The
first list with an item at or below the quantity wins, and of its items the largest quantity break not
above the quantity. A list is valid on a day from valid_from to valid_to inclusive (open ends when
unset), and only while active. Days are UTC days.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import Date, Select, and_, bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.ordering.models import PriceList, PriceListItem
from portal.db.tenancy import tenant_of
from portal.db.types import utcnow

RANK = {"enterprise": 3, "tier": 2, "base": 1}


@dataclass(frozen=True, slots=True)
class Buyer:
    """Whose prices: an enterprise (with its tier), or nobody (the base list only)."""

    enterprise_id: uuid.UUID | None = None
    tier_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class Price:
    unit_price: Decimal
    currency: str
    source: str  # base | tier | enterprise
    price_list_id: uuid.UUID
    min_quantity: int
    breaks: tuple[tuple[int, Decimal], ...]  # the winning list's (quantity from, unit price), ascending


_ITEMS = PriceListItem.__table__.c
_LISTS = PriceList.__table__.c


@lru_cache(maxsize=4)
def price_items(tier: bool, enterprise: bool) -> Select[Any]:
    """The price lists' items that may price a product, for a buyer with or without a tier and an
    enterprise, as rows `choose()` takes: four statements built once, the tenant ("tenant_id"), the buyer
    ("buyer_tier_id", "buyer_enterprise_id") and the day ("day") bound per run (`price_params()`). In Core,
    each table named with its tenant: run on the unit of work's connection, it skips the ORM's
    per-statement work. A statement narrows it to its products (`_prices_statement`, or a join on
    `product_id`, as a catalog page does)."""
    audiences = [_LISTS.kind == "base"]
    if tier:
        audiences.append(and_(_LISTS.kind == "tier", _LISTS.tier_id == bindparam("buyer_tier_id")))
    if enterprise:
        audiences.append(and_(_LISTS.kind == "enterprise", _LISTS.enterprise_id == bindparam("buyer_enterprise_id")))
    day = bindparam("day", type_=Date)
    return (
        select(
            _ITEMS.product_id,
            _ITEMS.min_quantity,
            _ITEMS.unit_price,
            _LISTS.id.label("price_list_id"),
            _LISTS.kind,
            _LISTS.currency,
            _LISTS.valid_from,
            _LISTS.created_at,
        )
        .join(PriceList.__table__, and_(_LISTS.tenant_id == _ITEMS.tenant_id, _LISTS.id == _ITEMS.price_list_id))
        .where(
            _ITEMS.tenant_id == bindparam("tenant_id"),
            _LISTS.active.is_(True),
            or_(*audiences),
            or_(_LISTS.valid_from.is_(None), _LISTS.valid_from <= day),
            or_(_LISTS.valid_to.is_(None), _LISTS.valid_to >= day),
        )
    )


@lru_cache(maxsize=4)
def _prices_statement(tier: bool, enterprise: bool) -> Select[Any]:
    return price_items(tier, enterprise).where(_ITEMS.product_id.in_(bindparam("products", expanding=True)))


def price_params(session: AsyncSession, buyer: Buyer, on: date | None = None) -> dict[str, Any]:
    """What `price_items()` binds for `buyer` on the day `on` (today when not given)."""
    return {
        "tenant_id": tenant_of(session),
        "day": on or today(),
        "buyer_tier_id": buyer.tier_id,
        "buyer_enterprise_id": buyer.enterprise_id,
    }


def today() -> date:
    return utcnow().date()


async def prices(
    session: AsyncSession,
    buyer: Buyer,
    quantities: Mapping[uuid.UUID, int] | Iterable[uuid.UUID],
    on: date | None = None,
) -> dict[uuid.UUID, Price]:
    """The effective price of each product at its quantity (1 when only ids are given); a product no
    valid list prices is absent."""
    wanted = dict(quantities) if isinstance(quantities, Mapping) else dict.fromkeys(quantities, 1)
    if not wanted:
        return {}
    statement = _prices_statement(buyer.tier_id is not None, buyer.enterprise_id is not None)
    params = {**price_params(session, buyer, on), "products": sorted(wanted)}
    return choose(await (await session.connection()).execute(statement, params), wanted)


def choose(rows: Iterable[Sequence[Any]], wanted: Mapping[uuid.UUID, int]) -> dict[uuid.UUID, Price]:
    """The effective price of each product of `wanted` at its quantity, from the rows of `price_items()`
    that name it (a product no valid list prices is absent)."""
    grouped: dict[uuid.UUID, dict[uuid.UUID, list[tuple[int, Decimal]]]] = defaultdict(lambda: defaultdict(list))
    about: dict[uuid.UUID, tuple[str, str, date, object]] = {}
    for product_id, min_quantity, unit_price, list_id, kind, currency, valid_from, created_at in rows:
        grouped[product_id][list_id].append((min_quantity, unit_price))
        about[list_id] = (kind, currency, valid_from or date.min, created_at)
    found: dict[uuid.UUID, Price] = {}
    for product_id, lists in grouped.items():
        if product_id not in wanted:
            continue
        # the lists pricing the product, best first (a product most often has one: nothing to rank)
        ranked = (
            lists.items()
            if len(lists) == 1
            else sorted(
                lists.items(),
                key=lambda entry: (RANK[about[entry[0]][0]], about[entry[0]][2], about[entry[0]][3], entry[0]),
                reverse=True,
            )
        )
        quantity = wanted[product_id]
        for list_id, items in ranked:
            breaks = tuple(sorted(items)) if len(items) > 1 else tuple(items)
            applicable = [item for item in breaks if item[0] <= quantity]
            if applicable:
                min_quantity, unit_price = applicable[-1]
                kind, currency = about[list_id][:2]
                found[product_id] = Price(unit_price, currency, kind, list_id, min_quantity, breaks)
                break
    return found
