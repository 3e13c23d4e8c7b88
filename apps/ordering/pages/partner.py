"""The partner portal's ordering pages (/p/{slug}/ordering/...): the catalog, the cart and checkout, my
orders, the account with its statement and payments, and the address book."""

from __future__ import annotations

from typing import Any

from apps.ordering.dependencies import PARTNER_DEPENDENCIES
from apps.ordering.pages.partner_account import ACCOUNT_PAGES
from apps.ordering.pages.partner_addresses import ADDRESS_PAGES
from apps.ordering.pages.partner_cart import CART_PAGES
from apps.ordering.pages.partner_catalog import CATALOG_PAGES
from apps.ordering.pages.partner_orders import ORDER_PAGES
from interconnect.pages.workspace import partner_portal_router

PARTNER_PAGES: list[Any] = [
    partner_portal_router(
        [*CATALOG_PAGES, *CART_PAGES, *ORDER_PAGES, *ACCOUNT_PAGES, *ADDRESS_PAGES],
        dependencies=PARTNER_DEPENDENCIES,
    )
]
