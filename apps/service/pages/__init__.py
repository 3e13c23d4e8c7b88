"""The service app's pages: the partner portal's (/p/{slug}/service/...) and the console's
(/console/service/...)."""

from apps.service.pages.console import CONSOLE_PAGES
from apps.service.pages.partner import PARTNER_PAGES

PAGES = [*PARTNER_PAGES, *CONSOLE_PAGES]
