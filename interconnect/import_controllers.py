"""Bulk onboarding API (import jobs and the enterprise export)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import msgspec
from litestar import Controller, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, MultipartBody
from litestar.status_codes import HTTP_202_ACCEPTED

from interconnect.imports import create_job, export_xlsx, get_job
from interconnect.models import ImportJob
from portal.errors import ValidationFailed
from portal.http.deps import DB, CurrentActor
from portal.i18n import N_
from portal.permissions import requires
from portal.spreadsheets import MAX_BYTES, XLSX_MEDIA_TYPE
from portal.ui.downloads import download, stamped

# The file may be up to MAX_BYTES; the multipart envelope around it needs a little more.
UPLOAD_BODY_LIMIT = MAX_BYTES + 256 * 1024


@dataclass
class ImportUpload:
    file: UploadFile | None = None  # optional here so that a missing file is a "file: is required" error
    mode: str = "all_or_nothing"


class ImportErrorOut(msgspec.Struct):
    row: int | None  # the spreadsheet row (the header is row 1); None for the file as a whole
    field: str  # the column (name, code, partner_type, …), or "quota", "row", "file"
    code: str
    message: str


class ImportJobOut(msgspec.Struct):
    id: uuid.UUID
    filename: str
    mode: str
    status: str  # queued | running | done | failed
    total_rows: int
    processed_rows: int
    created_count: int
    skipped_count: int
    error_count: int
    errors: list[ImportErrorOut]
    created_at: datetime
    finished_at: datetime | None

    @classmethod
    def of(cls, job: ImportJob) -> ImportJobOut:
        errors = [ImportErrorOut(e.get("row"), e["field"], e.get("code", "invalid"), e["message"]) for e in job.errors]
        return cls(
            job.id,
            job.filename,
            job.mode,
            job.status,
            job.total_rows,
            job.processed_rows,
            job.created_count,
            job.skipped_count,
            len(errors),
            errors,
            job.created_at,
            job.finished_at,
        )


class ImportsController(Controller):
    path = "/api/interconnect/imports"
    tags = ["partner enterprises"]

    @post(
        "/",
        opt=requires("interconnect.enterprises", "create"),
        status_code=HTTP_202_ACCEPTED,
        request_max_body_size=UPLOAD_BODY_LIMIT,
    )
    async def create_import(self, data: MultipartBody[ImportUpload], actor: CurrentActor, db: DB) -> ImportJobOut:
        """Upload a .csv or .xlsx file (field `file`, up to 5 MB and 5,000 rows) of enterprises and their
        first admins; `mode` is `all_or_nothing` (default: one bad row and nothing is imported) or
        `valid_rows` (the good rows are imported, the others reported). The import runs on a worker once
        this request has committed: follow it at GET /api/interconnect/imports/{id}."""
        if data.file is None:
            raise ValidationFailed.single("file", N_("is required: upload a .csv or .xlsx file"), "required")
        content = await data.file.read()
        await data.file.close()
        # the job and the event that has a worker run it commit together, with this request
        job, _rows = await create_job(db, actor, data.file.filename, content, data.mode, channel=actor.channel)
        return ImportJobOut.of(job)

    @get("/{job_id:uuid}", opt=requires("interconnect.enterprises", "read"))
    async def get_import(self, job_id: FromPath[uuid.UUID], db: DB) -> ImportJobOut:
        """Progress (`processed_rows` of `total_rows`) and, once `done`, the counts and every row's errors."""
        return ImportJobOut.of(await get_job(db, job_id))


class EnterpriseExportController(Controller):
    path = "/api/interconnect/enterprises/export"
    tags = ["partner enterprises"]

    @get("/", opt=requires("interconnect.enterprises", "export"), media_type=XLSX_MEDIA_TYPE)
    async def export_enterprises(self, db: DB, actor: CurrentActor) -> Response[bytes]:
        """Every enterprise as an XLSX workbook, in the import's columns (it can be imported again)."""
        return download(await export_xlsx(db, actor.time_zone), stamped("enterprises"))


IMPORT_CONTROLLERS: list[type] = [ImportsController, EnterpriseExportController]
