"""Request and response bodies of the integration API (/api/integration/, a key's) and of the staff's key API
(/api/integrations/)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, UnsetType

from portal.http.inputs import Int32, Multiline
from portal.identity.schemas import Strict

ExternalIdText = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
MAX_ITEMS = 500


class ProductItem(Strict):
    external_id: ExternalIdText
    sku: str | UnsetType = UNSET
    name: str | UnsetType = UNSET
    unit: str | UnsetType = UNSET
    pack_size: Int32 | UnsetType = UNSET
    min_order_quantity: Int32 | UnsetType = UNSET
    description: Multiline | UnsetType | None = UNSET
    image_url: str | UnsetType | None = UNSET
    cost_price: Decimal | UnsetType | None = UNSET
    listed: bool | UnsetType = UNSET


class PriceItem(Strict):
    product: ExternalIdText
    unit_price: Decimal
    min_quantity: Int32 = 1


class PriceListItem(Strict):
    external_id: ExternalIdText
    name: str | UnsetType = UNSET
    kind: Literal["base", "tier", "enterprise"] | UnsetType = UNSET
    tier_id: uuid.UUID | UnsetType | None = UNSET
    enterprise_id: uuid.UUID | UnsetType | None = UNSET
    currency: str | UnsetType = UNSET
    valid_from: date | UnsetType | None = UNSET
    valid_to: date | UnsetType | None = UNSET
    active: bool | UnsetType = UNSET
    prices: list[PriceItem] | UnsetType = UNSET


class StockItem(Strict):
    product: ExternalIdText
    warehouse: str
    on_hand: Int32


class CustomerItem(Strict):
    external_id: ExternalIdText
    name: str | UnsetType = UNSET
    code: str | UnsetType | None = UNSET
    tax_id: str | UnsetType | None = UNSET
    phone: str | UnsetType | None = UNSET
    email: str | UnsetType | None = UNSET


class ProductBatch(Strict):
    items: Annotated[list[ProductItem], msgspec.Meta(max_length=MAX_ITEMS)]


class PriceListBatch(Strict):
    items: Annotated[list[PriceListItem], msgspec.Meta(max_length=MAX_ITEMS)]


class StockBatch(Strict):
    items: Annotated[list[StockItem], msgspec.Meta(max_length=MAX_ITEMS)]


class CustomerBatch(Strict):
    items: Annotated[list[CustomerItem], msgspec.Meta(max_length=MAX_ITEMS)]


class ItemError(msgspec.Struct):
    field: str
    code: str
    message: str


class ItemResultOut(msgspec.Struct):
    index: int
    external_id: str | None
    outcome: Literal["created", "updated", "unchanged", "error"]
    id: uuid.UUID | None
    errors: list[ItemError]


class BatchOut(msgspec.Struct):
    object: str
    created: int
    updated: int
    unchanged: int
    failed: int
    results: list[ItemResultOut]


class ProductData(msgspec.Struct):
    id: uuid.UUID
    sku: str
    name: str
    unit: str
    pack_size: int
    min_order_quantity: int
    description: str | None
    image_url: str | None
    cost_price: str | None
    listed: bool


class PriceData(msgspec.Struct):
    product_id: uuid.UUID
    sku: str
    min_quantity: int
    unit_price: str


class PriceListData(msgspec.Struct):
    id: uuid.UUID
    name: str
    kind: str
    tier_id: uuid.UUID | None
    enterprise_id: uuid.UUID | None
    currency: str
    valid_from: date | None
    valid_to: date | None
    active: bool
    prices: list[PriceData]


class StockLevelData(msgspec.Struct):
    id: uuid.UUID
    product_id: uuid.UUID
    sku: str
    warehouse: str
    on_hand: int
    reserved: int


class CustomerData(msgspec.Struct):
    id: uuid.UUID
    kind: str
    name: str
    code: str | None
    tax_id: str | None
    phone: str | None
    email: str | None


class OrderLineData(msgspec.Struct):
    product_id: uuid.UUID
    sku: str
    quantity: int
    unit_price: str


class OrderData(msgspec.Struct):
    id: uuid.UUID
    number: str
    status: str
    enterprise_id: uuid.UUID | None
    currency: str
    total: str
    po_number: str | None
    lines: list[OrderLineData]


class ChangeOut(msgspec.Struct, omit_defaults=True):
    """One change: the record as it stood when the change was recorded is under the object's own name
    (`product`, `price_list`, `stock_level`, `customer` or `order`); none when it was deleted."""

    cursor: str
    object: Literal["products", "price_lists", "stock", "customers", "orders"]
    id: uuid.UUID
    external_id: str | None
    action: Literal["changed", "deleted"]
    event_type: str
    occurred_at: datetime
    product: ProductData | None = None
    price_list: PriceListData | None = None
    stock_level: StockLevelData | None = None
    customer: CustomerData | None = None
    order: OrderData | None = None


class ChangesOut(msgspec.Struct):
    changes: list[ChangeOut]
    next_cursor: str
    has_more: bool


# --- the staff's key API ---


class KeyIn(Strict):
    name: str
    scopes: list[str]
    expires_in_days: Int32 | None = None


class RotateIn(Strict):
    overlap_hours: Int32 = 24


class KeyOut(msgspec.Struct):
    id: uuid.UUID
    name: str
    hint: str
    scopes: list[str]
    state: Literal["active", "retiring", "expired", "revoked"]
    expires_at: datetime | None
    retires_at: datetime | None
    revoked_at: datetime | None
    replaced_by: uuid.UUID | None
    last_used_at: datetime | None
    created_at: datetime


class KeyCreated(msgspec.Struct):
    """`key` is the key itself: shown this once, kept nowhere."""

    integration_key: KeyOut
    key: str | None


class KeyRequestOut(msgspec.Struct):
    key_id: uuid.UUID
    key_name: str
    method: str
    path: str
    status: int
    problem: str | None
    at: datetime
