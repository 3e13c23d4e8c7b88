"""Announcement pages: the console's list with the publish form and withdraw buttons, and the partner
portal's list and reading page. They call the same service as the API."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from litestar import Router, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from interconnect.announcements.api import DEPENDENCIES, PROFILE, PROGRAMME, AnnouncementsDep
from interconnect.announcements.service import NewAnnouncement
from interconnect.models import PartnerType
from interconnect.pages.workspace import CurrentPortal, partner_portal_router
from portal.errors import FieldError, ValidationFailed
from portal.http.dates import check_date
from portal.http.deps import DB
from portal.i18n import N_
from portal.permissions import requires
from portal.ui.forms import MultiForm, form_value, form_values, uuid_or_none
from portal.ui.labels import setting_name
from portal.ui.paging import page_number, paging
from portal.ui.refusals import field_errors, message_of

PAGE_SIZE = 20
CONSOLE = "/console/partners/announcements"


async def _types(db: AsyncSession) -> list[tuple[uuid.UUID, str]]:
    rows = await db.execute(select(PartnerType.id, PartnerType.name).order_by(PartnerType.sort_order, PartnerType.name))
    return [(type_id, setting_name(name)) for type_id, name in rows]


def _until(text: str) -> date | None:
    if not text.strip():
        return None
    try:
        return check_date("until", date.fromisoformat(text.strip()))
    except ValueError:
        raise ValidationFailed([FieldError("until", N_("is not a date"), "invalid")]) from None


async def _console_page(
    db: AsyncSession,
    announcements: Any,
    page: str | None,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    alert: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Template:
    current = page_number(page)
    rows, total = await announcements.page(PAGE_SIZE, (current - 1) * PAGE_SIZE)
    types = await _types(db)
    return Template(
        "console/partners/announcements.html",
        context={
            "rows": rows,
            "audiences": await announcements.audiences([a.id for a in rows]),
            "total": total,
            "types": types,
            "type_names": dict(types),
            "form": form or {},
            "errors": errors or {},
            "alert": alert,
            "notice": notice,
            "paging": paging(CONSOLE, {}, current, total, PAGE_SIZE, bare_first=True),
            "section": "announcements",
        },
        status_code=status_code,
    )


@get(CONSOLE, opt=requires(PROGRAMME, "read"), include_in_schema=False)
async def announcements_page(
    db: DB, announcements: AnnouncementsDep, page: FromQuery[str | None] = None, done: FromQuery[str | None] = None
) -> Template:
    notice = {"published": N_("Published. Partners see it on their home now."), "withdrawn": N_("Withdrawn.")}
    return await _console_page(db, announcements, page, notice=notice.get(done or ""))


@post(CONSOLE, opt=requires(PROGRAMME, "update"), include_in_schema=False)
async def publish_page(data: MultiForm, db: DB, announcements: AnnouncementsDep) -> Template | Redirect:
    form = {
        "title": form_value(data, "title"),
        "body": form_value(data, "body"),
        "until": form_value(data, "until"),
        "partner_types": form_values(data, "partner_types"),
    }
    try:
        type_ids = [uuid_or_none(v) for v in form["partner_types"]]
        if None in type_ids:
            raise ValidationFailed([FieldError("partner_type_ids", N_("names a partner type that does not exist"))])
        new = NewAnnouncement(form["title"], form["body"], [t for t in type_ids if t], _until(form["until"]))
        async with db.begin_nested():
            await announcements.publish(new)
    except ValidationFailed as error:
        errors = field_errors(error)
        if "partner_type_ids" in errors:
            errors["partner_types"] = errors.pop("partner_type_ids")
        return await _console_page(db, announcements, None, form=form, errors=errors, status_code=422)
    return Redirect(f"{CONSOLE}?done=published")


@post(f"{CONSOLE}/{{announcement_id:uuid}}/withdraw", opt=requires(PROGRAMME, "update"), include_in_schema=False)
async def withdraw_page(
    announcement_id: FromPath[uuid.UUID], db: DB, announcements: AnnouncementsDep
) -> Template | Redirect:
    try:
        async with db.begin_nested():
            await announcements.withdraw(announcement_id)
    except ValidationFailed as error:  # pragma: no cover - withdraw refuses with Conflict or NotFound only
        return await _console_page(db, announcements, None, alert=message_of(error), status_code=422)
    return Redirect(f"{CONSOLE}?done=withdrawn")


@get("/announcements", opt=requires(PROFILE, "read"), include_in_schema=False)
async def partner_announcements_page(
    portal: CurrentPortal, announcements: AnnouncementsDep, page: FromQuery[str | None] = None
) -> Template:
    current = page_number(page)
    rows, total = await announcements.current(PAGE_SIZE, (current - 1) * PAGE_SIZE)
    return Template(
        "portal/announcements.html",
        context={
            **portal.frame,
            "rows": rows,
            "total": total,
            "paging": paging(portal.path("announcements"), {}, current, total, PAGE_SIZE, bare_first=True),
        },
    )


@get("/announcements/{announcement_id:uuid}", opt=requires(PROFILE, "read"), include_in_schema=False)
async def partner_announcement_page(
    announcement_id: FromPath[uuid.UUID], portal: CurrentPortal, announcements: AnnouncementsDep
) -> Template:
    found = await announcements.read(announcement_id)
    return Template("portal/announcement.html", context={**portal.frame, "a": found})


PAGES = [
    Router(path="/", route_handlers=[announcements_page, publish_page, withdraw_page], dependencies=DEPENDENCIES),
    partner_portal_router([partner_announcements_page, partner_announcement_page], dependencies=DEPENDENCIES),
]
