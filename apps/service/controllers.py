"""The service API: the manufacturer's staff under /api/service (tickets: open, list, export, dispatch and
the transitions that are theirs; devices: record, import, list, export), partners under
/api/partner/service: the enterprise's tickets (`tickets`, its dispatcher's: accept or reject, assign an
engineer, the field steps) and the engineer's own (`jobs`), and the devices the enterprise looks after.

Every transition is one POST answering the ticket as it is now; a transition its status does not allow is
409 naming the status, one the caller's role does not grant 403."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, Router, delete, get, post, put
from litestar.datastructures import UploadFile
from litestar.di import Provide
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from apps.service import lifecycle, public, workflow
from apps.service.dependencies import JOB_DEPENDENCIES, PARTNER_DEPENDENCIES, STAFF_DEPENDENCIES, DevicesDep, TicketsDep
from apps.service.devices import DeviceFilter
from apps.service.engineers import engineers_of
from apps.service.objects import DEVICE, PARTNER_DEVICE, PARTNER_JOB, PARTNER_TICKET, TICKET
from apps.service.schemas import (
    AssignIn,
    DeviceImportOut,
    DeviceIn,
    DeviceOut,
    DevicePage,
    DevicePageOut,
    DispatchIn,
    EngineerOut,
    NoteIn,
    TicketDetailOut,
    TicketIn,
    TicketPage,
)
from apps.service.tickets import TicketFilter, Tickets
from portal.errors import NotFound, PermissionDenied, ValidationFailed
from portal.http.deps import DB, CurrentActor, ServicesDep
from portal.http.inputs import Limit, Offset, Search
from portal.http.openapi import upload_operation
from portal.i18n import N_
from portal.identity.schemas import typed
from portal.permissions import requires
from portal.spreadsheets import MAX_BYTES, XLSX_MEDIA_TYPE, workbook_bytes
from portal.ui.downloads import download, stamped
from portal.ui.qr import qr_png, qr_svg_file
from roles.access import policy_of

AnyRequest = Request[Any, Any, Any]
UPLOAD_BODY_LIMIT = MAX_BYTES + 256 * 1024  # the file plus its multipart envelope
CONFLICT = (409,)
Rating = Annotated[int | None, QueryParameter(ge=1, le=5)]
# newest (the default) | oldest | priority | due | number
Sort = Annotated[Literal["newest", "oldest", "priority", "due", "number"], QueryParameter()]


async def xlsx(name: str, columns: list[str], rows: list[list[str]]) -> Response[bytes]:
    content = await asyncio.to_thread(workbook_bytes, columns, rows, name.title())
    return download(content, stamped(name))


async def ticket_out(tickets: Tickets, ticket_id: uuid.UUID) -> TicketDetailOut:
    return typed(await tickets.out(await tickets.get(ticket_id)), TicketDetailOut)


async def ticket_page(tickets: Tickets, wanted: TicketFilter, limit: int, offset: int) -> TicketPage:
    rows, total = await tickets.page(wanted, limit, offset)
    return typed({"items": await tickets.out_many(rows), "total": total, "limit": limit, "offset": offset}, TicketPage)


# --- transitions, one route each: the permission the guard checks is the action's on the route's object ---


def transition_routes(obj: str, actions: tuple[str, ...]) -> list[HTTPRouteHandler]:
    """POST /{ticket_id}/<action> for each action, guarded by the action's permission on `obj`."""
    staff = not obj.startswith("partner.")
    routes: list[HTTPRouteHandler] = []
    for action in actions:
        permission = lifecycle.PERMISSIONS[action][0 if staff else 1]
        assert permission is not None, (obj, action)
        summary = lifecycle.ACTION_LABELS[action]
        note = "required" if action in lifecycle.NOTE_REQUIRED else "optional"
        description = f"{summary}: the ticket as it is afterwards (the note is {note})."
        opt = requires(obj, permission, problems=CONFLICT)
        name = f"{'staff' if staff else obj.rsplit('.', 1)[-1]}_{action}"
        if action in ("dispatch", "reassign"):
            routes.append(_dispatch_route(action, opt, name, description))
        elif action == "assign":
            routes.append(_assign_route(opt, name, description))
        else:
            routes.append(_note_route(action, opt, name, description))
    return routes


