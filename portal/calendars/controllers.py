"""The workspace's business calendar through the API, beside the workspace's other settings."""

from __future__ import annotations

from litestar import Controller, get, put
from litestar.params import JSONBody

from portal.calendars import service
from portal.calendars.schemas import CalendarIn, CalendarOut
from portal.http.deps import DB
from portal.permissions import requires


class CalendarController(Controller):
    path = "/api/workspace/calendar"
    tags = ["identity"]

    @get("/", opt=requires("workspace", "read"))
    async def get_calendar(self, db: DB) -> CalendarOut:
        """The working week, holidays and make-up working days that business hours (service levels,
        deadlines) are counted in, in the workspace's time zone."""
        return CalendarOut.of(await service.stored(db))

    @put("/", opt=requires("workspace", "update"))
    async def put_calendar(self, data: JSONBody[CalendarIn], db: DB) -> CalendarOut:
        """Replace the calendar. Refused whole, with each mistake's field (`week.mon`, `days[2].day`):
        a time that is not HH:MM, an interval that ends before it starts, overlapping intervals, a date
        outside 2000 to 2100 or listed twice, hours on a holiday, a week without any working hours."""
        return CalendarOut.of(await service.replace(db, data.to_input()))


CONTROLLERS: list[type] = [CalendarController]
