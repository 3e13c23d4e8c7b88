"""The cart page: /p/{slug}/ordering/cart shows the cart at the buyer's prices now, changes quantities,
and places the order from it (placing.place, as the API does; the cart is emptied then).

A refusal (minimum quantity, pack size, a product no longer offered, the credit limit, stock) is shown
on the cart with nothing changed: the attempt runs in a savepoint. The checkout form carries a key
made when the page was rendered, so the same form sent twice places one order."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from litestar import get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from apps.ordering import placing
from apps.ordering.addresses import AddressBook, address_out
from apps.ordering.cart import Cart
from apps.ordering.dependencies import AddressBookDep, CartDep, OrdersDep
from apps.ordering.objects import ORDER_INPUT_FIELDS, PARTNER_ORDER
from apps.ordering.pages.partner_catalog import first_quantity, quantity_of
from apps.ordering.pages.partner_shared import (
    KEY_FIELD,
    AnyRequest,
    base_of,
    date_or_none,
    once,
    one_time_key,
    refusal_lines,
    render,
    uuid_or_none,
)
from interconnect.pages.workspace import CurrentPortal, PortalContext
from portal.actor import Actor
from portal.errors import Conflict, NotFound, ValidationFailed
from portal.http.deps import DB, CurrentActor
from portal.i18n import N_
from portal.permissions import requires
from portal.ui.forms import Form
from roles.access import policy_of


def order_inputs(request: AnyRequest, actor: Actor) -> list[str]:
    """The order's fields the buyer may fill in: a hidden or read-only one is not offered."""
    rules = policy_of(request).fields(actor, PARTNER_ORDER)
    return [name for name in ORDER_INPUT_FIELDS if rules.get(name) is None]


async def _cart_page(
    request: AnyRequest,
    cart: Cart,
    address_book: AddressBook,
    actor: Actor,
    portal: PortalContext,
    *,
    form: dict[str, str] | None = None,
    refusal: list[str] | None = None,
    line_errors: dict[uuid.UUID, list[str]] | None = None,
    status_code: int = 200,
) -> Template:
    shown = await cart.out()
    book = await address_book.list()
    form = form if form is not None else {"address_id": str(next((a.id for a in book if a.is_default), ""))}
    return render(
        "cart",
        portal,
        status_code,
        items=shown["items"],
        total=shown.get("total"),
        priced="total" in shown,
        currency=next((i["product"].get("currency") for i in shown["items"] if i["product"]), None),
        unavailable=sum(1 for item in shown["items"] if not item["available_to_order"]),
        wrong_quantity=sum(1 for item in shown["items"] if item["problems"]),
        inputs=order_inputs(request, actor),
        addresses=[address_out(a) for a in book],
        form=form,
        refusal=refusal or [],
        line_errors=line_errors or {},
        first_quantity=first_quantity,
        key=one_time_key(),
    )


def chosen_address(text: str) -> uuid.UUID | None:
    """The address picked from the book; the empty choice means one typed for this order."""
    if not text.strip():
        return None
    found = uuid_or_none(text.strip())
    if found is None:
        raise ValidationFailed.single("address_id", N_("is not an address of this enterprise"), "unknown")
    return found


def date_field(text: str, name: str) -> date | None:
    if not text.strip():
        return None
    found = date_or_none(text.strip())
    if found is None:
        raise ValidationFailed.single(name, N_("is not a date (YYYY-MM-DD)"), "invalid")
    return found


@get("/ordering/cart", opt=requires(PARTNER_ORDER, "create"), include_in_schema=False)
async def cart_page(
    request: AnyRequest, actor: CurrentActor, portal: CurrentPortal, cart: CartDep, address_book: AddressBookDep
) -> Template:
    return await _cart_page(request, cart, address_book, actor, portal)


@post("/ordering/cart/{product_id:uuid}", opt=requires(PARTNER_ORDER, "create"), include_in_schema=False)
async def cart_line_page(
    product_id: FromPath[uuid.UUID],
    data: Form,
    request: AnyRequest,
    db: DB,
    actor: CurrentActor,
    portal: CurrentPortal,
    cart: CartDep,
    address_book: AddressBookDep,
) -> Template | Redirect:
    """Set the product's quantity in the cart; the form's remove button takes it out."""
    try:
        quantity = 0 if data.get("remove") else quantity_of(data)
        async with db.begin_nested():
            await cart.set(product_id, quantity)
    except (ValidationFailed, NotFound) as error:  # NotFound: the product left the buyer's catalog
        errors = {product_id: refusal_lines(error)}
        return await _cart_page(
            request, cart, address_book, actor, portal, line_errors=errors, status_code=error.status
        )
    return Redirect(f"{base_of(portal)}/cart")


@post("/ordering/cart/checkout", opt=requires(PARTNER_ORDER, "create"), include_in_schema=False)
async def checkout_page(
    data: Form,
    request: AnyRequest,
    db: DB,
    actor: CurrentActor,
    portal: CurrentPortal,
    cart: CartDep,
    orders: OrdersDep,
    address_book: AddressBookDep,
) -> Template | Redirect:
    """Place the order from the cart for one's own enterprise, then show it."""
    form = {name: data.get(name, "") for name in (*ORDER_INPUT_FIELDS, "address_id")}

    async def create() -> dict[str, Any]:
        # placing checks the fields' rules and lengths, as for the API
        order = await placing.place(
            orders,
            await cart.as_order_lines(),
            enterprise_id=actor.enterprise_id,
            address_id=chosen_address(form["address_id"]),
            ship_to=form["ship_to"].strip() or None,
            po_number=form["po_number"].strip() or None,
            requested_delivery_date=date_field(form["requested_delivery_date"], "requested_delivery_date"),
            note=form["note"].strip() or None,
        )
        await cart.clear()
        return {"id": order.id}

    try:
        async with db.begin_nested():
            placed = await once(db, actor, request, data.get(KEY_FIELD), create)
    except (ValidationFailed, Conflict) as error:
        return await _cart_page(
            request,
            cart,
            address_book,
            actor,
            portal,
            form=form,
            refusal=refusal_lines(error),
            status_code=error.status,
        )
    return Redirect(f"{base_of(portal)}/orders/{placed['id']}?placed=1")


CART_PAGES = [cart_page, cart_line_page, checkout_page]
