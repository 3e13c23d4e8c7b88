"""The manufacturer's catalog, price lists and stock."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, delete, get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from sqlalchemy import func, or_, select

from apps.ordering import pricing, stock
from apps.ordering.admin import price_list_out
from apps.ordering.catalog import buyer_of, categories_query, category_out
from apps.ordering.controllers.shared import AnyRequest
from apps.ordering.dependencies import STAFF_DEPENDENCIES, AdminDep, CatalogDep
from apps.ordering.models import PriceList, Product, StockLevel, Warehouse
from apps.ordering.objects import CATALOG, PRICES, STOCK
from apps.ordering.schemas import (
    CategoryIn,
    CategoryOut,
    PriceItemIn,
    PriceListIn,
    PriceListItemsOut,
    PriceListOut,
    PriceListPatch,
    PricePreviewOut,
    ProductIn,
    ProductPage,
    ProductPatch,
    StaffProductOut,
    StockIn,
    StockLevelOut,
    StockPage,
    VisibilityIn,
    WarehouseIn,
    WarehouseOut,
)
from portal.http.deps import DB, CurrentActor
from portal.http.inputs import INT32_MAX, Limit, Offset, Search
from portal.identity.schemas import sent, typed
from portal.permissions import requires
from roles.access import check_writable, policy_of


class StaffCatalogController(Controller):
    path = "/api/ordering"
    tags = ["ordering: catalog"]
    dependencies = STAFF_DEPENDENCIES

    @get("/categories", opt=requires(CATALOG, "read"))
    async def list_categories(self, db: DB) -> list[CategoryOut]:
        return typed([category_out(c) for c in await db.scalars(categories_query())], list[CategoryOut])

    @post("/categories", opt=requires(CATALOG, "create"))
    async def create_category(self, data: JSONBody[CategoryIn], db: DB, admin: AdminDep) -> CategoryOut:
        category = await admin.create_category(data.code, data.name, data.parent_id, data.sort_order)
        return typed(category_out(category), CategoryOut)

    @get("/products", opt=requires(CATALOG, "read"))
    async def list_products(
        self,
        catalog: CatalogDep,
        search: Search = None,
        category_id: FromQuery[uuid.UUID | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> ProductPage:
        """Every product, listed or not, at base prices, with cost and margin (as field rules allow)."""
        items, total = await catalog.page(search, category_id, limit, offset)
        return typed({"items": items, "total": total, "limit": limit, "offset": offset}, ProductPage)

    @post("/products", opt=requires(CATALOG, "create"))
    async def create_product(
        self,
        data: JSONBody[ProductIn],
        db: DB,
        request: AnyRequest,
        actor: CurrentActor,
        admin: AdminDep,
        catalog: CatalogDep,
    ) -> StaffProductOut:
        values = sent(data)
        check_writable(policy_of(request), actor, CATALOG, values)
        product = await admin.create_product(values)
        return await _product_out(catalog, admin, product)

    @get("/products/{product_id:uuid}", opt=requires(CATALOG, "read"))
    async def get_product(
        self, product_id: FromPath[uuid.UUID], admin: AdminDep, catalog: CatalogDep
    ) -> StaffProductOut:
        """The product with its audiences (when not visible to all)."""
        return await _product_out(catalog, admin, await admin.product(product_id))

    @patch("/products/{product_id:uuid}", opt=requires(CATALOG, "update"))
    async def update_product(
        self,
        product_id: FromPath[uuid.UUID],
        data: JSONBody[ProductPatch],
        request: AnyRequest,
        actor: CurrentActor,
        admin: AdminDep,
        catalog: CatalogDep,
    ) -> StaffProductOut:
        """Change the fields sent; `listed: false` takes the product out of every partner's catalog."""
        values = sent(data)
        check_writable(policy_of(request), actor, CATALOG, values)
        product = await admin.update_product(product_id, values)
        return await _product_out(catalog, admin, product)

    @put("/products/{product_id:uuid}/visibility", opt=requires(CATALOG, "update"))
    async def set_visibility(
        self,
        product_id: FromPath[uuid.UUID],
        data: JSONBody[VisibilityIn],
        admin: AdminDep,
        catalog: CatalogDep,
    ) -> StaffProductOut:
        """Visible to all partners, or only to the audiences listed (a partner type, a tier, or both)."""
        audiences = [(a.partner_type_id, a.tier_id) for a in data.audiences]
        product = await admin.set_visibility(product_id, data.visible_to_all, audiences)
        return await _product_out(catalog, admin, product)

    @get("/price-preview", opt=requires(PRICES, "read", problems=(404,)))
    async def price_preview(
        self,
        db: DB,
        product_id: FromQuery[uuid.UUID],
        quantity: Annotated[int, QueryParameter(ge=1, le=INT32_MAX)] = 1,
        enterprise_id: FromQuery[uuid.UUID | None] = None,
    ) -> PricePreviewOut:
        """The price an enterprise (or anyone: the base list) pays for the product at a quantity today,
        and which list it comes from."""
        buyer, _audience = await buyer_of(db, enterprise_id)
        found = (await pricing.prices(db, buyer, {product_id: max(1, quantity)})).get(product_id)
        if found is None:
            return PricePreviewOut(product_id=product_id, quantity=quantity, price=None)
        return PricePreviewOut(
            product_id=product_id,
            quantity=quantity,
            price=found.unit_price,
            currency=found.currency,
            source=found.source,
            price_list_id=found.price_list_id,
            from_quantity=found.min_quantity,
        )


async def _product_out(catalog: CatalogDep, admin: AdminDep, product: Product) -> StaffProductOut:
    shown = (await catalog.present([product]))[0]
    return typed({**shown, "audiences": await admin.audiences(product.id)}, StaffProductOut)


