"""Bulk onboarding: enterprises and their first admins from a CSV or XLSX file, and the enterprise list
as an XLSX workbook.

An import is a job. `create_job` checks the file itself (type, size, header, row count) and stores the job
queued; `run_job` validates every row against the programme (codes, formats, duplicates, parents, quota),
then writes: all rows in one transaction ("all_or_nothing": one bad row and nothing is written), or one
transaction per row ("valid_rows": good rows are created, bad ones reported). Errors carry the
spreadsheet row number (the header is row 1). A row whose code (or, without a code, exact name) already
exists is skipped, so running the same file again creates nothing new. Rows are created by the same service
function as the API's "create enterprise" (people.create_enterprise): quotas, events and audit entries apply.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import functools
import io
import logging
import re
import time
import uuid
import zipfile
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from interconnect import quotas
from interconnect.links import NewEnterprise
from interconnect.models import (
    EnterpriseLink,
    ExternalIdentity,
    ImportJob,
    Membership,
    PartnerTier,
    PartnerType,
    Region,
)
from interconnect.people import CreatedEnterprise, NewPerson, create_enterprise, normalise_mobile
from portal.actor import Actor, Channel
from portal.db.context import tenant_context
from portal.db.types import utcnow
from portal.errors import Conflict, DomainError, FieldError, NotFound, QuotaExceeded, ValidationFailed
from portal.i18n import N_
from portal.identity.accounts import normalise_email
from portal.services import Services

log = logging.getLogger("interconnect.imports")

MODES = ("all_or_nothing", "valid_rows")
MAX_ROWS = 5000
MAX_BYTES = 5 * 1024 * 1024
MAX_COLUMNS = 64
MAX_PHYSICAL_ROWS = 50_000  # blank rows included: a bound on work for a sparse or padded sheet
MAX_REPORTED_ERRORS = 1000
PROGRESS_BATCH = 25  # rows between progress commits
PROGRESS_SECONDS = 1.0  # ... or this long, whichever comes first
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TASKS_KEY = "interconnect.import_tasks"

# Accepted headers per column: case-insensitive, spaces and hyphens count as "_", a trailing "*" is ignored.
COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("name", "enterprise_name", "enterprise", "企业名称", "名称", "企业"),
    "code": ("code", "enterprise_code", "企业编码", "企业代码", "编码", "代码"),
    "partner_type": ("partner_type", "type", "伙伴类型", "企业类型", "合作伙伴类型", "类型"),
    "tier": ("tier", "partner_tier", "等级", "伙伴等级", "级别"),
    "region": ("region", "区域", "地区", "所属区域"),
    "parent_code": ("parent_code", "parent", "上级企业编码", "上级编码", "上级企业"),
    "contact_phone": ("contact_phone", "phone", "联系电话", "电话"),
    "admin_name": ("admin_name", "管理员姓名", "管理员名称", "管理员"),
    "admin_email": ("admin_email", "管理员邮箱", "管理员电子邮箱", "邮箱"),
    "admin_mobile": ("admin_mobile", "管理员手机", "管理员手机号", "手机号", "手机"),
}
# Columns the export adds for people; an exported file can be imported again.
IGNORED_COLUMNS = ("status", "状态", "parent_name", "上级企业名称", "created_at", "创建时间")
REQUIRED_COLUMNS = ("name", "partner_type")
EXPORT_COLUMNS = (*COLUMNS, "parent_name", "status", "created_at")
_HEADER_ALIASES = {alias.lower(): column for column, aliases in COLUMNS.items() for alias in aliases}

# Fields of the errors the services raise, named as the file's columns.
_FIELD_FOR = {
    "display_name": "admin_name",
    "email": "admin_email",
    "mobile": "admin_mobile",
    "parent": "parent_code",
    "title": "admin_name",
}


# --- reading the file -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Row:
    number: int  # the spreadsheet row (the header is row 1)
    values: dict[str, str]  # column → text, "" when empty


def _file_error(message: str, code: str = "invalid", **params: Any) -> ValidationFailed:
    return ValidationFailed([FieldError("file", message, code, params)])


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a mobile number typed into a numeric cell
    return str(value).strip()


def _header_key(title: str) -> str:
    key = re.sub(r"[\s\-]+", "_", title.strip().lower()).rstrip("*").strip("_")
    return key


def _map_header(cells: list[str]) -> list[str | None]:
    """The column of each header cell (None: ignored), or a clear error naming every problem."""
    errors: list[FieldError] = []
    mapped: list[str | None] = []
    seen: dict[str, str] = {}
    for title in cells:
        key = _header_key(title)
        if not key or key in IGNORED_COLUMNS:
            mapped.append(None)
            continue
        column = _HEADER_ALIASES.get(key)
        if column is None:
            errors.append(
                FieldError(
                    "file",
                    N_("has an unknown column %(column)s; the columns are: %(known)s"),
                    "unknown_column",
                    {"column": repr(title), "known": ", ".join(COLUMNS)},
                )
            )
        elif column in seen:
            errors.append(
                FieldError(
                    "file",
                    N_("has the column %(column)s twice (%(first)s and %(second)s)"),
                    "duplicate_column",
                    {"column": column, "first": repr(seen[column]), "second": repr(title)},
                )
            )
        else:
            seen[column] = title
        mapped.append(column)
    for column in REQUIRED_COLUMNS:
        if column not in seen:
            errors.append(FieldError("file", N_("has no %(column)s column"), "missing_column", {"column": column}))
    if errors:
        raise ValidationFailed(errors)
    return mapped


def _csv_records(content: bytes) -> Generator[list[str]]:
    if b"\x00" in content[:8192] or content.startswith(b"PK\x03\x04"):
        raise _file_error(N_("is not a CSV text file"), "wrong_type")
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in Chinese saves CSV as GB18030/GBK
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise _file_error(N_("is not a CSV text file in UTF-8 or GB18030"), "wrong_type")
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    try:
        yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    except csv.Error as exc:
        raise _file_error(N_("could not be read as CSV: %(reason)s"), "unreadable", reason=str(exc)) from None


def _xlsx_records(content: bytes) -> Generator[list[str]]:
    import openpyxl

    if not content.startswith(b"PK\x03\x04"):
        raise _file_error(N_("is not an .xlsx workbook"), "wrong_type")
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:
        raise _file_error(N_("is not a readable .xlsx workbook"), "unreadable") from None
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            return
        for cells in sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS):
            yield [_text(v) for v in cells]
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError):
        raise _file_error(N_("is not a readable .xlsx workbook"), "unreadable") from None
    finally:
        workbook.close()


def file_kind(filename: str) -> str:
    suffix = PurePath(filename or "").suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise _file_error(N_("must be a .csv or .xlsx file"), "wrong_type")
    return suffix[1:]


def parse_file(filename: str, content: bytes) -> list[Row]:
    """The data rows of the first sheet, keyed by column; blank rows are left out but keep their number."""
    if len(content) > MAX_BYTES:
        raise _file_error(N_("is larger than %(max)s MB"), "too_large", max=MAX_BYTES // (1024 * 1024))
    kind = file_kind(filename)
    if not content.strip():
        raise _file_error(N_("is empty"), "empty")
    records = _csv_records(content) if kind == "csv" else _xlsx_records(content)
    try:
        return _read_rows(records)
    finally:
        records.close()


def _read_rows(records: Iterator[list[str]]) -> list[Row]:
    header: list[str | None] | None = None
    rows: list[Row] = []
    for number, record in enumerate(records, start=1):
        if number > MAX_PHYSICAL_ROWS:
            raise _file_error(N_("has more than %(max)s rows"), "too_many_rows", max=f"{MAX_ROWS:,}")
        cells = [_text(c) for c in record[:MAX_COLUMNS]]
        if not any(cells):
            continue
        if header is None:
            while cells and not cells[-1]:
                cells.pop()
            header = _map_header(cells)
            continue
        values = {column: "" for column in COLUMNS}
        for column, cell in zip(header, cells, strict=False):
            if column is not None:
                values[column] = cell
        rows.append(Row(number, values))
        if len(rows) > MAX_ROWS:
            raise _file_error(N_("has more than %(max)s rows"), "too_many_rows", max=f"{MAX_ROWS:,}")
    if header is None:
        raise _file_error(N_("is empty"), "empty")
    if not rows:
        raise _file_error(N_("has a header but no rows"), "empty")
    return rows


# --- jobs -------------------------------------------------------------------------------------------


async def create_job(session: AsyncSession, actor: Actor | None, filename: str, content: bytes, mode: str) -> ImportJob:
    """Check the file and store a queued job; refuses a bad file with field errors (nothing is stored)."""
    errors: list[FieldError] = []
    if mode not in MODES:
        errors.append(FieldError("mode", N_("must be one of %(choices)s"), "invalid", {"choices": ", ".join(MODES)}))
    name = PurePath((filename or "").replace("\\", "/")).name.strip()
    rows: list[Row] = []
    try:
        rows = await asyncio.to_thread(parse_file, name, content)
    except ValidationFailed as exc:
        errors.extend(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    job = ImportJob(
        filename=name[:200],
        mode=mode,
        status="queued",
        total_rows=len(rows),
        created_by=actor.user_id if actor is not None else None,
        errors=[],
    )
    session.add(job)
    await session.flush()
    return job


async def get_job(session: AsyncSession, job_id: uuid.UUID) -> ImportJob:
    job = await session.scalar(select(ImportJob).where(ImportJob.id == job_id))
    if job is None:
        raise NotFound(N_("No such import"))
    return job


def start_job(
    services: Services, tenant_id: uuid.UUID, job_id: uuid.UUID, content: bytes, *, channel: Channel = "api"
) -> None:
    """Run the job in the background of this process. Call it from the event loop; the task is kept
    referenced until it ends. It waits (briefly) for the job's own transaction to commit first."""
    tasks: set[asyncio.Task[Any]] = services.extensions.setdefault(TASKS_KEY, set())
    task = asyncio.get_running_loop().create_task(
        _run_in_background(services, tenant_id, job_id, content, channel), name=f"import-job-{job_id}"
    )
    tasks.add(task)
    task.add_done_callback(tasks.discard)


