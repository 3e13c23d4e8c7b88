"""What a new upstream starts with in the ordering app: grants on the preset roles, field rules hiding
the manufacturer's costs from dealer roles, data levels per preset partner type, a main warehouse and a
one-step approval by the order desk. The upstream edits all of it afterwards. Plain data, so the
migration that brings existing tenants to the same start reads it too."""

from __future__ import annotations

from apps.ordering.objects import (
    CATALOG,
    COST_FIELDS,
    CREDIT,
    ORDER,
    PARTNER_ACCOUNT,
    PARTNER_CATALOG,
    PARTNER_ORDER,
    PAYMENT,
    PRICES,
    SETTINGS,
    STOCK,
)

GRANTS: dict[str, tuple[tuple[str, str], ...]] = {
    "dealer_admin": (
        (PARTNER_CATALOG, "read"),
        (PARTNER_ORDER, "read"),
        (PARTNER_ORDER, "create"),
        (PARTNER_ORDER, "cancel"),
        (PARTNER_ORDER, "receive"),
        (PARTNER_ORDER, "export"),
        (PARTNER_ACCOUNT, "read"),
        (PARTNER_ACCOUNT, "create"),
        (PARTNER_ACCOUNT, "export"),
    ),
    "dealer_buyer": (
        (PARTNER_CATALOG, "read"),
        (PARTNER_ORDER, "read"),
        (PARTNER_ORDER, "create"),
        (PARTNER_ORDER, "cancel"),
        (PARTNER_ORDER, "receive"),
    ),
    "order_desk": (
        (CATALOG, "read"),
        (PRICES, "read"),
        (STOCK, "read"),
        (STOCK, "update"),
        (ORDER, "read"),
        (ORDER, "create"),
        (ORDER, "approve"),
        (ORDER, "ship"),
        (ORDER, "cancel"),
        (ORDER, "export"),
        (PAYMENT, "read"),
        (PAYMENT, "create"),
        (PAYMENT, "approve"),
        (CREDIT, "read"),
        (SETTINGS, "read"),
    ),
    "channel_manager": ((CATALOG, "read"), (PRICES, "read"), (ORDER, "read"), (CREDIT, "read"), (CREDIT, "update")),
}
HIDDEN_COSTS: dict[str, tuple[str, ...]] = {
    "dealer_admin": (PARTNER_CATALOG, PARTNER_ORDER),
    "dealer_buyer": (PARTNER_CATALOG, PARTNER_ORDER),
}
COST_FIELD_NAMES = COST_FIELDS
# partner type code -> (level, include sub-enterprises): a distributor works on its stores' orders too
ORDER_LEVELS: dict[str, tuple[str, bool]] = {
    "dealer": ("enterprise_write", False),
    "store": ("enterprise_write", False),
    "distributor": ("enterprise_write", True),
}
MAIN_WAREHOUSE = ("MAIN", "Main warehouse")
APPROVAL_FLOW = "Order approval"  # the orders' first approval flow (roles.approvals)
FIRST_APPROVAL = ("Order desk review", 1, "order_desk")  # name, step, role, from amount 0
