"""What roles grant on purchase orders (the workspace's own orders to its suppliers)."""

from __future__ import annotations

from portal.i18n import N_
from portal.permissions import ProtectedObject

PURCHASE_ORDER = "ordering.purchase_order"

OBJECTS = (ProtectedObject(PURCHASE_ORDER, N_("Purchase orders"), ("read", "create", "update", "cancel", "receive")),)
