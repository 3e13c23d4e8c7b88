"""Bulk onboarding: enterprises and their first admins from a CSV or XLSX file, and the enterprise list
as an XLSX workbook.

An import is a job. `create_job` checks the file itself (type, size, header, row count) and stores the job
queued; `run_job` validates every row against the programme (codes, formats, duplicates, parents, quota),
then writes: all rows in one transaction ("all_or_nothing": one bad row and nothing is written), or one
transaction per row ("valid_rows": good rows are created, bad ones reported). Errors carry the
spreadsheet row number (the header is row 1). A row whose code (or, without a code, exact name) already
exists is skipped, so running the same file again creates nothing new. Rows are created by the same service
function as the API's "create enterprise" (people.create_enterprise): quotas, events and audit entries apply.

The package: columns (the file's columns), reading (CSV/XLSX to rows, through portal.spreadsheets),
validation (rows to plans), jobs (create, get), running (run_job), worker (the subscriber that runs a queued
job on the workers, and the scheduled job that fails those whose worker stopped), export (XLSX of the
enterprise list).
"""

from __future__ import annotations

from interconnect.imports.columns import COLUMNS, EXPORT_COLUMNS, IGNORED_COLUMNS, REQUIRED_COLUMNS
from interconnect.imports.export import export_rows, export_xlsx
from interconnect.imports.jobs import IMPORT_REQUESTED, MODES, create_job, get_job
from interconnect.imports.reading import MAX_ROWS, Row, parse_file
from interconnect.imports.running import (
    MAX_REPORTED_ERRORS,
    PROGRESS_BATCH,
    PROGRESS_SECONDS,
    ImportResult,
    Progress,
    run_job,
)
from interconnect.imports.worker import STALE_IMPORTS, SUBSCRIBER, run_stored_job

__all__ = [
    "COLUMNS",
    "EXPORT_COLUMNS",
    "IGNORED_COLUMNS",
    "IMPORT_REQUESTED",
    "MAX_REPORTED_ERRORS",
    "MAX_ROWS",
    "MODES",
    "PROGRESS_BATCH",
    "PROGRESS_SECONDS",
    "REQUIRED_COLUMNS",
    "STALE_IMPORTS",
    "SUBSCRIBER",
    "ImportResult",
    "Progress",
    "Row",
    "create_job",
    "export_rows",
    "export_xlsx",
    "get_job",
    "parse_file",
    "run_job",
    "run_stored_job",
]
