"""The catalog in the console: products with search and category filter, the product form (create and
edit), who may see a product, and categories. Writes go through CatalogAdmin after the same field-rule
check the API makes; the form offers only the fields the actor may change."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

from litestar import get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from apps.ordering.admin import CatalogAdmin
from apps.ordering.catalog import Catalog, categories_query
from apps.ordering.dependencies import AdminDep, CatalogDep
from apps.ordering.objects import CATALOG
from apps.ordering.pages.console_shared import (
    PAGE_SIZE,
    AnyRequest,
    done_message,
    form_int,
    form_uuid,
    optional_uuid,
    page_helpers,
    raise_if,
    text,
    with_query,
)
from interconnect.dependencies import ProgrammeDep
from interconnect.pages.programme_settings import programme_settings
from interconnect.programme import Programme
from portal.actor import Actor
from portal.errors import FieldError, ValidationFailed
from portal.http.deps import DB, CurrentActor
from portal.permissions import requires
from portal.ui.forms import Form, MultiForm
from portal.ui.paging import page_number, paging
from portal.ui.refusals import field_errors
from roles.access import check_writable, policy_of

PRODUCT_FIELDS = (
    "sku",
    "name",
    "category_id",
    "unit",
    "pack_size",
    "min_order_quantity",
    "description",
    "image_url",
    "cost_price",
    "listed",
)
AUDIENCE_FIELD = re.compile(r"^(type|tier):(\d{1,3})$")
AUDIENCE_ROWS = 3  # blank audience rows offered beyond the product's own


def writable_fields(request: AnyRequest, actor: Actor) -> tuple[str, ...]:
    rules = policy_of(request).fields(actor, CATALOG)
    return tuple(name for name in PRODUCT_FIELDS if rules.get(name) not in ("hidden", "read_only"))


def product_values(data: Mapping[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """The form's values as the service takes them; the checks on them are the service's."""
    errors: list[FieldError] = []
    values: dict[str, Any] = {}
    for name in fields:
        if name in ("pack_size", "min_order_quantity"):
            values[name] = form_int(data, name, errors)
        elif name == "category_id":
            values[name] = form_uuid(data, name, errors)
        elif name == "listed":
            values[name] = text(data, name) in ("on", "true", "1")
        else:
            values[name] = text(data, name)
    raise_if(errors)
    return values


async def _categories(db: AsyncSession) -> list[tuple[uuid.UUID, str]]:
    return [(c.id, c.name) for c in await db.scalars(categories_query())]


@get("/console/ordering/products", opt=requires(CATALOG, "read"), include_in_schema=False)
async def products_page(
    request: AnyRequest,
    db: DB,
    actor: CurrentActor,
    catalog: CatalogDep,
    q: FromQuery[str | None] = None,
    category: FromQuery[str | None] = None,
    page: FromQuery[str | None] = None,
    done: FromQuery[str | None] = None,
) -> Template:
    return await _products_page(request, db, actor, catalog, q, category, page, done=done)


async def _products_page(
    request: AnyRequest,
    db: AsyncSession,
    actor: Actor,
    catalog: Catalog,
    q: str | None = None,
    category: str | None = None,
    page: str | None = None,
    *,
    done: str | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    chosen = {"q": (q or "").strip()[:100], "category": optional_uuid(category)}
    number = page_number(page)
    rows, total = await catalog.page(chosen["q"] or None, chosen["category"], PAGE_SIZE, (number - 1) * PAGE_SIZE)
    rules = policy_of(request).fields(actor, CATALOG)
    return Template(
        "ordering/console/products.html",
        context={
            **page_helpers(),
            "rows": rows,
            "total": total,
            "chosen": chosen,
            "categories": await _categories(db),
            "costs": rules.get("cost_price") != "hidden",
            "margins": rules.get("margin") != "hidden",
            "paging": paging("/console/ordering/products", chosen, number, total, PAGE_SIZE),
            "notice": done_message(done),
            "form": form or {},
            "errors": errors or {},
            "section": "products",
        },
        status_code=status_code,
    )


async def _product_page(
    request: AnyRequest,
    db: AsyncSession,
    actor: Actor,
    admin: CatalogAdmin,
    catalog: Catalog,
    programme: Programme,
    product_id: uuid.UUID | None,
    *,
    done: str | None = None,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    audience_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    product, shown, audiences = None, {}, []
    if product_id is not None:
        product = await admin.product(product_id)
        shown = (await catalog.present([product]))[0]
        audiences = await admin.audiences(product.id)
    if form is None:
        form = {name: shown.get(name) for name in PRODUCT_FIELDS} if product else {"unit": "pcs", "listed": True}
        form = {k: "" if v is None else v for k, v in form.items()}
    settings = await programme_settings(programme)
    return Template(
        "ordering/console/product.html",
        context={
            **page_helpers(),
            "product": product,
            "shown": shown,
            "form": form,
            "errors": errors or {},
            "writable": writable_fields(request, actor),
            "categories": await _categories(db),
            "audiences": audiences,
            "audience_rows": range(len(audiences) + AUDIENCE_ROWS),
            "audience_errors": audience_errors or {},
            "types": [(t.id, t.name) for t in settings.types],
            "tiers": [(t.id, t.name) for t in settings.tiers],
            "notice": done_message(done),
            "section": "products",
        },
        status_code=status_code,
    )


@get("/console/ordering/products/new", opt=requires(CATALOG, "create"), include_in_schema=False)
async def new_product_page(
    request: AnyRequest, db: DB, actor: CurrentActor, admin: AdminDep, catalog: CatalogDep, programme: ProgrammeDep
) -> Template:
    return await _product_page(request, db, actor, admin, catalog, programme, None)


@post("/console/ordering/products", opt=requires(CATALOG, "create"), include_in_schema=False)
async def create_product_page(
    data: Form,
    request: AnyRequest,
    db: DB,
    actor: CurrentActor,
    admin: AdminDep,
    catalog: CatalogDep,
    programme: ProgrammeDep,
) -> Template | Redirect:
    fields = writable_fields(request, actor)
    form = {name: text(data, name) for name in fields}
    try:
        async with db.begin_nested():
            values = product_values(data, fields)
            check_writable(policy_of(request), actor, CATALOG, values)
            product = await admin.create_product(values)
    except ValidationFailed as error:
        form["listed"] = form.get("listed") in ("on", "true", "1")
        return await _product_page(
            request, db, actor, admin, catalog, programme, None, form=form, errors=field_errors(error), status_code=422
        )
    return Redirect(f"/console/ordering/products/{product.id}?done=created")


@get("/console/ordering/products/{product_id:uuid}", opt=requires(CATALOG, "read"), include_in_schema=False)
async def product_page(
    product_id: FromPath[uuid.UUID],
    request: AnyRequest,
    db: DB,
    actor: CurrentActor,
    admin: AdminDep,
    catalog: CatalogDep,
    programme: ProgrammeDep,
    done: FromQuery[str | None] = None,
) -> Template:
    return await _product_page(request, db, actor, admin, catalog, programme, product_id, done=done)


@post("/console/ordering/products/{product_id:uuid}", opt=requires(CATALOG, "update"), include_in_schema=False)
async def update_product_page(
    product_id: FromPath[uuid.UUID],
    data: Form,
    request: AnyRequest,
    db: DB,
    actor: CurrentActor,
    admin: AdminDep,
    catalog: CatalogDep,
    programme: ProgrammeDep,
) -> Template | Redirect:
    await admin.product(product_id)
    fields = writable_fields(request, actor)
    form: dict[str, Any] = {name: text(data, name) for name in fields}
    try:
        async with db.begin_nested():
            values = product_values(data, fields)
            check_writable(policy_of(request), actor, CATALOG, values)
            await admin.update_product(product_id, values)
    except ValidationFailed as error:
        form["listed"] = form.get("listed") in ("on", "true", "1")
        return await _product_page(
            request,
            db,
            actor,
            admin,
            catalog,
            programme,
            product_id,
            form=form,
            errors=field_errors(error),
            status_code=422,
        )
    return Redirect(f"/console/ordering/products/{product_id}?done=saved")


@post(
    "/console/ordering/products/{product_id:uuid}/visibility", opt=requires(CATALOG, "update"), include_in_schema=False
)
async def visibility_page(
    product_id: FromPath[uuid.UUID],
    data: MultiForm,
    request: AnyRequest,
    db: DB,
    actor: CurrentActor,
    admin: AdminDep,
    catalog: CatalogDep,
    programme: ProgrammeDep,
) -> Template | Redirect:
    """`visible` "all" or "some"; audience rows `type:<n>` / `tier:<n>` (a blank row is no audience)."""
    await admin.product(product_id)
    errors: list[FieldError] = []
    audiences: list[tuple[uuid.UUID | None, uuid.UUID | None]] = []
    rows = sorted({int(m.group(2)) for k in data if (m := AUDIENCE_FIELD.match(k))})
    for row in rows:
        type_id, tier_id = form_uuid(data, f"type:{row}", errors), form_uuid(data, f"tier:{row}", errors)
        if type_id is not None or tier_id is not None:
            audiences.append((type_id, tier_id))
    try:
        async with db.begin_nested():
            raise_if(errors)
            await admin.set_visibility(product_id, text(data, "visible") != "some", audiences)
    except ValidationFailed as error:
        return await _product_page(
            request,
            db,
            actor,
            admin,
            catalog,
            programme,
            product_id,
            audience_errors=field_errors(error),
            status_code=422,
        )
    return Redirect(f"/console/ordering/products/{product_id}?done=saved#visibility")


@post("/console/ordering/categories", opt=requires(CATALOG, "create"), include_in_schema=False)
async def create_category_page(
    data: Form, request: AnyRequest, db: DB, actor: CurrentActor, admin: AdminDep, catalog: CatalogDep
) -> Template | Redirect:
    form = {name: text(data, name) for name in ("code", "name", "parent_id", "sort_order")}
    errors: list[FieldError] = []
    try:
        async with db.begin_nested():
            parent = form_uuid(data, "parent_id", errors)
            order = form_int(data, "sort_order", errors, default=0)
            raise_if(errors)
            category = await admin.create_category(form["code"], form["name"], parent, order or 0)
    except ValidationFailed as error:
        return await _products_page(request, db, actor, catalog, form=form, errors=field_errors(error), status_code=422)
    return Redirect(with_query("/console/ordering/products", category=category.id, done="created"))


PRODUCT_PAGES = [
    products_page,
    new_product_page,
    create_product_page,
    product_page,
    update_product_page,
    visibility_page,
    create_category_page,
]
