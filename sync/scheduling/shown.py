"""What a tenant's staff see of a run, which is platform data: a run passes over every tenant.

Times, outcome, attempt and the count of items handled (a platform-wide number that names no tenant) are
shown as recorded. The error text is not: an exception's message can quote the rows it failed on, which
may be any tenant's, so staff see the kind of error (the exception's class) and the scheduler's own
messages; the whole text is for the platform's operator (`portal jobs runs NAME`)."""

from __future__ import annotations

import re

from sync.scheduling.duty import STOPPED_BY_SHUTDOWN, WORKER_STOPPED

OWN_MESSAGES = (WORKER_STOPPED, STOPPED_BY_SHUTDOWN)
_KIND = re.compile(r"[A-Za-z_][A-Za-z0-9_.]{0,80}")


def shown_error(error: str | None) -> str | None:
    if error is None or error in OWN_MESSAGES:
        return error
    kind = error.split(":", 1)[0].strip()
    return kind if _KIND.fullmatch(kind) else "error"
