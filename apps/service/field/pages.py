"""The engineer's field steps on the partner portal's ticket page (/p/{slug}/service/{tickets|jobs}/{id}),
made for a phone: check in (the page's script adds the browser's location when the person allows it),
a note, a part from the enterprise's stock, a photo from the camera, the customer's signature drawn on
the screen. Each posts here and runs the same FieldWork as the API; a refusal shows the ticket's page
again with why, beside the form that was sent."""

from __future__ import annotations

import math
import uuid
from typing import Any

from litestar import Request, Router, post
from litestar.datastructures import UploadFile
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath
from litestar.response import Redirect, Template

from apps.service.dependencies import JOB_DEPENDENCIES, PARTNER_DEPENDENCIES, TicketsDep
from apps.service.field.rules import set_signature_required
from apps.service.field.steps import FieldWork, Location
from apps.service.objects import PARTNER_JOB, PARTNER_TICKET
from apps.service.pages.partner import partner_ticket_page
from apps.service.pages.shared import text
from apps.service.parts.stock import MAX_QUANTITY
from interconnect.pages.workspace import CurrentPortal, partner_portal_router
from portal.errors import DomainError, FieldError, NotFound, ValidationFailed
from portal.http.deps import DB, ServicesDep
from portal.i18n import N_
from portal.permissions import requires
from portal.storage.uploads import UPLOAD_BODY_LIMIT, read_upload
from portal.ui.forms import Form, uuid_or_none
from portal.ui.refusals import field_errors, refusal_of

AnyRequest = Request[Any, Any, Any]
STEPS = ("check-in", "note", "part", "photo", "signature")
WAYS = {"tickets": PARTNER_TICKET, "jobs": PARTNER_JOB}


def _number(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _location(form: dict[str, str]) -> Location | None:
    """The browser's position, if the page's script could add it; a half or unreadable one is dropped
    (the time of checking in matters more than a position the phone could not get)."""
    latitude, longitude = _number(form.get("latitude", "")), _number(form.get("longitude", ""))
    if latitude is None or longitude is None:
        return None
    accuracy = _number(form.get("accuracy_m", ""))
    return Location(latitude, longitude, round(accuracy) if accuracy is not None and 0 <= accuracy <= 100_000 else None)


def _quantity(value: str) -> int:
    if not value.isdigit() or len(value) > 6:
        raise ValidationFailed(
            [
                FieldError(
                    "quantity", N_("must be a whole number from 1 to %(max)s"), "out_of_range", {"max": MAX_QUANTITY}
                )
            ]
        )
    return int(value)


async def _run(step: str, work: FieldWork, ticket_id: uuid.UUID, request: AnyRequest) -> None:
    if step in ("photo", "signature"):
        await work.reachable(ticket_id)  # another enterprise's ticket is not found before the upload is read
    raw = await request.form()
    form = {
        key: text(raw, key)
        for key in ("latitude", "longitude", "accuracy_m", "text", "product_id", "quantity", "signer")
    }
    upload = raw.get("file")
    upload = upload if isinstance(upload, UploadFile) and upload.filename else None
    if step == "check-in":
        await work.check_in(ticket_id, _location(form))
    elif step == "note":
        await work.note(ticket_id, form["text"])
    elif step == "part":
        product_id = uuid_or_none(form["product_id"])
        if product_id is None:
            raise ValidationFailed.single("product_id", N_("Choose the part"), "required")
        await work.use_part(ticket_id, product_id, _quantity(form["quantity"] or "1"))
    elif step == "photo":
        content, name = await read_upload(upload)
        await work.photo(ticket_id, content, name)
    else:
        content, _name = await read_upload(upload)
        await work.signature(ticket_id, content, form["signer"])


def _step_page(way: str, step: str) -> HTTPRouteHandler:
    obj = WAYS[way]

    async def handler(
        request: AnyRequest,
        ticket_id: FromPath[uuid.UUID],
        db: DB,
        portal: CurrentPortal,
        tickets: TicketsDep,
        services: ServicesDep,
    ) -> Template | Redirect:
        async def render(**values: Any) -> Template:
            return await partner_ticket_page(request, tickets, portal, way, ticket_id, **values)

        await tickets.get(ticket_id)  # another enterprise's ticket, or another tenant's: not found
        try:
            async with db.begin_nested():
                await _run(step, FieldWork(tickets, services.attachments), ticket_id, request)
        except NotFound:
            raise
        except DomainError as error:
            errors = field_errors(error) if isinstance(error, ValidationFailed) else {}
            return await render(
                alert=refusal_of(error), failed=f"field_{step}", errors=errors, status_code=error.status
            )
        return Redirect(portal.path(f"service/{way}/{ticket_id}?done=field_{step.replace('-', '_')}#field"))

    handler.__name__ = handler.__qualname__ = f"{way}_field_{step.replace('-', '_')}_page"
    return post(
        f"/service/{way}/{{ticket_id:uuid}}/field/{step}",
        opt=requires(obj, "work"),
        include_in_schema=False,
        request_max_body_size=UPLOAD_BODY_LIMIT,
    )(handler)


@post("/console/service/field/settings", opt=requires("workspace", "update"), include_in_schema=False)
async def save_field_settings_page(data: Form, db: DB) -> Redirect:
    """The checkbox on the console's dispatch page, beside the other service settings."""
    await set_signature_required(db, text(data, "signature_required") == "on")
    return Redirect("/console/service/dispatch?done=field_settings")


FIELD_PAGES: list[Any] = [
    Router(path="/", route_handlers=[save_field_settings_page]),
    partner_portal_router([_step_page("tickets", step) for step in STEPS], dependencies=PARTNER_DEPENDENCIES),
    partner_portal_router([_step_page("jobs", step) for step in STEPS], dependencies=JOB_DEPENDENCIES),
]
