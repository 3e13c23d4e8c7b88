"""The dates a request may carry: from 1970-01-01 to 2100-12-31, whatever the field (an order's requested
delivery date, a payment's day, a price list's validity, a statement's period, a list's since/until).

A year 1 or 9999 is a typo or a probe: it means nothing to the business, and a day after 9999-12-31 does
not exist (a filter "until the end of that day" would fail). `date_error` is the one check; the input
middleware (portal.http.inputs) applies it before any handler runs to every query parameter, form field
and JSON key named like a field some route declares a `date` or `datetime` (the API's schemas and query
parameters; the pages' forms use the same names), so a handler only ever sees a plausible date.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, get_args

from litestar import Litestar

from portal.errors import FieldError, ValidationFailed
from portal.http.fields import fields_where
from portal.i18n import N_

FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2100, 12, 31)
# The year of a text that starts like an ISO date or date-time ("2026-12-04", "0001-01-01T00:00:00Z").
_YEAR = re.compile(r"\s*([+-]?\d+)-\d+-\d+")


def _out_of_range(field: str) -> FieldError:
    return FieldError(
        field,
        N_("must be a date from %(first)s to %(last)s"),
        "out_of_range",
        {"first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()},
    )


def date_error(field: str, value: date | str) -> FieldError | None:
    """Why `value` (a date, or a text that starts like one) is not a date a request may carry, or None. A
    text that is not a date at all is left to whoever parses it (it says "not a date")."""
    if isinstance(value, str):
        found = _YEAR.match(value)
        if found is None:
            return None
        year = int(found.group(1))
        return None if FIRST_DAY.year <= year <= LAST_DAY.year else _out_of_range(field)
    day = value.date() if isinstance(value, datetime) else value
    return None if FIRST_DAY <= day <= LAST_DAY else _out_of_range(field)


def check_date(field: str, value: date) -> date:
    """`value` if a request may carry it; else ValidationFailed naming `field`."""
    error = date_error(field, value)
    if error is not None:
        raise ValidationFailed([error])
    return value


def _mentions_date(annotation: Any) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, date):  # datetime too
        return True
    return any(_mentions_date(arg) for arg in get_args(annotation))


def date_fields(annotation: Any) -> set[str]:
    """The names of the fields typed as a date (or date-time) in a request schema and the schemas it holds."""
    return fields_where(annotation, _mentions_date)


def app_date_fields(app: Litestar) -> frozenset[str]:
    """Every name a route declares a date under: body fields and query parameters (built once)."""
    found: frozenset[str] | None = app.state.get("date_fields")
    if found is None:
        names: set[str] = set()
        for route in app.routes:
            for handler in getattr(route, "route_handlers", ()):
                for name, parameter in handler.parsed_fn_signature.parameters.items():
                    if name == "data":
                        names |= date_fields(parameter.annotation)
                    elif _mentions_date(parameter.annotation):
                        names.add(name)
        found = frozenset(names)
        app.state["date_fields"] = found
    return found
