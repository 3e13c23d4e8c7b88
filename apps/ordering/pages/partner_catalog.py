"""The catalog pages: /p/{slug}/ordering/catalog lists the products the buyer may see at the buyer's own
prices (a grid, or a list with ?view=list), searched by name or SKU and filtered by category; each
product has its page; and either one puts a product in the cart."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from apps.ordering.cart import Cart
from apps.ordering.catalog import Catalog, categories_query, category_out
from apps.ordering.dependencies import CartDep, CatalogDep
from apps.ordering.objects import PARTNER_CATALOG, PARTNER_ORDER
from apps.ordering.pages.partner_shared import AnyRequest, base_of, form_errors, may_order, render, uuid_or_none
from interconnect.pages.partner_portal import portal_next
from interconnect.pages.workspace import CurrentPortal, PortalContext
from portal.actor import Actor
from portal.errors import FieldError, ValidationFailed
from portal.http.deps import DB, CurrentActor
from portal.http.inputs import whole_number
from portal.i18n import N_
from portal.permissions import requires
from portal.ui.forms import Form
from portal.ui.paging import page_number, paging

PAGE_SIZE = 24
VIEWS = ("grid", "list")


def first_quantity(product: dict[str, Any]) -> int:
    """The smallest quantity the product is ordered in: whole packs, at least the minimum."""
    pack = max(1, int(product["pack_size"]))
    return -(-int(product["min_order_quantity"]) // pack) * pack


async def in_cart(request: AnyRequest, cart: Cart, actor: Actor) -> dict[uuid.UUID, int]:
    if not may_order(request, actor):
        return {}
    return {line.product_id: line.quantity for line in await cart.lines()}


def quantity_of(form: dict[str, str], name: str = "quantity") -> int:
    return whole_number(name, form.get(name, "").strip())


@get("/ordering/catalog", opt=requires(PARTNER_CATALOG, "read"), include_in_schema=False)
async def catalog_page(
    request: AnyRequest,
    db: DB,
    actor: CurrentActor,
    portal: CurrentPortal,
    catalog: CatalogDep,
    cart: CartDep,
    q: FromQuery[str | None] = None,
    category: FromQuery[str | None] = None,
    view: FromQuery[str | None] = None,
    page: FromQuery[str | None] = None,
    added: FromQuery[str | None] = None,
) -> Template:
    category_id = uuid_or_none(category)
    current = page_number(page)
    search = (q or "").strip()[:100]
    products, total = await catalog.page(search or None, category_id, PAGE_SIZE, (current - 1) * PAGE_SIZE)
    if not products and current > 1 and total:  # past the last page: show the last one
        current = -(-total // PAGE_SIZE)
        products, total = await catalog.page(search or None, category_id, PAGE_SIZE, (current - 1) * PAGE_SIZE)
    view = view if view in VIEWS else "grid"
    query = {"q": search, "category": category_id or "", "view": "list" if view == "list" else ""}
    path = f"{base_of(portal)}/catalog"
    pages = paging(path, query, current, total, PAGE_SIZE, bare_first=True)
    views = {
        v: paging(path, {**query, "view": v if v != "grid" else ""}, current, total, PAGE_SIZE, bare_first=True)
        for v in VIEWS
    }
    return render(
        "catalog",
        portal,
        products=products,
        total=total,
        search=search,
        category_id=category_id,
        categories=[category_out(c) for c in await db.scalars(categories_query())],
        view=view,
        view_urls={v: found.url(current) for v, found in views.items()},
        paging=pages,
        in_cart=await in_cart(request, cart, actor),
        may_order=may_order(request, actor),
        first_quantity=first_quantity,
        added=uuid_or_none(added),
        back=pages.url(current),
    )


async def _product_page(
    request: AnyRequest,
    catalog: Catalog,
    cart: Cart,
    actor: Actor,
    portal: PortalContext,
    product_id: uuid.UUID,
    *,
    added: bool = False,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    product = (await catalog.present([await catalog.get(product_id)]))[0]
    return render(
        "product",
        portal,
        status_code,
        product=product,
        in_cart=(await in_cart(request, cart, actor)).get(product_id, 0),
        may_order=may_order(request, actor),
        first_quantity=first_quantity(product),
        added=added,
        form=form or {},
        errors=errors or {},
        back=f"{base_of(portal)}/catalog/{product_id}",
    )


@get(
    "/ordering/catalog/{product_id:uuid}",
    opt=requires(PARTNER_CATALOG, "read"),
    include_in_schema=False,
)
async def product_page(
    product_id: FromPath[uuid.UUID],
    request: AnyRequest,
    actor: CurrentActor,
    portal: CurrentPortal,
    catalog: CatalogDep,
    cart: CartDep,
    added: FromQuery[str | None] = None,
) -> Template:
    """A product the buyer may see (any other is not found), with its description and price breaks."""
    return await _product_page(request, catalog, cart, actor, portal, product_id, added=bool(added))


@post(
    "/ordering/cart/{product_id:uuid}/add",
    opt=requires(PARTNER_ORDER, "create"),
    include_in_schema=False,
)
async def add_to_cart_page(
    product_id: FromPath[uuid.UUID],
    data: Form,
    request: AnyRequest,
    db: DB,
    actor: CurrentActor,
    portal: CurrentPortal,
    catalog: CatalogDep,
    cart: CartDep,
) -> Template | Redirect:
    """Add a quantity of the product to what the cart holds of it, then back to the page the form was on."""
    form = {"quantity": data.get("quantity", "").strip()}
    try:
        quantity = quantity_of(form)
        if quantity < 1:
            raise ValidationFailed([FieldError("quantity", N_("must be at least 1"), "out_of_range")])
        held = next((line.quantity for line in await cart.lines() if line.product_id == product_id), 0)
        async with db.begin_nested():
            await cart.set(product_id, held + quantity)
    except ValidationFailed as error:
        return await _product_page(
            request, catalog, cart, actor, portal, product_id, form=form, errors=form_errors(error), status_code=422
        )
    back = portal_next(portal.workspace, data.get("back"), request.scope)
    return Redirect(f"{back}{'&' if '?' in back else '?'}added={product_id}")


CATALOG_PAGES = [catalog_page, product_page, add_to_cart_page]
