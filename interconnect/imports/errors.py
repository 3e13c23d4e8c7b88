"""The errors a job reports: a row (None: the file), the file's column, and the message id with its values
so that a page can show the message in its reader's language."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError

from portal.errors import DomainError, QuotaExceeded, ValidationFailed
from portal.i18n import N_

# Fields of the errors the services raise, named as the file's columns.
_FIELD_FOR = {
    "display_name": "admin_name",
    "email": "admin_email",
    "mobile": "admin_mobile",
    "parent": "parent_code",
    "title": "admin_name",
}


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
