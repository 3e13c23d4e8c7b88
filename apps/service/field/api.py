"""The field steps over the JSON API, for both ways a partner reaches tickets (the enterprise's,
/api/partner/service/tickets, and the engineer's own, /api/partner/service/jobs), and the field record
for staff (/api/service/tickets/{id}/field). Each step answers the entry it made; check-in, notes and
parts create one (201), a photo or signature is a multipart upload answered with its entry (200); every
one of them honours an Idempotency-Key (a retry with the key answers the first entry again, and a photo
sent twice is stored once). Files are fetched from the entry's `url` with the same credentials."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from litestar import Controller, Request, get, post, put
from litestar.datastructures import UploadFile
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK

from apps.service.controllers import CONFLICT
from apps.service.dependencies import JOB_DEPENDENCIES, PARTNER_DEPENDENCIES, STAFF_DEPENDENCIES, TicketsDep
from apps.service.field import rules
from apps.service.field.models import FieldEntry
from apps.service.field.steps import FieldWork, Location, entries
from apps.service.objects import PARTNER_JOB, PARTNER_TICKET, TICKET
from portal.http.deps import DB, ServicesDep
from portal.http.inputs import Int32, Multiline
from portal.http.openapi import upload_operation
from portal.identity.schemas import Out, Strict
from portal.permissions import requires
from portal.storage.uploads import UPLOAD_BODY_LIMIT, read_upload


class CheckInIn(Strict):
    """Where the phone is, as the browser's geolocation gave it; leave all out when the person did not
    allow it (the time is recorded anyway)."""

    latitude: float | None = None
    longitude: float | None = None
    accuracy_m: Int32 | None = None  # metres

    def location(self) -> Location | None:
        if self.latitude is None and self.longitude is None:
            return None
        return Location(
            self.latitude if self.latitude is not None else float("nan"),
            self.longitude if self.longitude is not None else float("nan"),
            self.accuracy_m,
        )


class WorkNoteIn(Strict):
    text: Multiline


class PartUseIn(Strict):
    product_id: uuid.UUID  # a catalog product the partner holds in its spare-parts stock
    quantity: Int32 = 1


def _file(value: object) -> UploadFile | None:
    return value if isinstance(value, UploadFile) and value.filename else None


class FieldEntryOut(Out, kw_only=True):
    id: uuid.UUID
    kind: str  # check_in | note | part | photo | signature
    at: datetime
    by: str | None
    note: str | None  # a note's text, or the signer's name
    latitude: float | None
    longitude: float | None
    accuracy_m: int | None
    product_id: uuid.UUID | None
    sku: str | None
    product_name: str | None
    quantity: int | None
    url: str | None  # a photo's or signature's file

    @classmethod
    def of(cls, entry: FieldEntry, files: str) -> FieldEntryOut:
        return cls(
            id=entry.id,
            kind=entry.kind,
            at=entry.at,
            by=entry.actor_name,
            note=entry.note,
            latitude=entry.latitude,
            longitude=entry.longitude,
            accuracy_m=entry.accuracy_m,
            product_id=entry.product_id,
            sku=entry.sku,
            product_name=entry.product_name,
            quantity=entry.quantity,
            url=f"{files}/{entry.attachment_id}" if entry.attachment_id else None,
        )


class FieldRecordOut(Out, kw_only=True):
    ticket_id: uuid.UUID
    status: str
    signature_required: bool  # the tenant's rule: resolving needs the customer's signature first
    entries: list[FieldEntryOut]


AnyRequest = Request[Any, Any, Any]
PARTNER_FILES = "/api/partner/attachments"
STAFF_FILES = "/api/attachments"


async def record_out(tickets: TicketsDep, ticket_id: uuid.UUID, files: str) -> FieldRecordOut:
    ticket, found = await entries(tickets, ticket_id)
    return FieldRecordOut(
        ticket_id=ticket.id,
        status=ticket.status,
        signature_required=await rules.signature_required(tickets.session),
        entries=[FieldEntryOut.of(e, files) for e in found],
    )


def _partner_controller(way: str, obj: str) -> type[Controller]:
    class FieldController(Controller):
        path = f"/api/partner/service/{way}/{{ticket_id:uuid}}"
        tags = ["service"]
        dependencies = PARTNER_DEPENDENCIES if way == "tickets" else JOB_DEPENDENCIES

        @get("/field", opt=requires(obj, "read"), operation_id=f"{way}_field_record")
        async def field_record(self, ticket_id: FromPath[uuid.UUID], tickets: TicketsDep) -> FieldRecordOut:
            """The ticket's field record, oldest first: check-ins, notes, parts, photos, the signature."""
            return await record_out(tickets, ticket_id, PARTNER_FILES)

        @post("/check-in", opt=requires(obj, "work", problems=CONFLICT), operation_id=f"{way}_check_in")
        async def check_in(
            self,
            ticket_id: FromPath[uuid.UUID],
            data: JSONBody[CheckInIn],
            db: DB,
            tickets: TicketsDep,
            services: ServicesDep,
        ) -> FieldEntryOut:
            """On site now (from on the way, this also marks the ticket on site), with the location if given."""
            entry = await FieldWork(tickets, services.attachments).check_in(ticket_id, data.location())
            return FieldEntryOut.of(entry, PARTNER_FILES)

        @post("/notes", opt=requires(obj, "work", problems=CONFLICT), operation_id=f"{way}_work_note")
        async def work_note(
            self,
            ticket_id: FromPath[uuid.UUID],
            data: JSONBody[WorkNoteIn],
            db: DB,
            tickets: TicketsDep,
            services: ServicesDep,
        ) -> FieldEntryOut:
            """A work note, on site."""
            entry = await FieldWork(tickets, services.attachments).note(ticket_id, data.text)
            return FieldEntryOut.of(entry, PARTNER_FILES)

        @post("/parts", opt=requires(obj, "work", problems=CONFLICT), operation_id=f"{way}_use_part")
        async def use_part(
            self,
            ticket_id: FromPath[uuid.UUID],
            data: JSONBody[PartUseIn],
            db: DB,
            tickets: TicketsDep,
            services: ServicesDep,
        ) -> FieldEntryOut:
            """A part fitted, taken out of the partner's stock: 409 `part_not_in_stock` naming the part when
            the stock holds fewer."""
            entry = await FieldWork(tickets, services.attachments).use_part(ticket_id, data.product_id, data.quantity)
            return FieldEntryOut.of(entry, PARTNER_FILES)

        @post(
            "/photos",
            opt={**requires(obj, "work", problems=CONFLICT), "idempotent": True},
            operation_id=f"{way}_photo",
            request_max_body_size=UPLOAD_BODY_LIMIT,
            status_code=HTTP_200_OK,
            operation_class=upload_operation(),
        )
        async def photo(
            self,
            request: AnyRequest,
            ticket_id: FromPath[uuid.UUID],
            db: DB,
            tickets: TicketsDep,
            services: ServicesDep,
        ) -> FieldEntryOut:
            """A photo (multipart field `file`: JPEG, PNG or WebP, decided by its content); stored without its
            metadata (EXIF and its GPS position)."""
            work = FieldWork(tickets, services.attachments)
            await work.reachable(ticket_id)  # another enterprise's ticket is not found before any upload is read
            form = await request.form()
            content, name = await read_upload(_file(form.get("file")))
            return FieldEntryOut.of(await work.photo(ticket_id, content, name), PARTNER_FILES)

        @post(
            "/signature",
            opt={**requires(obj, "work", problems=CONFLICT), "idempotent": True},
            operation_id=f"{way}_signature",
            request_max_body_size=UPLOAD_BODY_LIMIT,
            status_code=HTTP_200_OK,
            operation_class=upload_operation("signer"),
        )
        async def signature(
            self,
            request: AnyRequest,
            ticket_id: FromPath[uuid.UUID],
            db: DB,
            tickets: TicketsDep,
            services: ServicesDep,
        ) -> FieldEntryOut:
            """The customer's signature drawn on screen (multipart field `file`, a PNG of at most 512 KB) and the
            name of the person who signed (`signer`, optional)."""
            work = FieldWork(tickets, services.attachments)
            await work.reachable(ticket_id)
            form = await request.form()
            content, _name = await read_upload(_file(form.get("file")))
            signer = form.get("signer")
            entry = await work.signature(ticket_id, content, signer if isinstance(signer, str) else None)
            return FieldEntryOut.of(entry, PARTNER_FILES)

    FieldController.__name__ = FieldController.__qualname__ = f"{way.title()}FieldController"
    return FieldController


