"""The integration API under /api/integration (a key's: bulk upserts by external id and the change feed)
and the staff's key API under /api/integrations (keys, rotation, revocation, the request log)."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Annotated, Any

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from portal.errors import ValidationFailed
from portal.http.deps import DB
from portal.http.idempotent import shown_once
from portal.i18n import N_
from portal.identity.schemas import sent, typed
from portal.permissions import requires
from sync.integrations.dependencies import DEPENDENCIES, KEY_DEPENDENCIES, KeysDep, ObjectsDep, UpsertsDep
from sync.integrations.feed import MAX_LIMIT, change_out, changes_after
from sync.integrations.keys import key_out
from sync.integrations.objects import CHANGES, KEY
from sync.integrations.schemas import (
    BatchOut,
    ChangesOut,
    CustomerBatch,
    KeyCreated,
    KeyIn,
    KeyOut,
    KeyRequestOut,
    PriceListBatch,
    ProductBatch,
    RotateIn,
    StockBatch,
)
from sync.integrations.upsert import ItemResult

FeedLimit = Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str, QueryParameter(max_length=20, pattern=r"^[0-9]+$")]


def _item(item: msgspec.Struct) -> dict[str, Any]:
    values = sent(item)
    if isinstance(values.get("prices"), list):
        values["prices"] = [msgspec.structs.asdict(p) for p in values["prices"]]
    return values


def _batch(name: str, results: list[ItemResult]) -> BatchOut:
    count = {o: sum(1 for r in results if r.outcome == o) for o in ("created", "updated", "unchanged", "error")}
    return typed(
        {
            "object": name,
            "created": count["created"],
            "updated": count["updated"],
            "unchanged": count["unchanged"],
            "failed": count["error"],
            "results": [dataclasses.asdict(r) for r in results],
        },
        BatchOut,
    )


UPSERT = {"idempotent": True, "problems": (422,)}


class IntegrationController(Controller):
    """For an ERP with an integration key (`Authorization: Bearer pik_…`); see docs/integrations.md. Each
    upsert takes up to 500 items, answers one result per item, and is safe to send again (an
    Idempotency-Key replays the first answer; without one, a batch sent again is all `unchanged`)."""

    path = "/api/integration"
    tags = ["integration"]
    dependencies = DEPENDENCIES

    async def _run(self, name: str, items: list[Any], upserts: UpsertsDep, integration_objects: ObjectsDep) -> BatchOut:
        return _batch(name, await upserts.run(integration_objects[name], [_item(i) for i in items]))

    @post("/products", opt={**requires("integration.products", "write"), **UPSERT}, status_code=200)
    async def products(
        self, data: JSONBody[ProductBatch], db: DB, upserts: UpsertsDep, integration_objects: ObjectsDep
    ) -> BatchOut:
        """Products by external id: a new one needs `sku` and `name`; the others change the fields sent."""
        return await self._run("products", data.items, upserts, integration_objects)

    @post("/price-lists", opt={**requires("integration.price_lists", "write"), **UPSERT}, status_code=200)
    async def price_lists(
        self, data: JSONBody[PriceListBatch], db: DB, upserts: UpsertsDep, integration_objects: ObjectsDep
    ) -> BatchOut:
        """Price lists by external id, with their `prices` (each naming its product by external id): when
        sent, the list's prices become exactly those."""
        return await self._run("price_lists", data.items, upserts, integration_objects)

    @post("/stock", opt={**requires("integration.stock", "write"), **UPSERT}, status_code=200)
    async def stock(
        self, data: JSONBody[StockBatch], db: DB, upserts: UpsertsDep, integration_objects: ObjectsDep
    ) -> BatchOut:
        """On hand per product (by external id) and warehouse (by code); never below what orders reserved."""
        return await self._run("stock", data.items, upserts, integration_objects)

    @post("/customers", opt={**requires("integration.customers", "write"), **UPSERT}, status_code=200)
    async def customers(
        self, data: JSONBody[CustomerBatch], db: DB, upserts: UpsertsDep, integration_objects: ObjectsDep
    ) -> BatchOut:
        """CRM accounts (customers) by external id: tax id, phone and email are checked as the CRM checks
        them."""
        return await self._run("customers", data.items, upserts, integration_objects)

    @get("/changes", opt=requires(CHANGES, "read"))
    async def changes(self, db: DB, cursor: FromQuery[Cursor] = "0", limit: FromQuery[FeedLimit] = 100) -> ChangesOut:
        """Every change after `cursor` (0: from the start), oldest first, each once; ask again with
        `next_cursor`."""
        try:
            after = int(cursor)
        except ValueError:
            raise ValidationFailed.single("cursor", N_("must be a cursor this feed gave"), "invalid") from None
        rows, next_cursor, more = await changes_after(db, after, limit)
        return typed(
            {"changes": [change_out(r) for r in rows], "next_cursor": str(next_cursor), "has_more": more}, ChangesOut
        )


class IntegrationKeysController(Controller):
    """The workspace's integration keys (docs/integrations.md)."""

    path = "/api/integrations"
    tags = ["integrations"]
    dependencies = KEY_DEPENDENCIES

    @get("/keys", opt=requires(KEY, "read"))
    async def list_keys(self, keys: KeysDep) -> list[KeyOut]:
        return typed([key_out(k) for k in await keys.list()], list[KeyOut])

    @post("/keys", opt={**requires(KEY, "create"), **shown_once("key")})
    async def create_key(self, data: JSONBody[KeyIn], db: DB, keys: KeysDep) -> KeyCreated:
        """`scopes` among integration.products, integration.price_lists, integration.stock,
        integration.customers and integration.changes. The answer's `key` is shown this once."""
        key, shown = await keys.create(sent(data))
        return typed({"integration_key": key_out(key), "key": shown}, KeyCreated)

    @post(
        "/keys/{integration_key_id:uuid}/rotate",
        opt={**requires(KEY, "update"), **shown_once("key")},
        status_code=200,
    )
    async def rotate_key(
        self, integration_key_id: FromPath[uuid.UUID], data: JSONBody[RotateIn], db: DB, keys: KeysDep
    ) -> KeyCreated:
        """A new key (shown this once) with the same name, scopes and expiry; the old one works on for
        `overlap_hours` (0, 1, 24, 72 or 168), then stops."""
        key, shown = await keys.rotate(integration_key_id, data.overlap_hours)
        return typed({"integration_key": key_out(key), "key": shown}, KeyCreated)

    @post("/keys/{integration_key_id:uuid}/revoke", opt=requires(KEY, "update"), status_code=200)
    async def revoke_key(self, integration_key_id: FromPath[uuid.UUID], keys: KeysDep) -> KeyOut:
        """The key stops working at once."""
        return typed(key_out(await keys.revoke(integration_key_id)), KeyOut)

    @get("/requests", opt=requires(KEY, "read"))
    async def requests(
        self,
        keys: KeysDep,
        integration_key_id: FromQuery[uuid.UUID | None] = None,
        errors_only: FromQuery[bool] = False,
    ) -> list[KeyRequestOut]:
        """The latest 50 requests made with the workspace's keys (or one key's), newest first."""
        return typed(await keys.requests(integration_key_id, errors_only), list[KeyRequestOut])


CONTROLLERS = (IntegrationController, IntegrationKeysController)
