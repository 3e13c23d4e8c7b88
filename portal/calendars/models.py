"""A tenant's business calendar, stored whole in one row: it is read whole for every computation and
edited whole on one page, and a few years of holidays are a few hundred entries."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Index
from sqlalchemy.orm import Mapped, mapped_column

from portal.db.base import Audited, Base, TenantOwned, Timestamped


class BusinessCalendarRow(TenantOwned, Timestamped, Audited, Base):
    """`week`: seven lists (Monday first) of [start, end] minutes from local midnight. `days`: the
    exceptions, by date: {"day": "2026-10-01", "kind": "holiday" | "workday", "name": …, "hours":
    [[start, end], …] or null (a workday's null: the hours of a regular working day)}. Hours are wall
    times in the tenant's time zone (`tenants.time_zone`), so they follow a change of zone."""

    __tablename__ = "business_calendars"
    __table_args__ = (Index("uq_business_calendars_tenant", "tenant_id", unique=True),)

    week: Mapped[list[list[list[int]]]] = mapped_column(JSON)
    days: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
