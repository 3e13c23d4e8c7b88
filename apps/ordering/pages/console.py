"""The console's ordering pages (/console/ordering/...): the overview, the order desk, products, price
lists and their spreadsheets, stock, credit and statements, payments, and the settings. Each module
holds one job; all of them call the services the staff API calls."""

from __future__ import annotations

from typing import Any

from litestar import Router

from apps.ordering.dependencies import STAFF_DEPENDENCIES
from apps.ordering.pages.console_credit import CREDIT_PAGES
from apps.ordering.pages.console_orders import ORDER_PAGES
from apps.ordering.pages.console_overview import OVERVIEW_PAGES
from apps.ordering.pages.console_payments import PAYMENT_PAGES
from apps.ordering.pages.console_prices import PRICE_PAGES
from apps.ordering.pages.console_products import PRODUCT_PAGES
from apps.ordering.pages.console_settings import SETTINGS_PAGES
from apps.ordering.pages.console_stock import STOCK_PAGES
from interconnect.dependencies import DEPENDENCIES as INTERCONNECT_DEPENDENCIES

CONSOLE_PAGES: list[Any] = [
    # at their full paths; the staff side's services (orders, payments, catalog) named once for all
    Router(
        path="/",
        route_handlers=[
            *OVERVIEW_PAGES,
            *ORDER_PAGES,
            *PRODUCT_PAGES,
            *PRICE_PAGES,
            *STOCK_PAGES,
            *CREDIT_PAGES,
            *PAYMENT_PAGES,
            *SETTINGS_PAGES,
        ],
        # the programme's partner types and tiers, shown on several pages, come from interconnect's provider
        dependencies={**STAFF_DEPENDENCIES, "programme": INTERCONNECT_DEPENDENCIES["programme"]},
    )
]