def _note_route(action: str, opt: dict[str, object], name: str, description: str) -> HTTPRouteHandler:
    async def handler(ticket_id: FromPath[uuid.UUID], data: JSONBody[NoteIn], tickets: TicketsDep) -> TicketDetailOut:
        ticket = await workflow.take(tickets, ticket_id, action, data.note)
        return typed(await tickets.out(ticket), TicketDetailOut)

    handler.__name__ = handler.__qualname__ = name
    return post(f"/{{ticket_id:uuid}}/{action}", opt=opt, status_code=200, description=description, operation_id=name)(
        handler
    )


def _dispatch_route(action: str, opt: dict[str, object], name: str, description: str) -> HTTPRouteHandler:
    async def handler(
        ticket_id: FromPath[uuid.UUID], data: JSONBody[DispatchIn], tickets: TicketsDep
    ) -> TicketDetailOut:
        ticket = await workflow.dispatch(
            tickets, ticket_id, data.enterprise_id, data.engineer_id, data.note, action=action
        )
        return typed(await tickets.out(ticket), TicketDetailOut)

    handler.__name__ = handler.__qualname__ = name
    return post(f"/{{ticket_id:uuid}}/{action}", opt=opt, status_code=200, description=description, operation_id=name)(
        handler
    )


def _assign_route(opt: dict[str, object], name: str, description: str) -> HTTPRouteHandler:
    async def handler(ticket_id: FromPath[uuid.UUID], data: JSONBody[AssignIn], tickets: TicketsDep) -> TicketDetailOut:
        ticket = await workflow.assign(tickets, ticket_id, data.engineer_id, data.note)
        return typed(await tickets.out(ticket), TicketDetailOut)

    handler.__name__ = handler.__qualname__ = name
    return post("/{ticket_id:uuid}/assign", opt=opt, status_code=200, description=description, operation_id=name)(
        handler
    )


STAFF_ACTIONS = ("dispatch", "pool", "reassign", "hold", "resume", "confirm", "close", "reopen", "cancel")
PARTNER_ACTIONS = ("accept", "reject", "assign", "start", "arrive", "hold", "resume", "resolve")
JOB_ACTIONS = ("accept", "start", "arrive", "hold", "resume", "resolve")


# --- staff ---


