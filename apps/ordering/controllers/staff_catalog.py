"""The manufacturer's catalog, price lists and stock."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, delete, get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from sqlalchemy import func, or_, select

from apps.ordering import pricing, stock
from apps.ordering.admin import CatalogAdmin, price_list_out
from apps.ordering.catalog import Catalog, buyer_of, categories_query, category_out
from apps.ordering.controllers.shared import AnyRequest, catalog_of
from apps.ordering.models import PriceList, Product, StockLevel, Warehouse
from apps.ordering.objects import CATALOG, PRICES, STOCK
from apps.ordering.schemas import (
    CategoryIn,
    Page,
    PriceItemIn,
    PriceListIn,
    PriceListPatch,
    ProductIn,
    ProductPatch,
    StockIn,
    VisibilityIn,
    WarehouseIn,
)
from portal.http.deps import DB, CurrentActor
from portal.http.inputs import INT32_MAX, Limit, Offset, Search
from portal.identity.schemas import sent
from portal.permissions import requires
from roles.access import check_writable, policy_of


class StaffCatalogController(Controller):
    path = "/api/ordering"
    tags = ["ordering: catalog"]

    @get("/categories", opt=requires(CATALOG, "read"))
    async def list_categories(self, db: DB) -> list[dict[str, Any]]:
        return [category_out(c) for c in await db.scalars(categories_query())]

    @post("/categories", opt=requires(CATALOG, "create"))
    async def create_category(self, data: JSONBody[CategoryIn], db: DB) -> dict[str, Any]:
        return category_out(
            await CatalogAdmin(db).create_category(data.code, data.name, data.parent_id, data.sort_order)
        )

    @get("/products", opt=requires(CATALOG, "read"))
    async def list_products(
        self,
        request: AnyRequest,
        db: DB,
        actor: CurrentActor,
        search: Search = None,
        category_id: FromQuery[uuid.UUID | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page:
        """Every product, listed or not, at base prices, with cost and margin (as field rules allow)."""
        catalog = await catalog_of(request, db, actor, CATALOG)
        items, total = await catalog.page(search, category_id, limit, offset)
        return Page(items, total, limit, offset)

    @post("/products", opt=requires(CATALOG, "create"))
    async def create_product(
        self, data: JSONBody[ProductIn], request: AnyRequest, db: DB, actor: CurrentActor
    ) -> dict[str, Any]:
        values = sent(data)
        check_writable(policy_of(request), actor, CATALOG, values)
        product = await CatalogAdmin(db).create_product(values)
        return await self._out(request, db, actor, product)

    @get("/products/{product_id:uuid}", opt=requires(CATALOG, "read"))
    async def get_product(
        self, product_id: FromPath[uuid.UUID], request: AnyRequest, db: DB, actor: CurrentActor
    ) -> dict[str, Any]:
        """The product with its audiences (when not visible to all)."""
        return await self._out(request, db, actor, await CatalogAdmin(db).product(product_id))

    @patch("/products/{product_id:uuid}", opt=requires(CATALOG, "update"))
    async def update_product(
        self,
        product_id: FromPath[uuid.UUID],
        data: JSONBody[ProductPatch],
        request: AnyRequest,
        db: DB,
        actor: CurrentActor,
    ) -> dict[str, Any]:
        """Change the fields sent; `listed: false` takes the product out of every partner's catalog."""
        values = sent(data)
        check_writable(policy_of(request), actor, CATALOG, values)
        product = await CatalogAdmin(db).update_product(product_id, values)
        return await self._out(request, db, actor, product)

    @put("/products/{product_id:uuid}/visibility", opt=requires(CATALOG, "update"))
    async def set_visibility(
        self,
        product_id: FromPath[uuid.UUID],
        data: JSONBody[VisibilityIn],
        request: AnyRequest,
        db: DB,
        actor: CurrentActor,
    ) -> dict[str, Any]:
        """Visible to all partners, or only to the audiences listed (a partner type, a tier, or both)."""
        audiences = [(a.partner_type_id, a.tier_id) for a in data.audiences]
        product = await CatalogAdmin(db).set_visibility(product_id, data.visible_to_all, audiences)
        return await self._out(request, db, actor, product)

    @get("/price-preview", opt=requires(PRICES, "read", problems=(404,)))
    async def price_preview(
        self,
        db: DB,
        product_id: FromQuery[uuid.UUID],
        quantity: Annotated[int, QueryParameter(ge=1, le=INT32_MAX)] = 1,
        enterprise_id: FromQuery[uuid.UUID | None] = None,
    ) -> dict[str, Any]:
        """The price an enterprise (or anyone: the base list) pays for the product at a quantity today,
        and which list it comes from."""
        buyer, _audience = await buyer_of(db, enterprise_id)
        found = (await pricing.prices(db, buyer, {product_id: max(1, quantity)})).get(product_id)
        if found is None:
            return {"product_id": product_id, "quantity": quantity, "price": None}
        return {
            "product_id": product_id,
            "quantity": quantity,
            "price": found.unit_price,
            "currency": found.currency,
            "source": found.source,
            "price_list_id": found.price_list_id,
            "from_quantity": found.min_quantity,
        }

    async def _out(self, request: AnyRequest, db: DB, actor: CurrentActor, product: Product) -> dict[str, Any]:
        catalog: Catalog = await catalog_of(request, db, actor, CATALOG)
        shown = (await catalog.present([product]))[0]
        return {**shown, "audiences": await CatalogAdmin(db).audiences(product.id)}


