"""The service app's pages: the partner portal's (/p/{slug}/service/...), the console's
(/console/service/...) and the customer's, without an account (/service/d/..., /service/t/...)."""

from apps.service.dashboards.pages import DASHBOARD_PAGES
from apps.service.dashboards.partner import PARTNER_DASHBOARD_PAGES
from apps.service.dealer.pages import DEALER_PAGES
from apps.service.dispatch.pages import DISPATCH_PAGES, POOL_PAGES
from apps.service.field.pages import FIELD_PAGES
from apps.service.pages.console import CONSOLE_PAGES
from apps.service.pages.labels import LABEL_PAGES
from apps.service.pages.partner import PARTNER_PAGES
from apps.service.pages.public import PUBLIC_PAGES
from apps.service.parts.pages import PARTS_PAGES
from apps.service.settlement import pages as settlement

PAGES = [
    *PARTNER_PAGES,
    *FIELD_PAGES,
    *CONSOLE_PAGES,
    *DISPATCH_PAGES,
    *POOL_PAGES,
    *LABEL_PAGES,
    *PUBLIC_PAGES,
    *PARTS_PAGES,
    *settlement.CONSOLE_PAGES,
    *settlement.PARTNER_PAGES,
    *DASHBOARD_PAGES,
    *DEALER_PAGES,
    *PARTNER_DASHBOARD_PAGES,
]
