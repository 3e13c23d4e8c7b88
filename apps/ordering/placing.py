"""Placing an order: lines checked against the buyer's catalog (listed, visible, minimum quantity, pack
size, priced), totals at the buyer's effective price, the credit check, the approval steps the rules
ask for, the stock reservation when the tenant reserves on submit, the timeline and the outbox. All of
it in the request's transaction: a refusal leaves nothing behind."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from apps.ordering import account, lifecycle, pricing, stock
from apps.ordering.addresses import AddressBook, ship_to_text
from apps.ordering.catalog import Audience, Catalog, settings_of
from apps.ordering.models import Order, OrderingSettings, OrderLine, Product
from apps.ordering.objects import CATALOG, ORDER, PARTNER_CATALOG
from apps.ordering.orders import Orders
from interconnect.models import EnterpriseLink
from portal.audit import insert_once
from portal.db.tenancy import complete, unwatched
from portal.db.types import utcnow
from portal.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from portal.i18n import N_
from portal.ids import uuid7
from portal.outbox import publish
from roles.access import check_writable
from roles.approvals import ExtraStep, Facts, announce_request, open_request
from roles.approvals.models import ApprovalRequest, ApprovalRequestStep

MAX_LINES = 200
MAX_QUANTITY = 1_000_000


class CreditLimitExceeded(Conflict):
    code, title = "credit_limit_exceeded", N_("The order is over the credit limit")


@dataclass(frozen=True, slots=True)
class LineIn:
    product_id: uuid.UUID
    quantity: int


def merged(lines: Sequence[LineIn]) -> dict[uuid.UUID, int]:
    """Quantities per product, a product sent twice counted once with both quantities."""
    errors: list[FieldError] = []
    if not lines:
        errors.append(FieldError("lines", N_("An order needs at least one line"), "required"))
    if len(lines) > MAX_LINES:
        errors.append(FieldError("lines", N_("An order has at most %(max)s lines"), "too_many", {"max": MAX_LINES}))
    wanted: dict[uuid.UUID, int] = {}
    for number, line in enumerate(lines):
        if not 1 <= line.quantity <= MAX_QUANTITY:
            errors.append(
                FieldError(
                    f"lines[{number}].quantity",
                    N_("must be between 1 and %(max)s"),
                    "out_of_range",
                    {"max": MAX_QUANTITY},
                )
            )
        wanted[line.product_id] = wanted.get(line.product_id, 0) + line.quantity
    if errors:
        raise ValidationFailed(errors)
    return wanted


def quantity_rules(product: Product, quantity: int, field: str) -> list[FieldError]:
    """What is wrong with ordering `quantity` of the product: below its minimum, or not whole packs.
    The cart checks it when a line is set and when it is shown, placing when the order is made."""
    errors: list[FieldError] = []
    if quantity < product.min_order_quantity:
        errors.append(
            FieldError(
                field,
                N_("%(sku)s is ordered in at least %(min)s"),
                "below_minimum",
                {"sku": product.sku, "min": product.min_order_quantity},
            )
        )
    if quantity % product.pack_size:
        errors.append(
            FieldError(
                field,
                N_("%(sku)s comes in packs of %(pack)s"),
                "pack_size",
                {"sku": product.sku, "pack": product.pack_size},
            )
        )
    return errors


def text_field(name: str, value: str | None, limit: int) -> str | None:
    cleaned = (value or "").strip()
    if len(cleaned) > limit:
        raise ValidationFailed.single(name, N_("may be at most %(max)s characters"), "too_long", max=limit)
    return cleaned or None


async def destination(
    session: AsyncSession, enterprise_id: uuid.UUID | None, address_id: uuid.UUID | None, typed: str | None
) -> str:
    """What the order ships to: a copy of one of the enterprise's addresses, or an address typed for
    this order; one of the two, never both, and never neither."""
    if address_id is not None:
        if typed is not None and typed.strip():
            raise ValidationFailed.single(
                "ship_to", N_("Choose an address from the book or type one, not both"), "ambiguous"
            )
        if enterprise_id is None:
            raise ValidationFailed.single("address_id", N_("is not an address of this enterprise"), "unknown")
        try:
            return ship_to_text(await AddressBook(session, enterprise_id).get(address_id))
        except NotFound:
            raise ValidationFailed.single("address_id", N_("is not an address of this enterprise"), "unknown") from None
    found = text_field("ship_to", typed, 500)
    if found is None:
        raise ValidationFailed.single("ship_to", N_("Say where the order ships to"), "required")
    return found


# PostgreSQL: a sequence, drawn without a lock that would last until commit (numbers a rolled-back
# order drew are skipped). SQLite has no sequences, and one writer at a time anyway: the tenant's counter.
SEQUENCES = {"next_order_number": "ordering_order_number_seq", "next_shipment_number": "ordering_shipment_number_seq"}


async def next_number(orders: Orders, column: str, prefix: str) -> str:
    """The next order or shipment number: increasing, unique, never reused."""
    return await next_number_in(orders.session, column, prefix)


async def next_number_in(session: AsyncSession, column: str, prefix: str) -> str:
    if (await session.connection()).dialect.name == "postgresql":
        value = await session.scalar(select(func.nextval(SEQUENCES[column])))
        return f"{prefix}{int(value or 0):06d}"
    counter = getattr(OrderingSettings, column)
    value = await session.scalar(update(OrderingSettings).values({column: counter + 1}).returning(counter))
    if value is None:
        await settings_of(session)
        value = await session.scalar(update(OrderingSettings).values({column: counter + 1}).returning(counter))
    return f"{prefix}{int(value) - 1:06d}"


@lru_cache(maxsize=2)
def _settings_and_next(column: str) -> Select[Any]:
    return select(OrderingSettings, func.nextval(SEQUENCES[column]))


async def settings_and_number(session: AsyncSession, column: str, prefix: str) -> tuple[OrderingSettings, str]:
    """The tenant's ordering settings and the next number, in one statement. A refused order gives its
    number back on SQLite (the counter's update rolls back) and skips it on PostgreSQL (a sequence)."""
    if (await session.connection()).dialect.name == "postgresql":
        row = (await session.execute(_settings_and_next(column))).first()
        if row is None:
            return await settings_of(session), await next_number_in(session, column, prefix)
        return row[0], f"{prefix}{int(row[1]):06d}"
    counter = getattr(OrderingSettings, column)
    drawn = (
        await session.execute(
            update(OrderingSettings)
            .values({column: counter + 1})
            .returning(OrderingSettings, counter)
            .execution_options(populate_existing=True)
        )
    ).first()
    if drawn is None:
        return await settings_of(session), await next_number_in(session, column, prefix)
    return drawn[0], f"{prefix}{int(drawn[1]) - 1:06d}"


async def place(
    orders: Orders,
    lines: Sequence[LineIn],
    *,
    enterprise_id: uuid.UUID | None,
    ship_to: str | None = None,
    address_id: uuid.UUID | None = None,
    po_number: str | None = None,
    requested_delivery_date: date | None = None,
    note: str | None = None,
    purchase_order_id: uuid.UUID | None = None,
    tracked: bool = True,
) -> Order:
    """A new order for `enterprise_id` (None: the upstream's own), placed and submitted. It ships to
    `address_id` of the enterprise's address book (copied into the order) or to the `ship_to` typed.
    `purchase_order_id`: the buyer's purchase order it is placed from (apps.ordering.purchasing).
    `tracked=False`: the order is written with the COMMIT like its lines, outside the session's
    bookkeeping, for a caller that only presents it (changing it afterwards changes nothing)."""
    session, actor = orders.session, orders.actor
    if actor.kind == "external" and enterprise_id is None:
        raise PermissionDenied(N_("Only people of a partner enterprise can place orders"), code="no_enterprise")
    given = {
        name: value
        for name, value in (
            ("ship_to", ship_to if address_id is None else address_id),
            ("po_number", po_number),
            ("requested_delivery_date", requested_delivery_date),
            ("note", note),
        )
        if value is not None
    }
    check_writable(orders.policy, actor, orders.obj, given)
    ship_to, note = await destination(session, enterprise_id, address_id, ship_to), text_field("note", note, 2000)
    po_number = text_field("po_number", po_number, 60)
    if requested_delivery_date is not None and requested_delivery_date < utcnow().date():
        raise ValidationFailed.single("requested_delivery_date", N_("may not be in the past"), "past")
    wanted = merged(lines)
    buyer, audience = await buyer_for(orders, enterprise_id)
    catalog_obj = PARTNER_CATALOG if actor.kind == "external" else CATALOG
    catalog = Catalog(session, orders.policy, actor, catalog_obj, buyer, audience)
    products = await catalog.visible(list(wanted))
    priced = await pricing.prices(session, buyer, wanted)
    settings, order_number = await settings_and_number(session, "next_order_number", "SO")
    errors: list[FieldError] = []
    for number, (product_id, quantity) in enumerate(wanted.items()):
        field = f"lines[{number}]"
        product = products.get(product_id)
        if product is None:
            errors.append(
                FieldError(f"{field}.product_id", N_("This product is not available to order"), "unavailable")
            )
            continue
        errors.extend(quantity_rules(product, quantity, f"{field}.quantity"))
        price = priced.get(product_id)
        if price is None:
            errors.append(
                FieldError(f"{field}.product_id", N_("%(sku)s has no price for you"), "unpriced", {"sku": product.sku})
            )
        elif price.currency != settings.currency:
            errors.append(
                FieldError(
                    f"{field}.product_id", N_("%(sku)s is priced in another currency"), "currency", {"sku": product.sku}
                )
            )
    if errors:
        raise ValidationFailed(errors)

    order = Order(
        id=uuid7(),
        number=order_number,
        status="draft",
        owner_id=actor.user_id,
        enterprise_id=enterprise_id,
        currency=settings.currency,
        warehouse_id=settings.default_warehouse_id,
        ship_to=ship_to,
        po_number=po_number,
        requested_delivery_date=requested_delivery_date,
        note=note,
        placed_by_kind=actor.kind,
        created_by=actor.user_id,
        purchase_order_id=purchase_order_id,
    )
    total, cost, costed = Decimal(0), Decimal(0), True
    placed: list[OrderLine] = []
    for line_no, (product_id, quantity) in enumerate(wanted.items(), start=1):
        product, price = products[product_id], priced[product_id]
        line_total = price.unit_price * quantity
        total += line_total
        if product.cost_price is None:
            costed = False
        else:
            cost += product.cost_price * quantity
        placed.append(
            unwatched(
                OrderLine,
                order_id=order.id,
                line_no=line_no,
                product_id=product_id,
                sku=product.sku,
                name=product.name,
                unit=product.unit,
                quantity=quantity,
                unit_price=price.unit_price,
                line_total=line_total,
                unit_cost=product.cost_price,
                price_source=price.source,
            )
        )
    order.total = total
    order.cost_total = cost if costed else None
    # Written in one flush at the end (one INSERT per table), the number already drawn.
    with session.no_autoflush:
        event = lifecycle.move(order, "submit", "submitted", actor)
        request, approvals = await submit(orders, order, settings, audience, wanted)
    # The order is flushed with the commit (complete now, for the answer), or queued with its rows when not
    # tracked; its lines, approval request and steps and timeline entry are written after it, with the
    # COMMIT (portal.db.tenancy.queue_insert)
    if tracked:
        session.add(complete(session, order))
    insert_once(session, [*([] if tracked else [order]), *placed, request, *approvals, event])
    publish(session, "ordering.order.submitted", "ordering.order", order.id, event_payload(order))
    announce_request(session, request)
    orders.placed(order, placed, approvals, [event])
    return order


async def buyer_for(orders: Orders, enterprise_id: uuid.UUID | None) -> tuple[pricing.Buyer, Audience]:
    """Whose prices and catalog. A partner ordering for their own enterprise: as their session lookup
    read it, in this transaction, and found it active; otherwise the enterprise is read and checked."""
    actor = orders.actor
    if enterprise_id is None:
        return pricing.Buyer(), Audience()
    if actor.kind == "external" and enterprise_id == actor.enterprise_id:
        return pricing.Buyer(enterprise_id, actor.tier_id), Audience(actor.partner_type_id, actor.tier_id)
    link = await orders.session.scalar(select(EnterpriseLink).where(EnterpriseLink.id == enterprise_id))
    if link is None:
        raise NotFound(N_("No such enterprise"))
    if link.status != "active":
        raise ValidationFailed.single("enterprise_id", N_("The enterprise is not active"), "inactive")
    return pricing.Buyer(link.id, link.tier_id), Audience(link.partner_type_id, link.tier_id)


async def submit(
    orders: Orders,
    order: Order,
    settings: OrderingSettings,
    audience: Audience,
    wanted: Mapping[uuid.UUID, int],
) -> tuple[ApprovalRequest, list[ApprovalRequestStep]]:
    """The approval request of a new order and its steps (for the caller to write with the order), its
    credit check, its reservation. The steps are those of the order's approval flow (by amount, partner
    type, tier, region), then the credit approver's when the order goes over the credit limit."""
    session = orders.session
    extra: list[ExtraStep] = []
    if order.enterprise_id is not None:
        # An order refused over the limit is checked on what is committed now, and again with its COMMIT with
        # the limit locked (PostgreSQL): orders of one enterprise placed at once wait for each other only
        # while a COMMIT runs. One that goes to a credit approver instead locks the limit now: whether it
        # does decides its steps.
        refuse = settings.over_credit == "refuse"
        later = refuse and await account.checks_at_commit(session)
        standing = await account.credit_to_check(session, order.enterprise_id, leave_out=order.id, lock=not later)
        if standing is not None and standing.limit is not None and standing.used + order.total > standing.limit:
            if refuse:
                raise over_limit(order.total, standing)
            order.over_credit = True
            extra.append(ExtraStep(settings.credit_approver_role, "credit"))
        elif later and standing is not None:
            total = order.total
            await account.check_again_at_commit(
                session, order.enterprise_id, order.id, total, lambda then: over_limit(total, then)
            )
    facts = Facts(
        order.total,
        order.currency,
        order.enterprise_id,
        audience.partner_type_id,
        audience.tier_id,
    )
    # written by the caller with the order (the request before its steps), announced after
    request, steps = await open_request(
        session, orders.actor, ORDER, order.id, order.number, facts, extra, announce=False, add=False
    )
    if settings.reserve_on == "submit" and order.warehouse_id is not None:
        await stock.reserve(session, order.warehouse_id, wanted)
        order.stock_reserved = True
    return request, steps


def over_limit(total: Decimal, standing: account.Credit) -> CreditLimitExceeded:
    return CreditLimitExceeded(
        N_("This order of %(total)s would go over the credit limit of %(limit)s (%(left)s left)"),
        total=total,
        limit=standing.limit,
        left=max(standing.left or Decimal(0), Decimal(0)),
    )


async def quantities(orders: Orders, order: Order, *, unshipped: bool = False) -> Mapping[uuid.UUID, int]:
    found: dict[uuid.UUID, int] = {}
    for line in (await orders.lines([order.id]))[order.id]:
        amount = line.quantity - line.shipped_quantity if unshipped else line.quantity
        if amount:
            found[line.product_id] = found.get(line.product_id, 0) + amount
    return found


def event_payload(order: Order) -> dict[str, object]:
    return {
        "order_id": order.id,
        "number": order.number,
        "status": order.status,
        "enterprise_id": order.enterprise_id,
        "total": order.total,
        "currency": order.currency,
    }
