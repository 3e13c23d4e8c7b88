"""Request bodies of the ordering API. Unknown fields are refused (422 naming them): no body carries a
tenant, an owner, a price or a status; prices come from the price lists, status from transitions.

Response bodies follow the requests. The services present records as dicts with the hidden fields
already taken out (`roles.access.shown`); each field a field rule (or the side asking) can leave out
defaults to UNSET here, so it stays absent from the JSON, not null."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

import msgspec
from msgspec import UNSET, UnsetType

from portal.http.inputs import Int32, Multiline
from portal.identity.schemas import Out, Strict


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


# --- responses ---


class CategoryOut(Out, kw_only=True):
    id: uuid.UUID
    code: str
    name: str
    parent_id: uuid.UUID | None


class PriceBreakOut(Out, kw_only=True):
    min_quantity: int
    unit_price: Decimal


class ProductOut(Out, kw_only=True):
    """A product at the buyer's price for one unit (staff: the base price). `listed` and
    `visible_to_all` are the staff's; `breaks` and `price_source` go with `price`."""

    id: uuid.UUID
    sku: str
    name: str
    category_id: uuid.UUID | None
    category: str | None
    unit: str
    pack_size: int
    min_order_quantity: int
    description: str | UnsetType | None = UNSET
    image_url: str | None
    listed: bool | UnsetType = UNSET
    visible_to_all: bool | UnsetType = UNSET
    price: Decimal | UnsetType | None = UNSET
    currency: str | None
    price_source: str | UnsetType | None = UNSET
    breaks: list[PriceBreakOut] | UnsetType = UNSET
    available: int | UnsetType = UNSET
    cost_price: Decimal | UnsetType | None = UNSET
    margin: Decimal | UnsetType | None = UNSET


class AudienceOut(Out, kw_only=True):
    partner_type_id: uuid.UUID | None
    tier_id: uuid.UUID | None


class StaffProductOut(ProductOut, kw_only=True):
    audiences: list[AudienceOut]


class ProductPage(Out, kw_only=True):
    items: list[ProductOut]
    total: int
    limit: int
    offset: int


class PricePreviewOut(Out, kw_only=True):
    """`price` null: no list prices the product for that buyer (and nothing else is said)."""

    product_id: uuid.UUID
    quantity: int
    price: Decimal | None
    currency: str | UnsetType = UNSET
    source: str | UnsetType = UNSET
    price_list_id: uuid.UUID | UnsetType = UNSET
    from_quantity: int | UnsetType = UNSET


class PriceListOut(Out, kw_only=True):
    id: uuid.UUID
    name: str
    kind: str
    tier_id: uuid.UUID | None
    enterprise_id: uuid.UUID | None
    currency: str
    valid_from: date | None
    valid_to: date | None
    active: bool


class PriceItemOut(Out, kw_only=True):
    product_id: uuid.UUID
    sku: str
    name: str
    min_quantity: int
    unit_price: Decimal


class PriceListItemsOut(PriceListOut, kw_only=True):
    items: list[PriceItemOut]


class PriceImportOut(PriceListItemsOut, kw_only=True):
    imported: int
    products: int


class WarehouseOut(Out, kw_only=True):
    id: uuid.UUID
    code: str
    name: str
    active: bool


class StockLevelOut(Out, kw_only=True):
    product_id: uuid.UUID
    on_hand: int
    reserved: int
    available: int


class StockRowOut(StockLevelOut, kw_only=True):
    sku: str
    name: str


class StockPage(Out, kw_only=True):
    items: list[StockRowOut]
    total: int
    limit: int
    offset: int


class CartProblemOut(Out, kw_only=True):
    code: str
    message: str


class CartItemOut(Out, kw_only=True):
    """`product` null: the product is no longer in the buyer's catalog."""

    product_id: uuid.UUID
    quantity: int
    available_to_order: bool
    problems: list[CartProblemOut]
    product: ProductOut | None
    unit_price: Decimal | UnsetType | None = UNSET
    line_total: Decimal | UnsetType | None = UNSET


class CartOut(Out, kw_only=True):
    items: list[CartItemOut]
    total: Decimal | UnsetType = UNSET


class OrderLineOut(Out, kw_only=True):
    id: uuid.UUID
    line_no: int
    product_id: uuid.UUID
    sku: str
    name: str
    unit: str
    quantity: int
    shipped_quantity: int
    unit_price: Decimal
    line_total: Decimal
    price_source: str
    cost_price: Decimal | UnsetType | None = UNSET
    margin: Decimal | UnsetType | None = UNSET


