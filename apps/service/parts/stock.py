"""A service partner's spare parts: reading its stock (through the actor's data scope), taking parts out
of it for a ticket, adding to it when the manufacturer ships a request, and staff's corrections of it
(`adjust`: a change with its reason, never below zero, recorded as an audited StockAdjustment).

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
from apps.service.parts.models import PartStock, StockAdjustment
from interconnect.models import EnterpriseLink, PartnerType
from portal.actor import Actor
from portal.db.types import utcnow
from portal.errors import Conflict, FieldError, ValidationFailed
from portal.i18n import N_
from roles.access import scoped
from roles.policy import RolePolicy

MAX_QUANTITY = 10_000  # of one part in one step: more is a typing mistake, not a repair
REASON_LIMIT = 1000
SERVICE_PROVIDER = "service_provider"  # the partner type whose enterprises hold parts on consignment


class PartNotInStock(Conflict):
    code, title = "part_not_in_stock", N_("The part is not in stock")


class StockBelowZero(Conflict):
    code, title = "stock_below_zero", N_("The stock cannot go below zero")


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


async def adjust(
    session: AsyncSession,
    actor: Actor,
    enterprise_id: uuid.UUID,
    product_id: uuid.UUID,
    change: int,
    reason: str | None,
) -> StockAdjustment:
    """Staff correct the partner's stock of a part by `change` (a count found more or fewer), with the
    reason. One conditional UPDATE that never takes the stock below zero (409 naming the part and what
    the stock holds otherwise, nothing written); a part the partner never held gets its row when the
    change adds to it. The adjustment row, audited, says who did it and why."""
    errors: list[FieldError] = []
    if change == 0 or not -MAX_QUANTITY <= change <= MAX_QUANTITY:
        errors.append(
            FieldError(
                "change",
                N_("must be a whole number from -%(max)s to %(max)s, not 0"),
                "out_of_range",
                {"max": MAX_QUANTITY},
            )
        )
    text = (reason or "").strip()
    if not text:
        errors.append(FieldError("reason", N_("is required"), "required"))
    elif len(text) > REASON_LIMIT:
        errors.append(FieldError("reason", N_("may be at most %(max)s characters"), "too_long", {"max": REASON_LIMIT}))
    partner = await session.execute(
        select(EnterpriseLink.id, PartnerType.code)
        .outerjoin(
            PartnerType,
            (PartnerType.tenant_id == EnterpriseLink.tenant_id) & (PartnerType.id == EnterpriseLink.partner_type_id),
        )
        .where(EnterpriseLink.id == enterprise_id)
    )
    found = partner.first()
    if found is None:
        errors.append(FieldError("enterprise_id", N_("No such partner enterprise"), "unknown"))
    elif found.code != SERVICE_PROVIDER:
        errors.append(FieldError("enterprise_id", N_("is not a service partner"), "not_a_service_partner"))
    product = await session.scalar(select(Product).where(Product.id == product_id))
    if product is None:
        errors.append(FieldError("product_id", N_("No such product in the catalog"), "unknown"))
    if errors:
        raise ValidationFailed(errors)
    assert product is not None
    held_row = (PartStock.enterprise_id == enterprise_id, PartStock.product_id == product_id)
    left = await session.scalar(
        update(PartStock)
        .where(*held_row, PartStock.quantity + change >= 0)
        .values(quantity=PartStock.quantity + change, updated_at=utcnow())
        .returning(PartStock.quantity)
        .execution_options(synchronize_session=False)
    )
    if left is None:
        held = await session.scalar(select(PartStock.quantity).where(*held_row))
        if held is not None or change < 0:
            raise StockBelowZero(
                N_("%(part)s (%(sku)s): the stock holds %(held)s, it cannot go down by %(change)s"),
                part=product.name,
                sku=product.sku,
                held=held or 0,
                change=-change,
            )
        await put_in(session, enterprise_id, product_id, change, actor.user_id)
        left = await session.scalar(select(PartStock.quantity).where(*held_row))
    adjustment = StockAdjustment(
        enterprise_id=enterprise_id,
        product_id=product_id,
        change=change,
        quantity_after=int(left or 0),
        reason=text,
        actor_id=actor.user_id,
        actor_name=actor.display_name or actor.email or None,
    )
    session.add(adjustment)
    await session.flush()
    return adjustment


async def adjustments(
    session: AsyncSession,
    enterprise_id: uuid.UUID | None = None,
    limit: int = 100,
    *,
    adjustment_id: uuid.UUID | None = None,
) -> list[dict[str, Any]]:
    """The latest stock adjustments (one partner's with `enterprise_id`), newest first, with names."""
    query = (
        select(StockAdjustment, Product.sku, Product.name, EnterpriseLink.name)
        .join(Product, (Product.tenant_id == StockAdjustment.tenant_id) & (Product.id == StockAdjustment.product_id))
        .join(
            EnterpriseLink,
            (EnterpriseLink.tenant_id == StockAdjustment.tenant_id)
            & (EnterpriseLink.id == StockAdjustment.enterprise_id),
        )
        .order_by(StockAdjustment.at.desc(), StockAdjustment.id.desc())
        .limit(limit)
    )
    if enterprise_id is not None:
        query = query.where(StockAdjustment.enterprise_id == enterprise_id)
    if adjustment_id is not None:
        query = query.where(StockAdjustment.id == adjustment_id)
    return [
        {
            "id": row.id,
            "enterprise_id": row.enterprise_id,
            "enterprise": partner,
            "product_id": row.product_id,
            "sku": sku,
            "name": name,
            "change": row.change,
            "quantity_after": row.quantity_after,
            "reason": row.reason,
            "at": row.at,
            "by": row.actor_name,
        }
        for row, sku, name, partner in await session.execute(query)
    ]
