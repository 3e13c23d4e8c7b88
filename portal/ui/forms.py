"""Reading a posted form: its values, ids and numbers, and where to go next."""

from __future__ import annotations

import posixpath
import re
import uuid
from collections.abc import Callable

from litestar.params import URLEncodedBody

from portal.errors import FieldError, ValidationFailed
from portal.http.inputs import whole_number
from portal.i18n import N_

Form = URLEncodedBody[dict[str, str]]
# A form whose checkboxes send one name several times.
MultiForm = URLEncodedBody[dict[str, str | list[str]]]
_PATH_END = re.compile(r"[?#]")
_DOT = re.compile(r"%2e", re.IGNORECASE)


def safe_next(target: str | None, default: str = "/console") -> str:
    """Only same-site paths: an open redirect would let a phishing link borrow our login page. The path is
    normalised first as a browser would resolve it (dot segments, "%2e" too, and repeated slashes), so
    "/console/../..//evil.example/x" is checked, and sent back, as "/evil.example/x"."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    end = _PATH_END.search(target)
    cut = end.start() if end else len(target)
    path, tail = target[:cut], target[cut:]  # the query and fragment are kept as given
    dotted = _DOT.sub(".", path)
    normal = re.sub("/+", "/", posixpath.normpath(dotted))
    if dotted.endswith("/") and normal != "/":
        normal += "/"
    return normal + tail


def form_values(data: dict[str, str | list[str]], *names: str) -> list[str]:
    """Every value sent under any of these names (checkboxes send one name several times)."""
    found: list[str] = []
    for name in names:
        value = data.get(name)
        for item in [value] if isinstance(value, str) else value or []:
            if item.strip() and item.strip() not in found:
                found.append(item.strip())
    return found


def form_value(data: dict[str, str | list[str]], name: str) -> str:
    value = data.get(name, "")
    return (value[-1] if value else "") if isinstance(value, list) else value


def uuid_or_none(value: str | None) -> uuid.UUID | None:
    """A filter or select value: empty means "any" / "none"; anything unreadable is ignored likewise."""
    if not value or not value.strip():
        return None
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        return None


def form_uuid(data: dict[str, str], name: str, field: str) -> uuid.UUID | None:
    """A select of the form: empty is "none", a value that is not an id is a field error."""
    value = data.get(name, "").strip()
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValidationFailed.single(field, N_("is not known"), "unknown") from None


def required_uuid(data: dict[str, str], name: str) -> uuid.UUID:
    """A select the person must choose in (its first option is an empty "choose…")."""
    value = form_uuid(data, name, name)
    if value is None:
        raise ValidationFailed.single(name, N_("is required"), "required")
    return value


def form_int(data: dict[str, str], name: str) -> int | None:
    value = data.get(name, "").strip()
    if not value:
        return None
    return whole_number(name, value)


def check_all(*checks: Callable[[], object]) -> None:
    """Run every check and report all their field errors at once, not only the first refusal."""
    errors: list[FieldError] = []
    for check in checks:
        try:
            check()
        except ValidationFailed as error:
            errors.extend(error.errors)
    if errors:
        raise ValidationFailed(errors)
