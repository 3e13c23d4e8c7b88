"""What a follow-up is made of, on a lead or a deal alike: its kind (call, visit, message), a note, and
the next step with its date, on which the follow-up reminder job reminds its author."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from apps.agent.leads.models import FOLLOW_UP_KINDS
from portal.errors import FieldError, ValidationFailed
from portal.i18n import N_


def follow_up_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """The checked fields of a follow-up (a form sends text, the API typed values), or every error."""
    errors: list[FieldError] = []
    kind = values.get("kind")
    if kind not in FOLLOW_UP_KINDS:
        errors.append(
            FieldError("kind", N_("must be one of %(choices)s"), "invalid", {"choices": ", ".join(FOLLOW_UP_KINDS)})
        )
    note = (values.get("note") or "").strip()
    if not note:
        errors.append(FieldError("note", N_("is required"), "required"))
    elif len(note) > 2000:
        errors.append(FieldError("note", N_("may be at most %(max)s characters"), "too_long", {"max": 2000}))
    next_step = (values.get("next_step") or "").strip() or None
    if next_step and len(next_step) > 200:
        errors.append(FieldError("next_step", N_("may be at most %(max)s characters"), "too_long", {"max": 200}))
    next_date = values.get("next_date")
    if isinstance(next_date, str):
        try:
            next_date = date.fromisoformat(next_date.strip()) if next_date.strip() else None
        except ValueError:
            errors.append(FieldError("next_date", N_("must be a date (YYYY-MM-DD)"), "invalid"))
    if errors:
        raise ValidationFailed(errors)
    return {"kind": kind, "note": note, "next_step": next_step, "next_date": next_date, "remind_on": next_date}
