"""The console's ordering pages."""

from __future__ import annotations

from typing import Any

CONSOLE_PAGES: list[Any] = []
