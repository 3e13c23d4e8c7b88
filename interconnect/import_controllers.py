"""Bulk onboarding API (import jobs and the enterprise export)."""

from __future__ import annotations

IMPORT_CONTROLLERS: list[type] = []
