"""`portal partners import FILE` and `portal partners export`: bulk onboarding from the command line."""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from pathlib import Path
from typing import Any, TextIO

from interconnect import quota_cli

BAR_WIDTH = 30


class ProgressBar:
    """`[#########.....................] 30/100` on one line of stderr, redrawn as rows are processed."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr  # the stderr of the moment, not of the import
        self.drawn = -1

    def __call__(self, done: int, total: int) -> None:
        filled = BAR_WIDTH * done // total if total else BAR_WIDTH
        if filled == self.drawn and done != total:
            return
        self.drawn = filled
        self.stream.write(f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total}")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


def _fail(message: str) -> None:
    sys.exit(f"error: {message}")


def _print_errors(errors: list[dict[str, Any]], stream: TextIO) -> None:
    for e in errors:
        where = f"row {e['row']}" if e.get("row") is not None else "file"
        stream.write(f"  {where}, {e['field']}: {e['message']}\n")


async def _tenant_id(services: Any, slug: str) -> uuid.UUID:
    from sqlalchemy import select

    from portal.db.context import PUBLIC
    from portal.identity.models import Tenant

    async with services.db.session(PUBLIC) as session:
        tenant = await session.scalar(select(Tenant).where(Tenant.slug == slug.strip().lower()))
    if tenant is None:
        _fail(f"no workspace {slug!r}")
    assert tenant is not None
    return tenant.id


def cmd_import(args: argparse.Namespace) -> None:
    from interconnect.imports import create_job, run_job
    from portal.cli import load_settings, with_services
    from portal.db import migrate
    from portal.db.context import tenant_context
    from portal.errors import ValidationFailed

    path = Path(args.file)
    if not path.is_file():
        _fail(f"no such file: {path}")
    content = path.read_bytes()
    settings = load_settings()
    migrate.upgrade(settings)

    async def work(services: Any) -> int:
        tenant_id = await _tenant_id(services, args.workspace)
        try:
            async with services.db.session(tenant_context(tenant_id, channel="cli")) as session:
                job, rows = await create_job(session, None, path.name, content, args.mode, queue=False)
        except ValidationFailed as exc:
            sys.stderr.write(f"{path.name} cannot be imported:\n")
            for e in exc.errors:
                sys.stderr.write(f"  {e.field}: {e.text}\n")
            return 1
        print(f"importing {job.total_rows} rows from {path.name} into {args.workspace} ({args.mode})", flush=True)
        result = await run_job(services, tenant_id, job.id, rows, ProgressBar(), channel="cli")
        job = result.job
        bad = _rows(job)
        print(
            f"created {job.created_count}, skipped {job.skipped_count} (already there), "
            f"{bad} row{'' if bad == 1 else 's'} with errors",
            flush=True,
        )
        if job.errors:
            if job.mode == "all_or_nothing" and job.status == "done":
                sys.stderr.write("nothing was imported; fix these rows, or use --mode valid_rows to import the rest:\n")
            else:
                sys.stderr.write("these rows were not imported:\n")
            _print_errors(job.errors, sys.stderr)
        interconnect = services.extensions["interconnect"]
        if result.setup_links:
            print(
                "set-password links for the new admins no email or SMS reaches (send each to its admin; valid 7 days,"
                " once):"
            )
            for row, login, credential in result.setup_links:
                print(f"  row {row}  {login}  {interconnect.setup_url(credential)}")
        return 1 if job.errors or job.status != "done" else 0

    sys.exit(asyncio.run(with_services(settings, work)))


def _rows(job: Any) -> int:
    return len({e["row"] for e in job.errors if e.get("row") is not None})


def cmd_export(args: argparse.Namespace) -> None:
    from sqlalchemy import select

    from interconnect.imports import export_xlsx
    from portal.cli import load_settings, with_services
    from portal.db import migrate
    from portal.db.context import tenant_context
    from portal.identity.models import Tenant

    settings = load_settings()
    migrate.upgrade(settings)
    target = Path(args.output)

    async def work(services: Any) -> bytes:
        tenant_id = await _tenant_id(services, args.workspace)
        async with services.db.session(tenant_context(tenant_id, channel="cli")) as session:
            time_zone = (await session.scalars(select(Tenant.time_zone).where(Tenant.id == tenant_id))).one()
            return await export_xlsx(session, time_zone)

    content = asyncio.run(with_services(settings, work))
    target.write_bytes(content)
    print(f"wrote {target}")


def register_cli(sub: Any) -> None:
    from interconnect.imports import MODES

    partners = sub.add_parser("partners", help="partner enterprises: bulk import and export")
    partners_sub = partners.add_subparsers(dest="partners_command", required=True)
    imp = partners_sub.add_parser(
        "import",
        help="import enterprises and their first admins from a .csv or .xlsx file",
        description="Columns: name, code, partner_type, tier, region, parent_code, contact_phone, admin_name, "
        "admin_email, admin_mobile (English or Chinese headers). Rows whose code (or, without a code, name) "
        "exists already are skipped, so a file can be imported again.",
    )
    imp.add_argument("file")
    imp.add_argument("--workspace", required=True, help="the upstream tenant's workspace (slug)")
    imp.add_argument(
        "--mode",
        choices=MODES,
        default="all_or_nothing",
        help="all_or_nothing (default): any bad row and nothing is imported; valid_rows: import the good rows",
    )
    imp.set_defaults(func=cmd_import)
    exp = partners_sub.add_parser("export", help="export every enterprise to an .xlsx file")
    exp.add_argument("--workspace", required=True)
    exp.add_argument("-o", "--output", required=True, help="the .xlsx file to write")
    exp.set_defaults(func=cmd_export)
    quota_cli.register(sub)
