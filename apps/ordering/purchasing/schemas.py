"""Request and response bodies of the purchase orders API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from apps.ordering.schemas import LineBody
from portal.http.inputs import Multiline
from portal.identity.schemas import Out, Strict


class PurchaseOrderIn(Strict):
    """Lines of your own products, to one of your suppliers (`GET /api/ordering/suppliers`)."""

    supplier_id: uuid.UUID
    lines: list[LineBody]
    ship_to: Multiline
    requested_delivery_date: date | None = None
    note: Multiline | None = None


class PurchaseOrderRevisionIn(Strict):
    """New lines and details for a purchase order the supplier refused (sent again) or that awaits its
    approval (the supplier's order is replaced by one placed from it)."""

    lines: list[LineBody]
    ship_to: Multiline
    requested_delivery_date: date | None = None
    note: Multiline | None = None


class SupplierOut(Out, kw_only=True):
    tenant_id: uuid.UUID
    name: str


class PurchaseOrderLineOut(Out, kw_only=True):
    id: uuid.UUID
    line_no: int
    product_id: uuid.UUID
    sku: str
    name: str
    unit: str
    quantity: int
    shipped_quantity: int


class PurchaseOrderSummaryOut(Out, kw_only=True):
    id: uuid.UUID
    number: str
    supplier_tenant_id: uuid.UUID
    supplier_name: str
    status: str  # sent, refused, then the supplier's order: submitted, approved, … received
    status_label: str
    ship_to: str
    requested_delivery_date: date | None
    note: str | None
    sales_order_number: str | None  # the supplier's order it became
    total: Decimal | None  # at the supplier's prices
    currency: str | None
    # why the supplier refused it (credit_limit_exceeded, unknown_product, …), or rejected or cancelled
    # its order (order_rejected, order_cancelled, with what the supplier said)
    refusal_code: str | None
    refusal: str | None  # the reason, in your language
    receipt_requested_at: datetime | None  # when you said the goods arrived
    received_at: datetime | None  # when the goods went into your stock
    revision: int  # times it was changed and sent again
    cancel_requested_at: datetime | None  # you asked the supplier to cancel; its answer clears it
    created_at: datetime


class PurchaseOrderOut(PurchaseOrderSummaryOut, kw_only=True):
    lines: list[PurchaseOrderLineOut]


class PurchaseOrderPage(Out, kw_only=True):
    items: list[PurchaseOrderSummaryOut]
    total: int
    limit: int
    offset: int
