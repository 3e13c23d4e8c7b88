"""The console's service pages (/console/service/...): the ticket list with its filters, paging and XLSX
export, opening a ticket, a ticket with its timeline and the forms for what it allows next, and the
installed base (devices: list, record one, import a file, export). Each calls the services the staff API
calls."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from litestar import Response, Router, get, post
from litestar.datastructures import UploadFile
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, FromQuery, MultipartBody
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from apps.service import lifecycle, workflow
from apps.service.controllers import STAFF_ACTIONS, UPLOAD_BODY_LIMIT, xlsx
from apps.service.dependencies import STAFF_DEPENDENCIES, DevicesDep, TicketsDep
from apps.service.devices import IMPORT_COLUMNS, DeviceFilter, Devices
from apps.service.field.views import field_view
from apps.service.objects import DEVICE, TICKET
from apps.service.pages.shared import (
    PAGE_SIZE,
    RATINGS,
    SORT_LABELS,
    STATUS_FILTERS,
    day_of,
    done_message,
    page_helpers,
    regions,
    run_action,
    service_partners,
    sort_filter,
    status_filter,
    text,
    wanted_status,
    with_query,
)
from apps.service.pages.sla import SLA_PAGES
from apps.service.tickets import TicketFilter, Tickets
from portal.errors import DomainError, FieldError, NotFound, ValidationFailed
from portal.http.deps import DB
from portal.i18n import N_, gettext
from portal.permissions import requires
from portal.ui.forms import Form, uuid_or_none
from portal.ui.paging import page_number, paging
from portal.ui.refusals import field_errors, refusal_of

TICKETS = "/console/service/tickets"
QUEUES = ("staff", "pool")
DEVICES = "/console/service/devices"


def _filters(
    status: str | None,
    q: str | None,
    priority: str | None,
    type: str | None,
    partner: str | None,
    region: str | None,
    opened_from: str | None,
    opened_to: str | None,
    breached: str | None = None,
    queue: str | None = None,
    rating: str | None = None,
    sort: str | None = None,
) -> tuple[dict[str, Any], TicketFilter]:
    """The list's filters as the query string has them (kept in links) and as the service takes them."""
    chosen = {
        "status": status_filter(status),
        "q": (q or "").strip()[:40],
        "priority": priority or "",
        "type": type or "",
        "partner": partner or "",
        "region": region or "",
        "opened_from": opened_from or "",
        "opened_to": opened_to or "",
        "breached": "1" if breached else "",
        "queue": queue if queue in QUEUES else "",
        "rating": rating if rating in RATINGS else "",
        "sort": sort_filter(sort),
    }
    wanted = TicketFilter(
        status=wanted_status(chosen["status"]),
        search=chosen["q"] or None,
        priority=chosen["priority"] or None,
        type=chosen["type"] or None,
        enterprise_id=uuid_or_none(partner),
        region_id=uuid_or_none(region),
        opened_from=day_of(opened_from),
        opened_to=day_of(opened_to),
        breached=bool(breached),
        queue=chosen["queue"] or None,
        rating=int(chosen["rating"]) if chosen["rating"] else None,
        sort=chosen["sort"] or "newest",
    )
    return chosen, wanted


@get(TICKETS, opt=requires(TICKET, "read"), include_in_schema=False)
async def tickets_page(
    db: DB,
    tickets: TicketsDep,
    status: FromQuery[str | None] = None,
    q: FromQuery[str | None] = None,
    priority: FromQuery[str | None] = None,
    type: FromQuery[str | None] = None,
    partner: FromQuery[str | None] = None,
    region: FromQuery[str | None] = None,
    opened_from: FromQuery[str | None] = None,
    opened_to: FromQuery[str | None] = None,
    breached: FromQuery[str | None] = None,
    queue: FromQuery[str | None] = None,
    rating: FromQuery[str | None] = None,
    sort: FromQuery[str | None] = None,
    page: FromQuery[str | None] = None,
) -> Template:
    """Filters and order in the query string, so a filtered list can be bookmarked; open tickets first."""
    chosen, wanted = _filters(
        status, q, priority, type, partner, region, opened_from, opened_to, breached, queue, rating, sort
    )
    number = page_number(page)
    rows, total = await tickets.page(wanted, PAGE_SIZE, (number - 1) * PAGE_SIZE)
    return Template(
        "service/console/tickets.html",
        context={
            **page_helpers(),
            "rows": await tickets.out_many(rows),
            "total": total,
            "chosen": chosen,
            "filters": STATUS_FILTERS,
            "partners": await service_partners(db),
            "regions": await regions(db),
            "paging": paging(TICKETS, chosen, number, total, PAGE_SIZE),
            "export": with_query(f"{TICKETS}/export.xlsx", chosen),
            "sorts": SORT_LABELS,
            "ratings": RATINGS,
            "section": "tickets",
        },
    )