class StaffFieldController(Controller):
    path = "/api/service/tickets/{ticket_id:uuid}"
    tags = ["service"]
    dependencies = STAFF_DEPENDENCIES

    @get("/field", opt=requires(TICKET, "read"), operation_id="staff_field_record")
    async def staff_field_record(self, ticket_id: FromPath[uuid.UUID], tickets: TicketsDep) -> FieldRecordOut:
        """The ticket's field record: check-ins with their location, notes, parts, photos, the signature."""
        return await record_out(tickets, ticket_id, STAFF_FILES)


class FieldSettingsIn(Strict):
    signature_required: bool  # resolving a ticket needs the customer's signature on it first


class FieldSettingsOut(Out, kw_only=True):
    signature_required: bool


class FieldSettingsController(Controller):
    path = "/api/service/field/settings"
    tags = ["service"]

    @get("/", opt=requires(TICKET, "read"))
    async def get_field_settings(self, db: DB) -> FieldSettingsOut:
        return FieldSettingsOut(signature_required=await rules.signature_required(db))

    @put("/", opt=requires("workspace", "update"))
    async def put_field_settings(self, data: JSONBody[FieldSettingsIn], db: DB) -> FieldSettingsOut:
        """Whether resolving a ticket needs the customer's signature, drawn on site since it was last
        dispatched (409 `signature_required` otherwise). Off for every tenant until turned on."""
        return FieldSettingsOut(signature_required=await rules.set_signature_required(db, data.signature_required))


FIELD_CONTROLLERS = [
    FieldSettingsController,
    _partner_controller("tickets", PARTNER_TICKET),
    _partner_controller("jobs", PARTNER_JOB),
    StaffFieldController,
]