async def _run_in_background(
    services: Services, tenant_id: uuid.UUID, job_id: uuid.UUID, content: bytes, channel: Channel
) -> None:
    ctx = tenant_context(tenant_id, channel=channel)
    for _attempt in range(100):  # the request that created the job may not have committed yet
        async with services.db.session(ctx) as session:
            if await session.scalar(select(ImportJob.id).where(ImportJob.id == job_id)) is not None:
                break
        await asyncio.sleep(0.05)
    try:
        await run_job(services, tenant_id, job_id, content, channel=channel)
    except Exception:
        log.exception("import job %s could not run", job_id)


@dataclass
class ImportResult:
    job: ImportJob
    # (row, admin sign-in, one-time set-password credential) for each first admin created
    setup_links: list[tuple[int, str, str]] = field(default_factory=list)


Progress = Callable[[int, int], None]


async def run_job(
    services: Services,
    tenant_id: uuid.UUID,
    job_id: uuid.UUID,
    content: bytes,
    progress: Progress | None = None,
    *,
    channel: Channel = "api",
) -> ImportResult:
    """Validate and write every row; the job ends "done" (with any row errors) or "failed" (it could
    not run at all). `progress(processed, total)` is called as rows are processed."""
    db = services.db
    ctx = tenant_context(tenant_id, channel=channel)
    async with db.session(ctx) as session:
        job = await get_job(session, job_id)
        claimed = await session.execute(
            update(ImportJob)
            .where(ImportJob.id == job_id, ImportJob.status == "queued")
            .values(status="running", processed_rows=0)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:
            raise Conflict(N_("This import has already run"), code="import_already_run")
        filename, mode, total, created_by = job.filename, job.mode, job.total_rows, job.created_by
    actor = Actor(created_by, tenant_id, "internal", channel) if created_by is not None else None
    run = _Run(services, tenant_id, job_id, mode, total, actor, channel, progress)
    try:
        rows = await asyncio.to_thread(parse_file, filename, content)
        run.total = len(rows)
        return await run.execute(rows)
    except ValidationFailed as exc:  # the file itself (checked when the job was created)
        errors = [_error(None, e.field, e.message, e.code, e.params) for e in exc.errors]
        return await run.finish("failed", errors, created=0, skipped=0)
    except asyncio.CancelledError:  # the process is stopping: say so rather than stay "running"
        message = N_("The import was interrupted; run it again (rows already imported are skipped)")
        with contextlib.suppress(Exception):
            await run.finish("failed", [_error(None, "file", message, "interrupted")], created=run.created, skipped=0)
        raise
    except Exception:
        log.exception("import job %s failed", job_id)
        message = N_(
            "The import stopped because of an error on our side; run it again (rows already imported are skipped)"
        )
        errors = [_error(None, "file", message, "internal_error")]
        return await run.finish("failed", errors, created=run.created, skipped=0)


def _error(
    row: int | None, column: str, message: str, code: str = "invalid", params: dict[str, Any] | None = None
) -> dict[str, Any]:
    params = {k: v if isinstance(v, int | float | str) or v is None else str(v) for k, v in (params or {}).items()}
    return {
        "row": row,
        "field": column,
        "code": code,
        "message": message % params if params else message,
        "msgid": message,  # with params: what a page translates
        "params": params,
    }


def _errors_of(row: int, exc: Exception, has_email: bool) -> list[dict[str, Any]]:
    """A refusal by the services, as errors of this row named by the file's columns."""
    if isinstance(exc, ValidationFailed):
        return [_error(row, _FIELD_FOR.get(e.field, e.field), e.message, e.code, dict(e.params)) for e in exc.errors]
    if isinstance(exc, QuotaExceeded):
        return [_error(row, "quota", exc.detail, exc.code, dict(exc.params))]
    if isinstance(exc, DomainError):
        column = {"enterprise_code_taken": "code"}.get(exc.code)
        if exc.code in ("already_member", "identity_mismatch"):
            column = "admin_email" if has_email else "admin_mobile"
        return [_error(row, column or "row", exc.detail, exc.code, dict(exc.params))]
    if isinstance(exc, IntegrityError):
        return [_error(row, "row", N_("conflicts with data saved at the same time; run the import again"), "conflict")]
    raise exc


# --- validating the rows ------------------------------------------------------------------------------


@dataclass
class _Plan:
    number: int
    action: str  # create | skip | error
    name: str = ""
    code: str | None = None
    partner_type_id: uuid.UUID | None = None
    tier_id: uuid.UUID | None = None
    region_id: uuid.UUID | None = None
    contact_phone: str | None = None
    parent_code: str | None = None
    parent_id: uuid.UUID | None = None  # an enterprise that exists already
    admin: NewPerson | None = None
    login: str = ""  # the admin's email or mobile


def _chunks(values: Iterable[str], size: int = 500) -> Iterator[list[str]]:
    items = list(dict.fromkeys(values))
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _Lookups:
    """Everything rows are checked against, read in a few batched queries."""

    def __init__(self) -> None:
        self.types: dict[str, PartnerType] = {}
        self.tiers: dict[str, uuid.UUID] = {}
        self.regions: dict[str, uuid.UUID] = {}
        self.by_code: dict[str, tuple[uuid.UUID, str]] = {}  # code → (id, status)
        self.names: set[str] = set()
        self.members: set[str] = set()  # emails and mobiles already connected to this programme

    @classmethod
    async def load(cls, session: AsyncSession, rows: list[Row]) -> _Lookups:
        found = cls()
        found.types = {t.code.lower(): t for t in await session.scalars(select(PartnerType))}
        found.tiers = {t.code.lower(): t.id for t in await session.scalars(select(PartnerTier))}
        found.regions = {r.code.lower(): r.id for r in await session.scalars(select(Region))}
        codes = [v for r in rows for v in (r.values["code"], r.values["parent_code"]) if v]
        for chunk in _chunks(codes):
            result = await session.execute(
                select(EnterpriseLink.code, EnterpriseLink.id, EnterpriseLink.status).where(
                    EnterpriseLink.code.in_(chunk)
                )
            )
            found.by_code.update({code: (link_id, status) for code, link_id, status in result.all()})
        names = [r.values["name"] for r in rows if r.values["name"] and not r.values["code"]]
        for chunk in _chunks(names):
            found.names.update(await session.scalars(select(EnterpriseLink.name).where(EnterpriseLink.name.in_(chunk))))
        emails = [r.values["admin_email"].lower() for r in rows if r.values["admin_email"]]
        mobiles = [re.sub(r"[\s-]", "", r.values["admin_mobile"]) for r in rows if r.values["admin_mobile"]]
        for column, values in ((ExternalIdentity.email, emails), (ExternalIdentity.mobile, mobiles)):
            for chunk in _chunks(values):
                result = await session.execute(
                    select(ExternalIdentity.email, ExternalIdentity.mobile)
                    .join(Membership, Membership.identity_id == ExternalIdentity.id)
                    .where(column.in_(chunk))
                )
                for email, mobile in result.all():
                    found.members.update(v for v in (email, mobile) if v)
        return found


def _check_row(row: Row, lookups: _Lookups, errors: list[dict[str, Any]]) -> _Plan:
    v = row.values
    n = row.number
    before = len(errors)

    def fail(column: str, message: str, code: str = "invalid", /, **params: Any) -> None:
        errors.append(_error(n, column, message, code, params))

    code = v["code"] or None
    if code and code in lookups.by_code:
        return _Plan(n, "skip", code=code)
    if not code and v["name"] and v["name"] in lookups.names:
        return _Plan(n, "skip", name=v["name"])
    plan = _Plan(n, "create", name=v["name"], code=code, contact_phone=v["contact_phone"] or None)
    if not v["name"]:
        fail("name", N_("is required"), "required")
    elif len(v["name"]) > 200:
        fail("name", N_("must be at most %(max)s characters"), "too_long", max=200)
    if code and len(code) > 60:
        fail("code", N_("must be at most %(max)s characters"), "too_long", max=60)
    if plan.contact_phone and len(plan.contact_phone) > 40:
        fail("contact_phone", N_("must be at most %(max)s characters"), "too_long", max=40)
    partner_type = lookups.types.get(v["partner_type"].lower())
    if not v["partner_type"]:
        fail("partner_type", N_("is required"), "required")
    elif partner_type is None or not partner_type.active:
        fail(
            "partner_type",
            N_("is not an active partner type of this programme: %(code)s (known: %(known)s)"),
            "unknown",
            code=v["partner_type"],
            known=", ".join(sorted(c for c, t in lookups.types.items() if t.active)),
        )
    else:
        plan.partner_type_id = partner_type.id
    for column, table in (("tier", lookups.tiers), ("region", lookups.regions)):
        if v[column]:
            if v[column].lower() not in table:
                fail(column, N_("is not a known code: %(code)s"), "unknown", code=v[column])
            elif column == "tier":
                plan.tier_id = table[v[column].lower()]
            else:
                plan.region_id = table[v[column].lower()]
    if v["parent_code"]:
        plan.parent_code = v["parent_code"]
        existing = lookups.by_code.get(v["parent_code"])
        if existing is not None:
            if existing[1] == "terminated":
                fail("parent_code", N_("is a terminated enterprise: %(code)s"), "terminated", code=v["parent_code"])
            plan.parent_id = existing[0]
    admin_name, email, mobile = v["admin_name"], v["admin_email"], v["admin_mobile"]
    if admin_name or email or mobile:
        if not admin_name:
            fail("admin_name", N_("is required when an admin email or mobile is given"), "required")
        elif len(admin_name) > 200:
            fail("admin_name", N_("must be at most %(max)s characters"), "too_long", max=200)
        if not email and not mobile:
            fail("admin_email", N_("an email or a mobile number is required for the admin"), "required")
        if email:
            try:
                email = normalise_email(email)
            except ValidationFailed:
                fail("admin_email", N_("is not a valid email address: %(value)s"), "invalid", value=email)
        if mobile:
            try:
                mobile = normalise_mobile(mobile) or ""
            except ValidationFailed:
                fail("admin_mobile", N_("is not a valid mobile number: %(value)s"), "invalid", value=mobile)
        for column, value in (("admin_email", email), ("admin_mobile", mobile)):
            if value and value in lookups.members:
                fail(column, N_("belongs to a person already connected to this programme"), "already_member")
        plan.admin = NewPerson(admin_name, email or None, mobile or None)
        plan.login = email or mobile
    if len(errors) > before:
        plan.action = "error"
    return plan


def _add_error(
    errors: list[dict[str, Any]], number: int, column: str, message: str, code: str, /, **params: Any
) -> None:
    errors.append(_error(number, column, message, code, params))


def _check_file(rows: list[Row], lookups: _Lookups, errors: list[dict[str, Any]]) -> list[_Plan]:
    """Every row on its own, then across rows: duplicates within the file and parents."""
    plans = [_check_row(row, lookups, errors) for row in rows]
    first_row_of: dict[str, int] = {}
    for plan in plans:
        if plan.code:
            first_row_of.setdefault(plan.code, plan.number)
    by_code: dict[str, _Plan] = {}  # the rows above the current one
    by_name: dict[str, _Plan] = {}
    by_login: dict[str, _Plan] = {}
    for plan in plans:
        if plan.code:
            by_code.setdefault(plan.code, plan)
        if plan.action == "skip":
            continue
        problems: list[dict[str, Any]] = []
        fail = functools.partial(_add_error, problems, plan.number)
        if plan.code and by_code[plan.code] is not plan:
            fail("code", N_("repeats the code of row %(row)s"), "duplicate", row=by_code[plan.code].number)
        if not plan.code and plan.name and by_name.setdefault(plan.name, plan) is not plan:
            first = by_name[plan.name].number
            fail(
                "name", N_("repeats row %(row)s (a row without a code is matched by its name)"), "duplicate", row=first
            )
        if plan.admin is not None:
            for column, value in (("admin_email", plan.admin.email), ("admin_mobile", plan.admin.mobile)):
                if value and by_login.setdefault(value, plan) is not plan:
                    message = N_("is the admin of row %(row)s too; a person can be the admin of one enterprise only")
                    fail(column, message, "duplicate", row=by_login[value].number)
        if plan.parent_code and plan.parent_id is None:
            parent = by_code.get(plan.parent_code) if plan.parent_code != plan.code else None
            below = first_row_of.get(plan.parent_code, 0)
            if plan.parent_code == plan.code:
                fail("parent_code", N_("is the enterprise's own code"), "invalid")
            elif parent is None and below > plan.number:
                message = N_("refers to row %(row)s below; list a parent enterprise above the enterprises under it")
                fail("parent_code", message, "order", row=below)
            elif parent is None:
                fail("parent_code", N_("is not the code of an enterprise: %(code)s"), "unknown", code=plan.parent_code)
            elif parent.action == "error":
                fail("parent_code", N_("refers to row %(row)s, which has errors"), "parent_invalid", row=parent.number)
        if problems:
            errors.extend(problems)
            plan.action = "error"
    return plans


def _check_quota(plans: list[_Plan], usage: quotas.Usage, errors: list[dict[str, Any]]) -> None:
    """All or nothing: the rows past what the quota leaves (in file order) are errors of their own."""
    enterprises, users = usage.enterprises_used, usage.external_users_used
    for plan in plans:
        if plan.action != "create":
            continue
        if enterprises + 1 > usage.max_enterprises:
            message, limit = N_("would pass the quota of %(max)s partner enterprises"), usage.max_enterprises
        elif plan.admin is not None and users + 1 > usage.max_external_users:
            message, limit = N_("would pass the quota of %(max)s external users"), usage.max_external_users
        else:
            enterprises += 1
            users += 1 if plan.admin is not None else 0
            continue
        errors.append(_error(plan.number, "quota", message, "quota_exceeded", {"max": limit}))
        plan.action = "error"


# --- running ------------------------------------------------------------------------------------------


class _Rollback(Exception):
    """Leaves an all-or-nothing transaction without writing anything."""


class _Run:
    def __init__(
        self,
        services: Services,
        tenant_id: uuid.UUID,
        job_id: uuid.UUID,
        mode: str,
        total: int,
        actor: Actor | None,
        channel: Channel,
        callback: Progress | None,
    ) -> None:
        self.services, self.db, self.job_id, self.mode, self.total = services, services.db, job_id, mode, total
        self.actor = actor
        self.ctx = tenant_context(tenant_id, actor=actor, channel=channel)
        self.callback = callback
        self.processed = self.committed = 0
        self.created = 0  # rows committed so far (valid_rows; all_or_nothing commits them all at once)
        self.last_commit = time.monotonic()
        # SQLite lets one transaction write at a time: while the all-or-nothing transaction is open, progress
        # cannot be committed beside it (it is committed with the result instead).
        self.commit_progress = True

    async def step(self) -> None:
        self.processed += 1
        if self.callback is not None:
            self.callback(self.processed, self.total)
        due = (
            self.processed - self.committed >= PROGRESS_BATCH or time.monotonic() - self.last_commit > PROGRESS_SECONDS
        )
        if self.commit_progress and due:
            async with self.db.session(self.ctx) as session:
                await session.execute(
                    update(ImportJob)
                    .where(ImportJob.id == self.job_id)
                    .values(processed_rows=self.processed)
                    .execution_options(synchronize_session=False)
                )
            self.committed, self.last_commit = self.processed, time.monotonic()

    async def execute(self, rows: list[Row]) -> ImportResult:
        errors: list[dict[str, Any]] = []
        async with self.db.session(self.ctx) as session:
            lookups = await _Lookups.load(session, rows)
            plans = _check_file(rows, lookups, errors)
            if self.mode == "all_or_nothing":
                _check_quota(plans, await quotas.usage(session), errors)
        skipped = sum(1 for p in plans if p.action == "skip")
        if self.mode == "all_or_nothing":
            if errors:
                self.processed = len(plans)
                if self.callback is not None:
                    self.callback(self.processed, self.total)
                return await self.finish("done", errors, created=0, skipped=skipped)
            return await self._all_or_nothing(plans, skipped)
        return await self._each_row(plans, errors, skipped)

    async def _create(self, session: AsyncSession, plan: _Plan, created: dict[str, uuid.UUID]) -> CreatedEnterprise:
        parent_id = plan.parent_id
        if plan.parent_code and parent_id is None:
            parent_id = created.get(plan.parent_code)
            if parent_id is None:
                raise ValidationFailed.single("parent_code", N_("refers to an enterprise that was not imported"))
        assert plan.partner_type_id is not None
        data = NewEnterprise(
            plan.name,
            plan.partner_type_id,
            plan.tier_id,
            plan.region_id,
            parent_id,
            plan.code,
            plan.contact_phone,
        )
        return await create_enterprise(session, self.actor, self.services.passwords, data, plan.admin)

    async def _all_or_nothing(self, plans: list[_Plan], skipped: int) -> ImportResult:
        errors: list[dict[str, Any]] = []
        links: list[tuple[int, str, str]] = []
        created: dict[str, uuid.UUID] = {}
        count = 0
        self.commit_progress = self.db.dialect != "sqlite"
        try:
            async with self.db.session(self.ctx) as session:
                for plan in plans:
                    if plan.action == "create":
                        try:
                            async with session.begin_nested():
                                made = await self._create(session, plan, created)
                        except (DomainError, IntegrityError) as exc:
                            errors.extend(_errors_of(plan.number, exc, bool(plan.admin and plan.admin.email)))
                        else:
                            count += 1
                            if plan.code:
                                created[plan.code] = made.link.id
                            if made.setup_credential:
                                links.append((plan.number, plan.login, made.setup_credential))
                    await self.step()
                if errors:
                    raise _Rollback
                job = await self._record(session, "done", [], created=count, skipped=skipped)
        except _Rollback:
            self.commit_progress = True
            return await self.finish("done", errors, created=0, skipped=skipped)
        return ImportResult(job, links)

    async def _each_row(self, plans: list[_Plan], errors: list[dict[str, Any]], skipped: int) -> ImportResult:
        links: list[tuple[int, str, str]] = []
        created: dict[str, uuid.UUID] = {}
        for plan in plans:
            if plan.action == "create":
                try:
                    async with self.db.session(self.ctx) as session:
                        made = await self._create(session, plan, created)
                except (DomainError, IntegrityError) as exc:
                    errors.extend(_errors_of(plan.number, exc, bool(plan.admin and plan.admin.email)))
                else:
                    self.created += 1  # committed
                    if plan.code:
                        created[plan.code] = made.link.id
                    if made.setup_credential:
                        links.append((plan.number, plan.login, made.setup_credential))
            await self.step()
        result = await self.finish("done", errors, created=self.created, skipped=skipped)
        result.setup_links = links
        return result

    async def _record(
        self, session: AsyncSession, status: str, errors: list[dict[str, Any]], *, created: int, skipped: int
    ) -> ImportJob:
        job = await get_job(session, self.job_id)
        ordered = sorted(errors, key=lambda e: (e["row"] is not None, e["row"] or 0))
        if len(ordered) > MAX_REPORTED_ERRORS:
            more = len(ordered) - MAX_REPORTED_ERRORS
            ordered = [
                *ordered[:MAX_REPORTED_ERRORS],
                _error(None, "file", N_("... and %(count)s more errors"), "truncated", {"count": more}),
            ]
        job.status = status
        job.errors = ordered
        job.created_count, job.skipped_count = created, skipped
        job.processed_rows = self.processed if status == "failed" else self.total
        job.total_rows = self.total
        job.finished_at = utcnow()
        await session.flush()
        return job

    async def finish(self, status: str, errors: list[dict[str, Any]], *, created: int, skipped: int) -> ImportResult:
        async with self.db.session(self.ctx) as session:
            job = await self._record(session, status, errors, created=created, skipped=skipped)
        return ImportResult(job)


# --- export -------------------------------------------------------------------------------------------


async def export_rows(session: AsyncSession) -> list[list[str]]:
    """Every enterprise of the programme as the columns of EXPORT_COLUMNS (the import's own columns first)."""
    parent = aliased(EnterpriseLink)
    same = EnterpriseLink.tenant_id
    result = await session.execute(
        select(EnterpriseLink, PartnerType.code, PartnerTier.code, Region.code, parent.code, parent.name)
        .join(PartnerType, (PartnerType.tenant_id == same) & (PartnerType.id == EnterpriseLink.partner_type_id))
        .outerjoin(PartnerTier, (PartnerTier.tenant_id == same) & (PartnerTier.id == EnterpriseLink.tier_id))
        .outerjoin(Region, (Region.tenant_id == same) & (Region.id == EnterpriseLink.region_id))
        .outerjoin(parent, (parent.tenant_id == same) & (parent.id == EnterpriseLink.parent_id))
        .order_by(EnterpriseLink.name, EnterpriseLink.id)
    )
    admins: dict[uuid.UUID, list[tuple[str, str, str]]] = {}
    people = await session.execute(
        select(Membership.link_id, Membership.display_name, ExternalIdentity.email, ExternalIdentity.mobile)
        .join(ExternalIdentity, ExternalIdentity.id == Membership.identity_id)
        .where(Membership.is_enterprise_admin.is_(True), Membership.status != "disabled")
        .order_by(Membership.created_at, Membership.id)
    )
    for link_id, name, email, mobile in people.all():
        admins.setdefault(link_id, []).append((name, email or "", mobile or ""))
    rows = []
    for link, type_code, tier_code, region_code, parent_code, parent_name in result.all():
        its = admins.get(link.id, [])
        rows.append(
            [
                link.name,
                link.code or "",
                type_code,
                tier_code or "",
                region_code or "",
                parent_code or "",
                link.contact_phone or "",
                "; ".join(a[0] for a in its),
                "; ".join(a[1] for a in its if a[1]),
                "; ".join(a[2] for a in its if a[2]),
                parent_name or "",
                link.status,
                link.created_at.strftime("%Y-%m-%d %H:%M"),
            ]
        )
    return rows


def workbook_bytes(header: Iterable[str], rows: Iterable[list[str]], title: str = "Enterprises") -> bytes:
    """An XLSX workbook of text cells. Every cell is written as a string, so a value such as "=HYPERLINK(…)"
    stays text and is never run as a formula by the spreadsheet program."""
    import openpyxl
    from openpyxl.cell import WriteOnlyCell

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    header = list(header)
    sheet.freeze_panes = "A2"
    for position in range(1, len(header) + 1):
        sheet.column_dimensions[openpyxl.utils.get_column_letter(position)].width = 24 if position <= 2 else 16

    def cells(values: Iterable[str]) -> list[WriteOnlyCell]:
        out = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            out.append(cell)
        return out

    sheet.append(cells(header))
    for row in rows:
        sheet.append(cells(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


async def export_xlsx(session: AsyncSession) -> bytes:
    rows = await export_rows(session)
    return await asyncio.to_thread(workbook_bytes, EXPORT_COLUMNS, rows)