@get(f"{TICKETS}/export.xlsx", opt=requires(TICKET, "export"), include_in_schema=False)
async def export_tickets_page(
    tickets: TicketsDep,
    status: FromQuery[str | None] = None,
    q: FromQuery[str | None] = None,
    priority: FromQuery[str | None] = None,
    type: FromQuery[str | None] = None,
    partner: FromQuery[str | None] = None,
    region: FromQuery[str | None] = None,
    opened_from: FromQuery[str | None] = None,
    opened_to: FromQuery[str | None] = None,
    breached: FromQuery[str | None] = None,
    queue: FromQuery[str | None] = None,
    rating: FromQuery[str | None] = None,
    sort: FromQuery[str | None] = None,
) -> Response[bytes]:
    """The list as filtered and ordered, without the fields the viewer may not see."""
    _chosen, wanted = _filters(
        status, q, priority, type, partner, region, opened_from, opened_to, breached, queue, rating, sort
    )
    columns, rows = await tickets.export_rows(wanted)
    return await xlsx("tickets", columns, rows)


async def _new_page(
    db: AsyncSession, form: dict[str, str] | None = None, errors: dict[str, str] | None = None, status_code: int = 200
) -> Template:
    return Template(
        "service/console/new_ticket.html",
        context={
            **page_helpers(),
            "form": form or {"type": "repair", "priority": "normal"},
            "errors": errors or {},
            "regions": await regions(db),
            "section": "tickets",
        },
        status_code=status_code,
    )


@get(f"{TICKETS}/new", opt=requires(TICKET, "create"), include_in_schema=False)
async def new_ticket_page(db: DB, serial: FromQuery[str | None] = None) -> Template:
    form = {"type": "repair", "priority": "normal", "serial_number": (serial or "").strip()[:80]}
    return await _new_page(db, form)


NEW_FIELDS = (
    "type",
    "priority",
    "serial_number",
    "symptoms",
    "contact_name",
    "contact_phone",
    "contact_email",
    "address",
    "region_id",
)


@post(TICKETS, opt=requires(TICKET, "create"), include_in_schema=False)
async def open_ticket_page(data: Form, db: DB, tickets: TicketsDep, devices: DevicesDep) -> Template | Redirect:
    """A ticket from the form; the device by its serial number (one the viewer may see)."""
    form = {name: text(data, name) for name in NEW_FIELDS}
    try:
        async with db.begin_nested():
            device_id = None
            if form["serial_number"]:
                try:
                    device_id = (await devices.by_serial(form["serial_number"])).id
                except NotFound:
                    raise ValidationFailed.single("serial_number", N_("No such device"), "unknown") from None
            ticket = await workflow.open_ticket(
                tickets,
                workflow.NewTicket(
                    type=form["type"],
                    symptoms=form["symptoms"],
                    contact_name=form["contact_name"],
                    contact_phone=form["contact_phone"],
                    priority=form["priority"] or "normal",
                    device_id=device_id,
                    address=form["address"] or None,
                    region_id=uuid_or_none(form["region_id"]),
                    contact_email=form["contact_email"] or None,
                ),
            )
    except ValidationFailed as error:
        return await _new_page(db, form, field_errors(error), status_code=422)
    return Redirect(f"{TICKETS}/{ticket.id}?done=open")


