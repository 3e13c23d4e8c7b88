"""The ordering app's pages: the partner portal's (/p/{slug}/ordering/...) and the console's
(/console/ordering/...)."""

from apps.ordering.pages.console import CONSOLE_PAGES
from apps.ordering.pages.partner import PARTNER_PAGES

PAGES = [*PARTNER_PAGES, *CONSOLE_PAGES]