class StaffPriceListsController(Controller):
    path = "/api/ordering/price-lists"
    tags = ["ordering: catalog"]

    @get("/", opt=requires(PRICES, "read"))
    async def list_price_lists(self, db: DB, kind: FromQuery[str | None] = None) -> list[dict[str, Any]]:
        query = select(PriceList).order_by(PriceList.kind, PriceList.name)
        if kind:
            query = query.where(PriceList.kind == kind)
        return [price_list_out(p) for p in await db.scalars(query)]

    @post("/", opt=requires(PRICES, "create"))
    async def create_price_list(self, data: JSONBody[PriceListIn], db: DB) -> dict[str, Any]:
        """kind base (everyone), tier (tier_id) or enterprise (enterprise_id); valid_from/valid_to
        inclusive, open when unset."""
        return price_list_out(await CatalogAdmin(db).create_price_list(sent(data)))

    @get("/{price_list_id:uuid}", opt=requires(PRICES, "read"))
    async def get_price_list(self, price_list_id: FromPath[uuid.UUID], db: DB) -> dict[str, Any]:
        admin = CatalogAdmin(db)
        return {**price_list_out(await admin.price_list(price_list_id)), "items": await admin.items(price_list_id)}

    @patch("/{price_list_id:uuid}", opt=requires(PRICES, "update"))
    async def update_price_list(
        self, price_list_id: FromPath[uuid.UUID], data: JSONBody[PriceListPatch], db: DB
    ) -> dict[str, Any]:
        return price_list_out(await CatalogAdmin(db).update_price_list(price_list_id, sent(data)))

    @delete("/{price_list_id:uuid}", opt=requires(PRICES, "delete"))
    async def delete_price_list(self, price_list_id: FromPath[uuid.UUID], db: DB) -> None:
        await CatalogAdmin(db).delete_price_list(price_list_id)

    @put("/{price_list_id:uuid}/items", opt=requires(PRICES, "update"))
    async def replace_items(
        self, price_list_id: FromPath[uuid.UUID], data: JSONBody[list[PriceItemIn]], db: DB
    ) -> dict[str, Any]:
        """The list's items become exactly these: a unit price per product from a quantity on
        (min_quantity 1 is the plain price, higher ones are quantity breaks)."""
        admin = CatalogAdmin(db)
        await admin.replace_items(price_list_id, [(i.product_id, i.min_quantity, i.unit_price) for i in data])
        return {**price_list_out(await admin.price_list(price_list_id)), "items": await admin.items(price_list_id)}


class StaffStockController(Controller):
    path = "/api/ordering"
    tags = ["ordering: stock"]

    @get("/warehouses", opt=requires(STOCK, "read"))
    async def list_warehouses(self, db: DB) -> list[dict[str, Any]]:
        rows = await db.scalars(select(Warehouse).order_by(Warehouse.code))
        return [{"id": w.id, "code": w.code, "name": w.name, "active": w.active} for w in rows]

    @post("/warehouses", opt=requires(STOCK, "update"))
    async def create_warehouse(self, data: JSONBody[WarehouseIn], db: DB) -> dict[str, Any]:
        w = await CatalogAdmin(db).create_warehouse(data.code, data.name)
        return {"id": w.id, "code": w.code, "name": w.name, "active": w.active}

    @get("/warehouses/{warehouse_id:uuid}/stock", opt=requires(STOCK, "read"))
    async def list_stock(
        self,
        warehouse_id: FromPath[uuid.UUID],
        db: DB,
        search: Search = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page:
        """Every product with its on-hand, reserved and available quantity in the warehouse."""
        await CatalogAdmin(db).warehouse(warehouse_id)
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
        return Page(items, total, limit, offset)

    @put("/warehouses/{warehouse_id:uuid}/stock/{product_id:uuid}", opt=requires(STOCK, "update"))
    async def set_stock(
        self, warehouse_id: FromPath[uuid.UUID], product_id: FromPath[uuid.UUID], data: JSONBody[StockIn], db: DB
    ) -> dict[str, Any]:
        """A stock count: on hand becomes this (never below what orders hold reserved)."""
        await CatalogAdmin(db).warehouse(warehouse_id)
        await CatalogAdmin(db).product(product_id)
        level = await stock.set_on_hand(db, warehouse_id, product_id, data.on_hand)
        return {
            "product_id": product_id,
            "on_hand": level.on_hand,
            "reserved": level.reserved,
            "available": level.on_hand - level.reserved,
        }


STAFF_CATALOG_CONTROLLERS = [StaffCatalogController, StaffPriceListsController, StaffStockController]
