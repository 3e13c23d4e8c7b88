"""What roles grant in the ordering app. Partners act on "partner.ordering.*" (inside the ordering app,
which a role opens or not); the upstream's staff on "ordering.*". Orders are data-scoped records.

Field names mean the same on every object they appear on: `cost_price` is what a product or a line
costs the manufacturer (on an order, what all its lines cost), `margin` the share of the price above
it. Dealer roles have both hidden (see apps.ordering.presets), so neither is in any answer to them.
"""

from __future__ import annotations

from apps.ordering.models import Order
from portal.i18n import N_
from portal.permissions import ProtectedObject

APP = "ordering"

PARTNER_CATALOG = "partner.ordering.catalog"
PARTNER_ORDER = "partner.ordering.order"
PARTNER_ACCOUNT = "partner.ordering.account"  # the statement, receivables and reported payments

CATALOG = "ordering.catalog"
PRICES = "ordering.prices"
STOCK = "ordering.stock"
ORDER = "ordering.order"
PAYMENT = "ordering.payment"
CREDIT = "ordering.credit"
SETTINGS = "ordering.settings"

CATALOG_FIELDS: tuple[tuple[str, str], ...] = (
    ("price", N_("Price")),
    ("available", N_("Available stock")),
    ("description", N_("Description")),
    ("cost_price", N_("Cost price")),
    ("margin", N_("Margin")),
)
ORDER_FIELDS: tuple[tuple[str, str], ...] = (
    ("ship_to", N_("Ship to")),
    ("po_number", N_("PO number")),
    ("requested_delivery_date", N_("Requested delivery date")),
    ("note", N_("Note")),
    ("paid_amount", N_("Paid")),
    ("cost_price", N_("Cost price")),
    ("margin", N_("Margin")),
)
# Fields of the order a partner may send when placing it; all the others come from the catalog.
ORDER_INPUT_FIELDS = ("ship_to", "po_number", "requested_delivery_date", "note")
COST_FIELDS = ("cost_price", "margin")

OBJECTS = (
    ProtectedObject(
        PARTNER_CATALOG, N_("Catalog"), ("read",), fields=CATALOG_FIELDS, app=APP, staff_view=(CATALOG, PRICES)
    ),
    ProtectedObject(
        PARTNER_ORDER,
        N_("Orders"),
        ("read", "create", "cancel", "receive", "export"),
        fields=ORDER_FIELDS,
        model=Order,
        app=APP,
        staff_view=(ORDER,),
    ),
    ProtectedObject(
        PARTNER_ACCOUNT,
        N_("Account and payments"),
        ("read", "create", "export"),
        app=APP,
        staff_view=(CREDIT, PAYMENT),  # the statement shows the credit line, balances and payments
    ),
    ProtectedObject(
        CATALOG, N_("Catalog"), ("read", "create", "update", "delete", "export", "import"), fields=CATALOG_FIELDS
    ),
    ProtectedObject(PRICES, N_("Price lists"), ("read", "create", "update", "delete", "export", "import")),
    ProtectedObject(STOCK, N_("Stock"), ("read", "update")),
    ProtectedObject(
        ORDER,
        N_("Orders"),
        ("read", "create", "approve", "ship", "cancel", "export"),
        fields=ORDER_FIELDS,
        model=Order,
    ),
    ProtectedObject(PAYMENT, N_("Payments"), ("read", "create", "approve", "export")),
    ProtectedObject(CREDIT, N_("Credit limits"), ("read", "update")),
    ProtectedObject(SETTINGS, N_("Ordering settings"), ("read", "update")),
)
