"""Request bodies of the ordering API. Unknown fields are refused (422 naming them): no body carries a
tenant, an owner, a price or a status; prices come from the price lists, status from transitions.
Responses are plain dicts made by `shown()`: a hidden field is absent, not null."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

from portal.http.inputs import Int32, Multiline
from portal.identity.schemas import Strict


class LineBody(Strict):
    product_id: uuid.UUID
    quantity: Int32


class OrderIn(Strict):
    """Lines to order; without them, the cart's lines (and the cart is emptied). It ships to
    `address_id` of the enterprise's address book or to the address typed in `ship_to`."""

    lines: list[LineBody] | None = None
    address_id: uuid.UUID | None = None
    ship_to: Multiline | None = None
    po_number: str | None = None
    requested_delivery_date: date | None = None
    note: Multiline | None = None


class StaffOrderIn(Strict):
    """An order placed by the manufacturer's staff: for a partner enterprise (which then sees it), or
    without one, the upstream's own order that partners never see."""

    lines: list[LineBody]
    enterprise_id: uuid.UUID | None = None
    address_id: uuid.UUID | None = None  # one of the enterprise's addresses, or type one in ship_to
    ship_to: Multiline | None = None
    po_number: str | None = None
    requested_delivery_date: date | None = None
    note: Multiline | None = None


class CartLineIn(Strict):
    quantity: Int32


class Comment(Strict):
    comment: Multiline | None = None


class ShipIn(Strict):
    """Quantities per order line id; none: everything left to ship. A carrier and a tracking number
    are required unless the manufacturer delivers itself (`own_delivery`)."""

    lines: dict[uuid.UUID, Int32] | None = None
    carrier: str | None = None
    tracking_number: str | None = None
    own_delivery: bool = False


class AddressIn(Strict):
    """An address of the enterprise's book; `is_default` makes it the one checkout preselects."""

    label: str
    recipient: str
    phone: str
    address: Multiline
    is_default: bool = False


class AddressPatch(Strict):
    label: str | UnsetType = UNSET
    recipient: str | UnsetType = UNSET
    phone: str | UnsetType = UNSET
    address: Multiline | UnsetType = UNSET
    is_default: bool | UnsetType = UNSET


class PaymentIn(Strict):
    amount: Decimal
    received_on: date
    method: str = "transfer"
    reference: str | None = None
    note: Multiline | None = None


class StaffPaymentIn(PaymentIn):
    enterprise_id: uuid.UUID | None = None
    # order id -> amount; none: oldest open orders first
    allocations: dict[uuid.UUID, Decimal] | None = None


class ConfirmIn(Strict):
    allocations: dict[uuid.UUID, Decimal] | None = None


class RejectPaymentIn(Strict):
    note: Multiline


class CategoryIn(Strict):
    code: str
    name: str
    parent_id: uuid.UUID | None = None
    sort_order: Int32 = 0


class ProductIn(Strict):
    sku: str
    name: str
    category_id: uuid.UUID | None = None
    unit: str = "pcs"
    pack_size: Int32 = 1
    min_order_quantity: Int32 = 1
    description: Multiline | None = None
    image_url: str | None = None
    cost_price: Decimal | None = None
    listed: bool = True


class ProductPatch(Strict):
    sku: str | UnsetType = UNSET
    name: str | UnsetType = UNSET
    category_id: uuid.UUID | UnsetType | None = UNSET
    unit: str | UnsetType = UNSET
    pack_size: Int32 | UnsetType = UNSET
    min_order_quantity: Int32 | UnsetType = UNSET
    description: Multiline | UnsetType | None = UNSET
    image_url: str | UnsetType | None = UNSET
    cost_price: Decimal | UnsetType | None = UNSET
    listed: bool | UnsetType = UNSET


class AudienceIn(Strict):
    partner_type_id: uuid.UUID | None = None
    tier_id: uuid.UUID | None = None


class VisibilityIn(Strict):
    """visible_to_all, or only the audiences listed."""

    visible_to_all: bool
    audiences: list[AudienceIn] = msgspec.field(default_factory=list)


class PriceListIn(Strict):
    name: str
    kind: str  # base | tier | enterprise
    tier_id: uuid.UUID | None = None
    enterprise_id: uuid.UUID | None = None
    currency: str = "CNY"
    valid_from: date | None = None
    valid_to: date | None = None
    active: bool = True


class PriceListPatch(Strict):
    name: str | UnsetType = UNSET
    valid_from: date | UnsetType | None = UNSET
    valid_to: date | UnsetType | None = UNSET
    active: bool | UnsetType = UNSET


class PriceItemIn(Strict):
    product_id: uuid.UUID
    unit_price: Decimal
    min_quantity: Int32 = 1


class WarehouseIn(Strict):
    code: str
    name: str


class StockIn(Strict):
    on_hand: Int32


class CreditLimitIn(Strict):
    """null removes the limit."""

    amount: Decimal | None


class SettingsPatch(Strict):
    reserve_on: str | UnsetType = UNSET
    over_credit: str | UnsetType = UNSET
    credit_approver_role: str | UnsetType = UNSET
    auto_receive_days: Int32 | UnsetType = UNSET
    default_warehouse_id: uuid.UUID | UnsetType = UNSET


class ApprovalRuleIn(Strict):
    name: str
    role_key: str
    step: Int32 = 1
    min_amount: Decimal = Decimal(0)
    partner_type_id: uuid.UUID | None = None


class Page(msgspec.Struct):
    items: list[dict[str, Any]]
    total: int
    limit: int
    offset: int