class StaffTicketsController(Controller):
    path = "/api/service/tickets"
    tags = ["service"]
    dependencies = STAFF_DEPENDENCIES

    @get("/", opt=requires(TICKET, "read"))
    async def list_tickets(
        self,
        tickets: TicketsDep,
        status: FromQuery[str | None] = None,
        search: Search = None,
        priority: FromQuery[str | None] = None,
        type: FromQuery[str | None] = None,
        enterprise_id: FromQuery[uuid.UUID | None] = None,
        region_id: FromQuery[uuid.UUID | None] = None,
        opened_from: FromQuery[date | None] = None,
        opened_to: FromQuery[date | None] = None,
        breached: FromQuery[bool | None] = None,
        queue: FromQuery[str | None] = None,
        rating: Rating = None,
        sort: Sort = "newest",
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> TicketPage:
        """Within the caller's data scope (a dispatcher: their teams' regions). `status` is one status or
        "open" (not yet resolved nor cancelled); `search` a ticket number, serial number or product; the
        dates are days where the workspace is; `breached=true` only those that missed a service-level
        target; `queue=staff` the new tickets no dispatch rule matched, `queue=pool` those in the open pool;
        `rating` the customer's (1 to 5). `sort`: newest (the default), oldest, priority (urgent first),
        due (the resolution target that falls first) or number."""
        wanted = TicketFilter(
            status,
            search,
            priority,
            type,
            enterprise_id,
            region_id,
            opened_from,
            opened_to,
            breached or False,
            queue,
            rating,
            sort,
        )
        return await ticket_page(tickets, wanted, limit, offset)

    @post("/", opt=requires(TICKET, "create"))
    async def open_ticket(self, data: JSONBody[TicketIn], db: DB, tickets: TicketsDep) -> TicketDetailOut:
        """A new ticket, waiting for dispatch (with an Idempotency-Key, a retried request opens one)."""
        ticket = await workflow.open_ticket(
            tickets,
            workflow.NewTicket(
                type=data.type,
                symptoms=data.symptoms,
                contact_name=data.contact_name,
                contact_phone=data.contact_phone,
                priority=data.priority,
                device_id=data.device_id,
                address=data.address,
                region_id=data.region_id,
                contact_email=data.contact_email,
            ),
        )
        return typed(await tickets.out(ticket), TicketDetailOut)

    @get("/export.xlsx", opt=requires(TICKET, "export"), media_type=XLSX_MEDIA_TYPE)
    async def export_tickets(
        self,
        tickets: TicketsDep,
        status: FromQuery[str | None] = None,
        search: Search = None,
        priority: FromQuery[str | None] = None,
        type: FromQuery[str | None] = None,
        enterprise_id: FromQuery[uuid.UUID | None] = None,
        region_id: FromQuery[uuid.UUID | None] = None,
        opened_from: FromQuery[date | None] = None,
        opened_to: FromQuery[date | None] = None,
        breached: FromQuery[bool | None] = None,
        queue: FromQuery[str | None] = None,
        rating: Rating = None,
        sort: Sort = "newest",
    ) -> Response[bytes]:
        """The list's filters and order, up to 10,000 tickets, without the fields the caller may not see."""
        wanted = TicketFilter(
            status,
            search,
            priority,
            type,
            enterprise_id,
            region_id,
            opened_from,
            opened_to,
            breached or False,
            queue,
            rating,
            sort,
        )
        columns, rows = await tickets.export_rows(wanted)
        return await xlsx("tickets", columns, rows)

    @get("/{ticket_id:uuid}", opt=requires(TICKET, "read"))
    async def get_ticket(self, ticket_id: FromPath[uuid.UUID], tickets: TicketsDep) -> TicketDetailOut:
        """The ticket with its timeline."""
        return await ticket_out(tickets, ticket_id)


class StaffDevicesController(Controller):
    path = "/api/service/devices"
    tags = ["service"]
    dependencies = STAFF_DEPENDENCIES

    @get("/", opt=requires(DEVICE, "read"))
    async def list_devices(
        self,
        devices: DevicesDep,
        search: Search = None,
        enterprise_id: FromQuery[uuid.UUID | None] = None,
        region_id: FromQuery[uuid.UUID | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> DevicePage:
        """`search`: a serial number, product or customer; `enterprise_id` the service partner."""
        rows, total = await devices.page(DeviceFilter(search, enterprise_id, region_id), limit, offset)
        return typed(
            {"items": await devices.out_many(rows), "total": total, "limit": limit, "offset": offset}, DevicePage
        )

    @post("/", opt=requires(DEVICE, "create"))
    async def record_device(self, data: JSONBody[DeviceIn], db: DB, devices: DevicesDep) -> DeviceOut:
        device = await devices.create(*_device_values(data))
        return typed(await devices.out(device), DeviceOut)

    @put("/{device_id:uuid}", opt=requires(DEVICE, "update"))
    async def update_device(
        self, device_id: FromPath[uuid.UUID], data: JSONBody[DeviceIn], devices: DevicesDep
    ) -> DeviceOut:
        """Every field as when recording it (a field left out is cleared); the same checks apply."""
        device = await devices.update(device_id, *_device_values(data))
        return typed(await devices.out(device), DeviceOut)

    @get("/export.xlsx", opt=requires(DEVICE, "export"), media_type=XLSX_MEDIA_TYPE)
    async def export_devices(self, devices: DevicesDep) -> Response[bytes]:
        """The import's columns: an exported file imports back into another workspace as it was."""
        columns, rows = await devices.export_rows()
        return await xlsx("devices", columns, rows)

    @post(
        "/import",
        opt=requires(DEVICE, "import"),
        status_code=200,
        request_max_body_size=UPLOAD_BODY_LIMIT,
        operation_class=upload_operation(),
    )
    async def import_devices(self, request: AnyRequest, db: DB, devices: DevicesDep) -> DeviceImportOut:
        """A .csv or .xlsx file of devices (serial_number, customer_name, site_address required; sku or
        product_name; region, dealer_code and partner_code as codes; install_date, warranty_end as
        YYYY-MM-DD). One bad row and nothing is imported: the 422 names every bad row
        (`rows[<row>].<column>`)."""
        upload = (await request.form()).get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise ValidationFailed.single("file", N_("is required: upload a .csv or .xlsx file"), "required")
        content = await upload.read()
        await upload.close()
        return DeviceImportOut(imported=await devices.import_file(upload.filename, content))

    @get("/{device_id:uuid}", opt=requires(DEVICE, "read"))
    async def get_device(self, device_id: FromPath[uuid.UUID], devices: DevicesDep) -> DeviceOut:
        return typed(await devices.out(await devices.get(device_id)), DeviceOut)

    @get("/{device_id:uuid}/public-page", opt=requires(DEVICE, "read"))
    async def get_public_page(
        self, device_id: FromPath[uuid.UUID], devices: DevicesDep, services: ServicesDep
    ) -> DevicePageOut:
        """The address of the device's public page (what its QR label encodes), or null without one."""
        device = await devices.get(device_id)
        return DevicePageOut(url=public.page_url(services.settings.base_url, device))

    @get("/{device_id:uuid}/label.svg", opt=requires(DEVICE, "read"), media_type="image/svg+xml")
    async def label_svg(self, device_id: FromPath[uuid.UUID], devices: DevicesDep, services: ServicesDep) -> bytes:
        """The QR code of the device's public page, as SVG (404 while it has none)."""
        return qr_svg_file(_page_url(await devices.get(device_id), services.settings.base_url))

    @get("/{device_id:uuid}/label.png", opt=requires(DEVICE, "read"), media_type="image/png")
    async def label_png(self, device_id: FromPath[uuid.UUID], devices: DevicesDep, services: ServicesDep) -> bytes:
        """The QR code of the device's public page, as PNG (404 while it has none)."""
        return qr_png(_page_url(await devices.get(device_id), services.settings.base_url))

    @post("/{device_id:uuid}/public-page", opt=requires(DEVICE, "update"), status_code=200)
    async def new_public_page(
        self, device_id: FromPath[uuid.UUID], db: DB, devices: DevicesDep, services: ServicesDep
    ) -> DevicePageOut:
        """A new address for the device's public page: a label printed before stops working."""
        device = await devices.writable(device_id)
        public.new_device_token(device)
        await db.flush()
        return DevicePageOut(url=public.page_url(services.settings.base_url, device))

    @delete("/{device_id:uuid}/public-page", opt=requires(DEVICE, "update"), status_code=200)
    async def revoke_public_page(self, device_id: FromPath[uuid.UUID], db: DB, devices: DevicesDep) -> DevicePageOut:
        """No public page for the device any more: its label leads nowhere (404)."""
        device = await devices.writable(device_id)
        public.revoke_device_token(device)
        await db.flush()
        return DevicePageOut(url=None)


def _device_values(data: DeviceIn) -> tuple[dict[str, str], dict[str, uuid.UUID | None]]:
    """A device's fields as the service reads them: text keyed like the import's columns, and ids."""
    values = {
        "serial_number": data.serial_number,
        "customer_name": data.customer_name,
        "site_address": data.site_address,
        "sku": data.sku or "",
        "product_name": data.product_name or "",
        "install_date": data.install_date.isoformat() if data.install_date else "",
        "warranty_end": data.warranty_end.isoformat() if data.warranty_end else "",
    }
    return values, {"region_id": data.region_id, "dealer_id": data.dealer_id, "enterprise_id": data.enterprise_id}


def _page_url(device: Any, base_url: str) -> str:
    url = public.page_url(base_url, device)
    if url is None:
        raise NotFound(N_("This device has no public page yet: make its label first"), code="no_public_page")
    return url


# --- partners ---


def _partner_reads(obj: str, label: str) -> list[HTTPRouteHandler]:
    """The list, export and detail of one of the partner's ways to tickets."""

    @get("/", opt=requires(obj, "read"), operation_id=f"{label}_list", name=f"{label}_list")
    async def list_(
        tickets: TicketsDep,
        status: FromQuery[str | None] = None,
        search: Search = None,
        priority: FromQuery[str | None] = None,
        breached: FromQuery[bool | None] = None,
        sort: Sort = "newest",
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> TicketPage:
        """`status` one status or "open"; `breached=true` only those that missed a service-level target;
        `sort` as staff's list (newest first unless said). The customer's phone and the site address are
        absent until the ticket is accepted."""
        wanted = TicketFilter(status, search, priority, breached=breached or False, sort=sort)
        return await ticket_page(tickets, wanted, limit, offset)

    @get("/{ticket_id:uuid}", opt=requires(obj, "read"), operation_id=f"{label}_get", name=f"{label}_get")
    async def get_(ticket_id: FromPath[uuid.UUID], tickets: TicketsDep) -> TicketDetailOut:
        """The ticket with its timeline since it was dispatched to the enterprise."""
        return await ticket_out(tickets, ticket_id)

    return [list_, get_]


@get("/export.xlsx", opt=requires(PARTNER_TICKET, "export"), media_type=XLSX_MEDIA_TYPE)
async def export_partner_tickets(tickets: TicketsDep, status: FromQuery[str | None] = None) -> Response[bytes]:
    columns, rows = await tickets.export_rows(TicketFilter(status))
    return await xlsx("tickets", columns, rows)


@get("/engineers", opt=requires(PARTNER_TICKET, "assign"))
async def list_engineers(request: AnyRequest, db: DB, actor: CurrentActor) -> list[EngineerOut]:
    """The enterprise's people who may work on tickets: whom a ticket may be assigned to."""
    if actor.enterprise_id is None:
        raise PermissionDenied(N_("Only people of a partner enterprise have engineers"), code="no_enterprise")
    found = await engineers_of(db, policy_of(request), actor.tenant_id, actor.enterprise_id)
    return [EngineerOut(id=e.id, name=e.name) for e in found]


class PartnerDevicesController(Controller):
    path = "/api/partner/service/devices"
    tags = ["partner: service"]
    dependencies = PARTNER_DEPENDENCIES

    @get("/", opt=requires(PARTNER_DEVICE, "read"))
    async def list_devices(
        self, devices: DevicesDep, search: Search = None, limit: Limit = 50, offset: Offset = 0
    ) -> DevicePage:
        """The devices the enterprise looks after."""
        rows, total = await devices.page(DeviceFilter(search), limit, offset)
        return typed(
            {"items": await devices.out_many(rows), "total": total, "limit": limit, "offset": offset}, DevicePage
        )

    @get("/{device_id:uuid}", opt=requires(PARTNER_DEVICE, "read"))
    async def get_device(self, device_id: FromPath[uuid.UUID], devices: DevicesDep) -> DeviceOut:
        return typed(await devices.out(await devices.get(device_id)), DeviceOut)


def _router(path: str, handlers: list[Any], dependencies: dict[str, Provide], tag: str) -> Router:
    return Router(path=path, route_handlers=handlers, dependencies=dependencies, tags=[tag])


CONTROLLERS: list[Any] = [
    StaffTicketsController,
    _router("/api/service/tickets", transition_routes(TICKET, STAFF_ACTIONS), STAFF_DEPENDENCIES, "service"),
    StaffDevicesController,
    _router(
        "/api/partner/service/tickets",
        [
            *_partner_reads(PARTNER_TICKET, "partner_ticket"),
            export_partner_tickets,
            *transition_routes(PARTNER_TICKET, PARTNER_ACTIONS),
        ],
        PARTNER_DEPENDENCIES,
        "partner: service",
    ),
    _router("/api/partner/service", [list_engineers], PARTNER_DEPENDENCIES, "partner: service"),
    _router(
        "/api/partner/service/jobs",
        [*_partner_reads(PARTNER_JOB, "partner_job"), *transition_routes(PARTNER_JOB, JOB_ACTIONS)],
        JOB_DEPENDENCIES,
        "partner: service",
    ),
    PartnerDevicesController,
]
