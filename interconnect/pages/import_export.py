"""Console pages for bulk import (upload, then a progress page that follows the background job) and the
XLSX export of the enterprise list."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from litestar import Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, MultipartBody
from litestar.response import Redirect, Template

from interconnect import imports
from interconnect.pages.programme_settings import percent
from portal import spreadsheets
from portal.errors import ValidationFailed
from portal.http.deps import DB, CurrentActor
from portal.i18n import N_, gettext
from portal.permissions import requires
from portal.ui.downloads import download, stamped
from portal.ui.refusals import field_errors

IMPORT_MODES = (
    ("all_or_nothing", N_("All or nothing: one bad row and nothing is imported")),
    ("valid_rows", N_("Import the valid rows and report the others")),
)
UPLOAD_BODY_LIMIT = spreadsheets.MAX_BYTES + 256 * 1024  # the file plus its multipart envelope
REFRESH_SECONDS = 2


@dataclass
class ImportForm:
    file: UploadFile | None = None  # optional here, so that a missing file is a field error on the page
    mode: str = "all_or_nothing"


def _import_page(form: dict[str, str], errors: dict[str, str], status_code: int = 200) -> Template:
    return Template(
        "console/partners/import.html",
        context={
            "form": form,
            "errors": errors,
            "modes": IMPORT_MODES,
            "max_rows": imports.MAX_ROWS,
            "max_megabytes": spreadsheets.MAX_BYTES // (1024 * 1024),
            "columns": list(imports.COLUMNS),
            "section": "import",
        },
        status_code=status_code,
    )


@get("/console/partners/import", opt=requires("interconnect.enterprises", "create"), include_in_schema=False)
async def import_form() -> Template:
    return _import_page({"mode": "all_or_nothing"}, {})


@post(
    "/console/partners/import",
    opt=requires("interconnect.enterprises", "create"),
    include_in_schema=False,
    request_max_body_size=UPLOAD_BODY_LIMIT,
)
async def start_import(data: MultipartBody[ImportForm], actor: CurrentActor, db: DB) -> Template | Redirect:
    """Check the file, queue the job and follow it on its progress page (a worker runs it)."""
    form = {"mode": data.mode}
    if data.file is None or not data.file.filename:
        return _import_page(form, {"file": gettext("is required: upload a .csv or .xlsx file")}, 422)
    content = await data.file.read()
    await data.file.close()
    try:
        # the job and the event that has a worker run it commit together, with this request
        job, _rows = await imports.create_job(db, actor, data.file.filename, content, data.mode, channel="web")
    except ValidationFailed as error:
        return _import_page(form, field_errors(error), 422)
    return Redirect(f"/console/partners/import/{job.id}")


def import_error_text(error: dict[str, Any]) -> str:
    """A row error of a job, in the reader's language (the job stores the message id and its values)."""
    msgid = error.get("msgid")
    if not msgid:
        return str(error.get("message", ""))
    return gettext(msgid, **(error.get("params") or {}))


@get(
    "/console/partners/import/{job_id:uuid}",
    opt=requires("interconnect.enterprises", "read"),
    include_in_schema=False,
)
async def import_progress(job_id: FromPath[uuid.UUID], db: DB) -> Template:
    """The job's progress; the page reloads itself while the job runs (no script needed)."""
    job = await imports.get_job(db, job_id)
    running = job.status in ("queued", "running")
    return Template(
        "console/partners/import_job.html",
        context={
            "job": job,
            "running": running,
            "refresh": REFRESH_SECONDS if running else None,
            "share": percent(job.processed_rows, job.total_rows) if job.total_rows else (0 if running else 100),
            "errors": [(e.get("row"), e.get("field", ""), import_error_text(e)) for e in job.errors],
            "mode_label": dict(IMPORT_MODES).get(job.mode, job.mode),
            "section": "import",
        },
    )


@get("/console/partners/export.xlsx", opt=requires("interconnect.enterprises", "export"), include_in_schema=False)
async def export_enterprises_page(db: DB, actor: CurrentActor) -> Response[bytes]:
    """Every enterprise as an XLSX workbook in the import's columns (it can be imported again)."""
    return download(await imports.export_xlsx(db, actor.time_zone), stamped("enterprises"))