class OrderSummaryOut(Out, kw_only=True):
    """An order in a list; `actions` are the transitions the caller may take now."""

    id: uuid.UUID
    number: str
    status: str
    enterprise_id: uuid.UUID | None
    enterprise: str | None
    owner_id: uuid.UUID
    placed_by_kind: str
    currency: str
    total: Decimal
    paid_amount: Decimal | UnsetType = UNSET
    balance_due: Decimal | None
    cost_price: Decimal | UnsetType | None = UNSET
    margin: Decimal | UnsetType | None = UNSET
    over_credit: bool
    from_purchase_order: bool = False  # placed from the buyer's purchase order in its own workspace
    ship_to: str | UnsetType | None = UNSET
    po_number: str | UnsetType | None = UNSET
    requested_delivery_date: date | UnsetType | None = UNSET
    note: str | UnsetType | None = UNSET
    created_at: datetime
    submitted_at: datetime | None
    approved_at: datetime | None
    shipped_at: datetime | None
    received_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None
    actions: list[str]


class ApprovalStepOut(Out, kw_only=True):
    step: int
    role: str
    reason: str
    status: str
    decided_by: str | None
    decided_at: datetime | None
    comment: str | None


class ShippedLineOut(Out, kw_only=True):
    order_line_id: uuid.UUID
    quantity: int


class ShipmentOut(Out, kw_only=True):
    id: uuid.UUID
    number: str
    carrier: str | None
    tracking_number: str | None
    own_delivery: bool
    shipped_at: datetime
    lines: list[ShippedLineOut]


class OrderEventOut(Out, kw_only=True):
    at: datetime
    action: str
    from_status: str | None
    to_status: str
    by: str | None
    by_kind: str
    comment: str | None


class OrderOut(OrderSummaryOut, kw_only=True):
    """The order with its lines, approval steps, shipments and timeline."""

    lines: list[OrderLineOut]
    approvals: list[ApprovalStepOut]
    shipments: list[ShipmentOut]
    timeline: list[OrderEventOut]


class OrderPage(Out, kw_only=True):
    items: list[OrderSummaryOut]
    total: int
    limit: int
    offset: int


class AutoReceivedOut(Out, kw_only=True):
    received: list[str]  # order numbers


class AllocationOut(Out, kw_only=True):
    order_id: uuid.UUID
    number: str
    amount: Decimal


class PaymentOut(Out, kw_only=True):
    id: uuid.UUID
    enterprise_id: uuid.UUID
    enterprise: str | None
    amount: Decimal
    currency: str
    method: str
    reference: str | None
    received_on: date
    status: str
    note: str | None
    reported_by_kind: str
    confirmed_at: datetime | None
    allocations: list[AllocationOut]


class PaymentPage(Out, kw_only=True):
    items: list[PaymentOut]
    total: int
    limit: int
    offset: int


class OpenOrderOut(Out, kw_only=True):
    id: uuid.UUID
    number: str
    total: Decimal
    paid_amount: Decimal


class AccountOut(Out, kw_only=True):
    """What the enterprise owes, what waits for approval, its credit limit (null: none) and what is
    left of it."""

    balance: Decimal
    awaiting_approval: Decimal
    credit_limit: Decimal | None
    credit_left: Decimal | None
    open_orders: list[OpenOrderOut]


class EnterpriseAccountOut(Out, kw_only=True):
    enterprise_id: uuid.UUID
    enterprise: str
    credit_limit: Decimal | None
    balance: Decimal
    awaiting_approval: Decimal
    credit_left: Decimal | None


class CreditLimitOut(Out, kw_only=True):
    enterprise_id: uuid.UUID
    credit_limit: Decimal | None


class StatementLineOut(Out, kw_only=True):
    at: datetime
    kind: str
    description: str
    order_id: uuid.UUID | None
    payment_id: uuid.UUID | None
    debit: Decimal
    credit: Decimal
    balance: Decimal


class StatementOut(Out, kw_only=True):
    enterprise_id: uuid.UUID
    start: date
    end: date
    opening_balance: Decimal
    debits: Decimal
    credits: Decimal
    closing_balance: Decimal
    lines: list[StatementLineOut]


class AddressOut(Out, kw_only=True):
    id: uuid.UUID
    label: str
    recipient: str
    phone: str
    address: str
    is_default: bool
    created_at: datetime
    updated_at: datetime


class SettingsOut(Out, kw_only=True):
    currency: str
    reserve_on: str
    over_credit: str
    credit_approver_role: str
    auto_receive_days: int
    default_warehouse_id: uuid.UUID | None


class ApprovalRuleOut(Out, kw_only=True):
    id: uuid.UUID
    name: str
    step: int
    role_key: str
    min_amount: Decimal
    partner_type_id: uuid.UUID | None
    active: bool
