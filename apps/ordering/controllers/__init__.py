"""The ordering API: partners under /api/partner/ordering, the manufacturer's staff under /api/ordering."""

from apps.ordering.controllers.partner import PARTNER_CONTROLLERS
from apps.ordering.controllers.staff_catalog import STAFF_CATALOG_CONTROLLERS
from apps.ordering.controllers.staff_orders import STAFF_ORDER_CONTROLLERS
from apps.ordering.controllers.staff_price_sheets import STAFF_PRICE_SHEET_CONTROLLERS

CONTROLLERS = [
    *PARTNER_CONTROLLERS,
    *STAFF_CATALOG_CONTROLLERS,
    *STAFF_ORDER_CONTROLLERS,
    *STAFF_PRICE_SHEET_CONTROLLERS,
]
