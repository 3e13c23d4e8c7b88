"""The delivery pages of the console."""

from __future__ import annotations

from typing import Any

from litestar import Router

from sync.dependencies import DEPENDENCIES
from sync.pages.deliveries import DELIVERY_PAGES

PAGES: list[Any] = [Router(path="/", route_handlers=DELIVERY_PAGES, dependencies=DEPENDENCIES)]