class StaffPriceListsController(Controller):
    path = "/api/ordering/price-lists"
    tags = ["ordering: catalog"]
    dependencies = STAFF_DEPENDENCIES

    @get("/", opt=requires(PRICES, "read"))
    async def list_price_lists(self, db: DB, kind: FromQuery[str | None] = None) -> list[PriceListOut]:
        query = select(PriceList).order_by(PriceList.kind, PriceList.name)
        if kind:
            query = query.where(PriceList.kind == kind)
        return typed([price_list_out(p) for p in await db.scalars(query)], list[PriceListOut])

    @post("/", opt=requires(PRICES, "create"))
    async def create_price_list(self, data: JSONBody[PriceListIn], db: DB, admin: AdminDep) -> PriceListOut:
        """kind base (everyone), tier (tier_id) or enterprise (enterprise_id); valid_from/valid_to
        inclusive, open when unset."""
        return typed(price_list_out(await admin.create_price_list(sent(data))), PriceListOut)

    @get("/{price_list_id:uuid}", opt=requires(PRICES, "read"))
    async def get_price_list(self, price_list_id: FromPath[uuid.UUID], admin: AdminDep) -> PriceListItemsOut:
        return await _with_items(admin, price_list_id)

    @patch("/{price_list_id:uuid}", opt=requires(PRICES, "update"))
    async def update_price_list(
        self, price_list_id: FromPath[uuid.UUID], data: JSONBody[PriceListPatch], admin: AdminDep
    ) -> PriceListOut:
        return typed(price_list_out(await admin.update_price_list(price_list_id, sent(data))), PriceListOut)

    @delete("/{price_list_id:uuid}", opt=requires(PRICES, "delete"))
    async def delete_price_list(self, price_list_id: FromPath[uuid.UUID], admin: AdminDep) -> None:
        await admin.delete_price_list(price_list_id)

    @put("/{price_list_id:uuid}/items", opt=requires(PRICES, "update"))
    async def replace_items(
        self, price_list_id: FromPath[uuid.UUID], data: JSONBody[list[PriceItemIn]], admin: AdminDep
    ) -> PriceListItemsOut:
        """The list's items become exactly these: a unit price per product from a quantity on
        (min_quantity 1 is the plain price, higher ones are quantity breaks)."""
        await admin.replace_items(price_list_id, [(i.product_id, i.min_quantity, i.unit_price) for i in data])
        return await _with_items(admin, price_list_id)


async def _with_items(admin: AdminDep, price_list_id: uuid.UUID) -> PriceListItemsOut:
    values = {**price_list_out(await admin.price_list(price_list_id)), "items": await admin.items(price_list_id)}
    return typed(values, PriceListItemsOut)


class StaffStockController(Controller):
    path = "/api/ordering"
    tags = ["ordering: stock"]
    dependencies = STAFF_DEPENDENCIES

    @get("/warehouses", opt=requires(STOCK, "read"))
    async def list_warehouses(self, db: DB) -> list[WarehouseOut]:
        rows = await db.scalars(select(Warehouse).order_by(Warehouse.code))
        return [WarehouseOut(id=w.id, code=w.code, name=w.name, active=w.active) for w in rows]

    @post("/warehouses", opt=requires(STOCK, "update"))
    async def create_warehouse(self, data: JSONBody[WarehouseIn], db: DB, admin: AdminDep) -> WarehouseOut:
        w = await admin.create_warehouse(data.code, data.name)
        return WarehouseOut(id=w.id, code=w.code, name=w.name, active=w.active)

    @get("/warehouses/{warehouse_id:uuid}/stock", opt=requires(STOCK, "read"))
    async def list_stock(
        self,
        warehouse_id: FromPath[uuid.UUID],
        db: DB,
        admin: AdminDep,
        search: Search = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> StockPage:
        """Every product with its on-hand, reserved and available quantity in the warehouse."""
        await admin.warehouse(warehouse_id)
        query = select(Product.id, Product.sku, Product.name, StockLevel.on_hand, StockLevel.reserved).outerjoin(
            StockLevel, (StockLevel.product_id == Product.id) & (StockLevel.warehouse_id == warehouse_id)
        )
        if search:
            pattern = f"%{search.strip().lower()}%"
            query = query.where(or_(func.lower(Product.name).like(pattern), func.lower(Product.sku).like(pattern)))
        total = await db.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = await db.execute(query.order_by(Product.sku).limit(limit).offset(offset))
        items = [
            {
                "product_id": pid,
                "sku": sku,
                "name": name,
                "on_hand": on_hand or 0,
                "reserved": reserved or 0,
                "available": (on_hand or 0) - (reserved or 0),
            }
            for pid, sku, name, on_hand, reserved in rows
        ]
        return typed({"items": items, "total": total, "limit": limit, "offset": offset}, StockPage)

    @put("/warehouses/{warehouse_id:uuid}/stock/{product_id:uuid}", opt=requires(STOCK, "update"))
    async def set_stock(
        self,
        warehouse_id: FromPath[uuid.UUID],
        product_id: FromPath[uuid.UUID],
        data: JSONBody[StockIn],
        db: DB,
        admin: AdminDep,
    ) -> StockLevelOut:
        """A stock count: on hand becomes this (never below what orders hold reserved)."""
        await admin.warehouse(warehouse_id)
        await admin.product(product_id)
        level = await stock.set_on_hand(db, warehouse_id, product_id, data.on_hand)
        return StockLevelOut(
            product_id=product_id,
            on_hand=level.on_hand,
            reserved=level.reserved,
            available=level.on_hand - level.reserved,
        )


STAFF_CATALOG_CONTROLLERS = [StaffCatalogController, StaffPriceListsController, StaffStockController]
