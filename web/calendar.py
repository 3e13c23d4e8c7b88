"""The console's business calendar page: the working week, holidays and make-up working days, under the
workspace settings. It reads and writes through portal.calendars.service, as the API does."""

from __future__ import annotations

import re
from typing import Any

from litestar import get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from portal.calendars import service
from portal.calendars.hours import WEEKDAYS
from portal.calendars.service import CalendarInput, DayEntry, StoredCalendar
from portal.errors import ValidationFailed
from portal.http.deps import DB
from portal.permissions import requires
from portal.ui.forms import Form
from portal.ui.refusals import field_errors

PATH = "/console/settings/calendar"
BLANK_ROWS = 5
_DAY_FIELD = re.compile(r"^days\[(\d+)\]\.(\w+)$")
_ROW_FIELD = re.compile(r"^days\.(\d+)\.day$")


def _form_of(calendar: StoredCalendar) -> dict[str, str]:
    form = {f"week.{name}": ", ".join(hours) for name, hours in calendar.week.items()}
    for row, entry in enumerate(calendar.days):
        form |= {
            f"days.{row}.day": entry.day,
            f"days.{row}.kind": entry.kind,
            f"days.{row}.name": entry.name,
            f"days.{row}.hours": ", ".join(entry.hours or ()),
        }
    return form


def _rows(form: dict[str, str]) -> int:
    return max((int(m.group(1)) + 1 for key in form if (m := _ROW_FIELD.match(key))), default=0)


def _page(
    time_zone: str, form: dict[str, str], errors: dict[str, str] | None = None, saved: bool = False, **kw: Any
) -> Template:
    return Template(
        "console/calendar.html",
        context={
            "form": form,
            "errors": errors or {},
            "saved": saved,
            "weekdays": WEEKDAYS,
            "rows": range(_rows(form) + BLANK_ROWS),
            "time_zone": time_zone,
        },
        **kw,
    )


@get(PATH, opt=requires("workspace", "read"), include_in_schema=False)
async def calendar_page(db: DB, saved: FromQuery[str | None] = None) -> Template:
    calendar = await service.stored(db)
    return _page(calendar.time_zone, _form_of(calendar), saved=bool(saved))


@post(PATH, opt=requires("workspace", "update"), include_in_schema=False)
async def save_calendar(data: Form, db: DB) -> Template | Redirect:
    week = {name: [h for h in data.get(f"week.{name}", "").split(",") if h.strip()] for name in WEEKDAYS}
    # the rows people filled in (a row without a date is left out), and where each came from
    filled = [row for row in range(_rows(data)) if data.get(f"days.{row}.day", "").strip()]
    days = [
        DayEntry(
            data.get(f"days.{row}.day", ""),
            data.get(f"days.{row}.kind", ""),
            data.get(f"days.{row}.name", ""),
            [h for h in data.get(f"days.{row}.hours", "").split(",") if h.strip()] or None,
        )
        for row in filled
    ]
    try:
        async with db.begin_nested():
            await service.replace(db, CalendarInput(week, days))
    except ValidationFailed as error:
        errors = {}
        for name, message in field_errors(error).items():
            match = _DAY_FIELD.match(name)
            errors[f"days.{filled[int(match.group(1))]}.{match.group(2)}" if match else name] = message
        calendar = await service.stored(db)
        return _page(calendar.time_zone, dict(data), errors, status_code=422)
    return Redirect(f"{PATH}?saved=1")


PAGES = [calendar_page, save_calendar]
