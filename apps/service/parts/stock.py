"""A service partner's spare parts: reading its stock (through the actor's data scope), taking parts out
of it for a ticket, and adding to it when the manufacturer ships a request.

Taking out is one conditional UPDATE (`quantity = quantity - n WHERE quantity >= n`): two engineers
using the last unit at once cannot both get it, the second finds no row and is refused (409 naming the
part), with nothing written. On PostgreSQL the second waits for the first's row lock, then re-reads.
The statements bypass the ORM, so a use is audited as the ticket's field entry that names it, a
shipment as the request's change to "shipped" (its lines say what was added)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from apps.ordering.models import Product
from apps.service.parts.models import PartStock
from interconnect.models import EnterpriseLink
from portal.actor import Actor
from portal.db.types import utcnow
from portal.errors import Conflict, FieldError, ValidationFailed
from portal.i18n import N_
from roles.access import scoped
from roles.policy import RolePolicy

MAX_QUANTITY = 10_000  # of one part in one step: more is a typing mistake, not a repair


class PartNotInStock(Conflict):
    code, title = "part_not_in_stock", N_("The part is not in stock")


async def product_of(session: AsyncSession, product_id: uuid.UUID, field: str = "product_id") -> Product:
    """A product of the tenant's catalog (the ordering app's), listed or not: a spare part is a product."""
    product = await session.scalar(select(Product).where(Product.id == product_id))
    if product is None:
        raise ValidationFailed.single(field, N_("No such product in the catalog"), "unknown")
    return product


def check_quantity(errors: list[FieldError], field: str, quantity: int) -> None:
    if not 1 <= quantity <= MAX_QUANTITY:
        errors.append(
            FieldError(field, N_("must be a whole number from 1 to %(max)s"), "out_of_range", {"max": MAX_QUANTITY})
        )


async def take_out(session: AsyncSession, enterprise_id: uuid.UUID, product: Product, quantity: int) -> int:
    """Take `quantity` of the product out of the partner's stock; what is left. 409 naming the part when
    the partner holds fewer (or none)."""
    left = await session.scalar(
        update(PartStock)
        .where(
            PartStock.enterprise_id == enterprise_id,
            PartStock.product_id == product.id,
            PartStock.quantity >= quantity,
        )
        .values(quantity=PartStock.quantity - quantity, updated_at=utcnow())
        .returning(PartStock.quantity)
        .execution_options(synchronize_session=False)
    )
    if left is None:
        held = await session.scalar(
            select(PartStock.quantity).where(
                PartStock.enterprise_id == enterprise_id, PartStock.product_id == product.id
            )
        )
        raise PartNotInStock(
            N_("%(part)s (%(sku)s): %(wanted)s wanted, %(held)s in your stock"),
            part=product.name,
            sku=product.sku,
            wanted=quantity,
            held=held or 0,
        )
    return int(left)


async def put_in(
    session: AsyncSession, enterprise_id: uuid.UUID, product_id: uuid.UUID, quantity: int, owner_id: uuid.UUID
) -> None:
    """Add to the partner's stock (a shipment arrived), making its row for a part it never held. Two
    shipments of a new part at once both try to make the row: the second's insert fails on the unique
    key inside its savepoint, and it adds to the row the first made instead."""
    increase = (
        update(PartStock)
        .where(PartStock.enterprise_id == enterprise_id, PartStock.product_id == product_id)
        .values(quantity=PartStock.quantity + quantity, updated_at=utcnow())
        .returning(PartStock.id)
        .execution_options(synchronize_session=False)
    )
    if await session.scalar(increase) is not None:
        return
    try:
        async with session.begin_nested():
            session.add(
                PartStock(enterprise_id=enterprise_id, product_id=product_id, quantity=quantity, owner_id=owner_id)
            )
            await session.flush()
    except IntegrityError:
        await session.scalar(increase)


async def stock_rows(
    session: AsyncSession,
    policy: RolePolicy,
    actor: Actor,
    obj: str,
    enterprise_id: uuid.UUID | None = None,
    limit: int = 500,
) -> list[dict[str, Any]]:
    """The stock the actor may read as `obj`, by partner and part name, with each part's SKU and name."""
    query = (
        select(PartStock, Product.sku, Product.name, Product.unit, EnterpriseLink.name)
        .join(Product, (Product.tenant_id == PartStock.tenant_id) & (Product.id == PartStock.product_id))
        .join(
            EnterpriseLink,
            (EnterpriseLink.tenant_id == PartStock.tenant_id) & (EnterpriseLink.id == PartStock.enterprise_id),
        )
        .order_by(EnterpriseLink.name, Product.name, PartStock.id)
        .limit(limit)
    )
    if enterprise_id is not None:
        query = query.where(PartStock.enterprise_id == enterprise_id)
    query = await scoped(session, query, policy, actor, obj)
    return [
        {
            "enterprise_id": stock.enterprise_id,
            "enterprise": partner,
            "product_id": stock.product_id,
            "sku": sku,
            "name": name,
            "unit": unit,
            "quantity": stock.quantity,
            "updated_at": stock.updated_at,
        }
        for stock, sku, name, unit, partner in await session.execute(query)
    ]


async def products(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Product]:
    if not ids:
        return {}
    return {p.id: p for p in await session.scalars(select(Product).where(Product.id.in_(sorted(set(ids)))))}


async def catalog_choices(session: AsyncSession, limit: int = 500) -> list[tuple[uuid.UUID, str]]:
    """The catalog's listed products, to ask for as parts: "name (SKU)" by name."""
    rows = await session.execute(
        select(Product.id, Product.name, Product.sku).where(Product.listed).order_by(Product.name).limit(limit)
    )
    return [(key, f"{name} ({sku})") for key, name, sku in rows]
