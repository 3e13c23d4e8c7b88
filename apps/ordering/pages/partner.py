"""The partner portal's ordering pages."""

from __future__ import annotations

from typing import Any

PARTNER_PAGES: list[Any] = []
