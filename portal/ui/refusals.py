"""A refused request as text on a page: each field's message, or one line saying why."""

from __future__ import annotations

from portal.errors import DomainError, ValidationFailed
from portal.i18n import gettext


def field_errors(error: ValidationFailed) -> dict[str, str]:
    return {e.field: gettext(e.message, **e.params) for e in error.errors}


def message_of(error: DomainError) -> str:
    return gettext(error.detail, **error.params)


def refusal_of(error: DomainError) -> str:
    """One line saying why: a refused form's field messages, or the error's own message."""
    if isinstance(error, ValidationFailed):
        return "; ".join(dict.fromkeys(field_errors(error).values()))
    return message_of(error)