async def ticket_view(
    db: AsyncSession,
    tickets: Tickets,
    ticket_id: uuid.UUID,
    *,
    done: str | None = None,
    alert: str | None = None,
    failed: str | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    ticket = await tickets.out(await tickets.get(ticket_id))
    dispatching = {"dispatch", "reassign"} & set(ticket["actions"])
    return Template(
        "service/console/ticket.html",
        context={
            **page_helpers(),
            "ticket": ticket,
            "field": await field_view(tickets, ticket, may_work=False),
            "partners": await service_partners(db) if dispatching else [],
            "notice": done_message(done),
            "alert": alert,
            "failed": failed,
            "form": form or {},
            "errors": errors or {},
            "section": "tickets",
        },
        status_code=status_code,
    )


@get(f"{TICKETS}/{{ticket_id:uuid}}", opt=requires(TICKET, "read"), include_in_schema=False)
async def ticket_page(
    ticket_id: FromPath[uuid.UUID], db: DB, tickets: TicketsDep, done: FromQuery[str | None] = None
) -> Template:
    return await ticket_view(db, tickets, ticket_id, done=done)


def _action_page(action: str) -> HTTPRouteHandler:
    permission = lifecycle.PERMISSIONS[action][0]
    assert permission is not None

    async def handler(ticket_id: FromPath[uuid.UUID], data: Form, db: DB, tickets: TicketsDep) -> Template | Redirect:
        async def render(**values: Any) -> Template:
            return await ticket_view(db, tickets, ticket_id, **values)

        return await run_action(
            db, tickets, ticket_id, action, data, render, lambda: Redirect(f"{TICKETS}/{ticket_id}?done={action}")
        )

    handler.__name__ = handler.__qualname__ = f"console_{action}_page"
    return post(f"{TICKETS}/{{ticket_id:uuid}}/{action}", opt=requires(TICKET, permission), include_in_schema=False)(
        handler
    )


# --- devices ---


@dataclass
class DeviceFile:
    file: UploadFile | None = None  # optional here, so that a missing file is a field error on the page


DEVICE_FIELDS = (
    "serial_number",
    "sku",
    "product_name",
    "customer_name",
    "site_address",
    "region_id",
    "install_date",
    "warranty_end",
    "enterprise_id",
)


async def _devices_page(
    db: AsyncSession,
    devices: Devices,
    *,
    q: str | None = None,
    partner: str | None = None,
    region: str | None = None,
    page: str | None = None,
    done: str | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    import_errors: list[tuple[bool, str]] | None = None,
    status_code: int = 200,
) -> Template:
    chosen = {"q": (q or "").strip()[:40], "partner": partner or "", "region": region or ""}
    number = page_number(page)
    wanted = DeviceFilter(chosen["q"] or None, uuid_or_none(partner), uuid_or_none(region))
    rows, total = await devices.page(wanted, PAGE_SIZE, (number - 1) * PAGE_SIZE)
    return Template(
        "service/console/devices.html",
        context={
            **page_helpers(),
            "rows": await devices.out_many(rows),
            "total": total,
            "chosen": chosen,
            "partners": await service_partners(db),
            "regions": await regions(db),
            "paging": paging(DEVICES, chosen, number, total, PAGE_SIZE),
            "columns": list(IMPORT_COLUMNS.aliases),
            "required_columns": IMPORT_COLUMNS.required,
            "notice": done_message(done),
            "form": form or {},
            "errors": errors or {},
            "import_errors": import_errors or [],
            "section": "devices",
        },
        status_code=status_code,
    )


@get(DEVICES, opt=requires(DEVICE, "read"), include_in_schema=False)
async def devices_page(
    db: DB,
    devices: DevicesDep,
    q: FromQuery[str | None] = None,
    partner: FromQuery[str | None] = None,
    region: FromQuery[str | None] = None,
    page: FromQuery[str | None] = None,
    done: FromQuery[str | None] = None,
) -> Template:
    return await _devices_page(db, devices, q=q, partner=partner, region=region, page=page, done=done)


@post(DEVICES, opt=requires(DEVICE, "create"), include_in_schema=False)
async def record_device_page(data: Form, db: DB, devices: DevicesDep) -> Template | Redirect:
    form = {name: text(data, name) for name in DEVICE_FIELDS}
    errors: list[FieldError] = []
    given = {**_given(form, errors), "dealer_id": None}
    try:
        if errors:
            raise ValidationFailed(errors)
        async with db.begin_nested():
            await devices.create(form, given)
    except ValidationFailed as error:
        return await _devices_page(db, devices, form=form, errors=field_errors(error), status_code=422)
    return Redirect(f"{DEVICES}?done=recorded&q={form['serial_number']}")


def _given(form: dict[str, str], errors: list[FieldError]) -> dict[str, uuid.UUID | None]:
    """The region and service partner the form names by id (an id that is not one is a field error)."""
    given: dict[str, uuid.UUID | None] = {}
    for name in ("region_id", "enterprise_id"):
        given[name] = uuid_or_none(form[name])
        if form[name] and given[name] is None:
            errors.append(FieldError(name, N_("is not known"), "unknown"))
    return given


async def _device_page(
    db: AsyncSession,
    devices: Devices,
    device_id: uuid.UUID,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    notice: str | None = None,
) -> Template:
    device = await devices.get(device_id)
    shown = await devices.out(device)
    if form is None:
        form = {name: "" if (v := shown.get(name)) is None else str(v) for name in DEVICE_FIELDS}
        form["sku"] = await devices.sku_of(device) or ""
    return Template(
        "service/console/device.html",
        context={
            **page_helpers(),
            "device": shown,
            "notice": notice,
            "form": form,
            "errors": errors or {},
            "partners": await service_partners(db),
            "regions": await regions(db),
            "section": "devices",
        },
        status_code=status_code,
    )


@get(f"{DEVICES}/{{device_id:uuid}}", opt=requires(DEVICE, "read"), include_in_schema=False)
async def device_page(
    device_id: FromPath[uuid.UUID], db: DB, devices: DevicesDep, done: FromQuery[str | None] = None
) -> Template:
    return await _device_page(db, devices, device_id, notice=done_message(done))


@post(f"{DEVICES}/{{device_id:uuid}}", opt=requires(DEVICE, "update"), include_in_schema=False)
async def update_device_page(
    device_id: FromPath[uuid.UUID], data: Form, db: DB, devices: DevicesDep
) -> Template | Redirect:
    form = {name: text(data, name) for name in DEVICE_FIELDS}
    errors: list[FieldError] = []
    device = await devices.get(device_id)
    given = {**_given(form, errors), "dealer_id": device.dealer_id}
    try:
        if errors:
            raise ValidationFailed(errors)
        async with db.begin_nested():
            await devices.update(device_id, form, given)
    except ValidationFailed as error:
        return await _device_page(db, devices, device_id, form, field_errors(error), status_code=422)
    return Redirect(f"{DEVICES}/{device_id}?done=saved")


@post(
    f"{DEVICES}/import",
    opt=requires(DEVICE, "import"),
    include_in_schema=False,
    request_max_body_size=UPLOAD_BODY_LIMIT,
)
async def import_devices_page(data: MultipartBody[DeviceFile], db: DB, devices: DevicesDep) -> Template | Redirect:
    """Every row or none; a refused file lists each bad row with its number."""
    try:
        async with db.begin_nested():
            if data.file is None or not data.file.filename:
                raise ValidationFailed.single("file", N_("is required: upload a .csv or .xlsx file"), "required")
            content = await data.file.read()
            await data.file.close()
            await devices.import_file(data.file.filename, content)
    except ValidationFailed as error:
        problems = [(e.field == "file", gettext(e.message, **e.params)) for e in error.errors]
        return await _devices_page(db, devices, import_errors=problems, status_code=422)
    except DomainError as error:
        return await _devices_page(db, devices, import_errors=[(True, refusal_of(error))], status_code=error.status)
    return Redirect(f"{DEVICES}?done=imported")


@get(f"{DEVICES}/export.xlsx", opt=requires(DEVICE, "export"), include_in_schema=False)
async def export_devices_page(devices: DevicesDep) -> Response[bytes]:
    """The import's columns: a workbook to fill in and upload, or to import elsewhere."""
    columns, rows = await devices.export_rows()
    return await xlsx("devices", columns, rows)


CONSOLE_PAGES: list[Any] = [
    Router(
        path="/",
        route_handlers=[
            tickets_page,
            export_tickets_page,
            new_ticket_page,
            open_ticket_page,
            ticket_page,
            *(_action_page(action) for action in STAFF_ACTIONS),
            devices_page,
            record_device_page,
            device_page,
            update_device_page,
            import_devices_page,
            export_devices_page,
            *SLA_PAGES,
        ],
        dependencies=STAFF_DEPENDENCIES,
    )
]
