"""What a partner domain may be: a host name of at least two labels under a real top-level domain, not an
address and not the platform's own host. Unicode names are kept in their ASCII (IDNA) form, as DNS and the
Host header carry them."""

from __future__ import annotations

import re

from portal.errors import FieldError
from portal.i18n import N_

MAX_LENGTH = 253
LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
TOP_LEVEL = re.compile(r"^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$")
# never anybody's public zone (RFC 6761, RFC 6762); .example is kept for documentation and trials
RESERVED = frozenset({"localhost", "invalid", "local", "test"})


def _problem(field: str) -> FieldError:
    return FieldError(field, N_("Enter a domain name such as portal.example.com"), "invalid")


def checked_domain(value: str, platform_host: str, field: str = "domain") -> tuple[str, FieldError | None]:
    """The domain as it will be kept (lowercase, ASCII, no final dot), or what is wrong with it."""
    text = value.strip().lower().rstrip(".")
    if not text:
        return text, FieldError(field, N_("Enter the domain"), "required")
    if len(text) > MAX_LENGTH * 2 or any(not c.isprintable() or c.isspace() for c in text):
        return "", _problem(field)
    try:
        name = text.encode("idna").decode("ascii")
    except UnicodeError:
        return "", _problem(field)
    labels = name.split(".")
    if len(name) > MAX_LENGTH or len(labels) < 2 or not all(LABEL.match(label) for label in labels):
        return name, _problem(field)
    if not TOP_LEVEL.match(labels[-1]) or labels[-1] in RESERVED:
        return name, _problem(field)
    if name == platform_host:
        return name, FieldError(field, N_("This is the platform's own address"), "platform_host")
    return name, None


def record_name(domain: str) -> str:
    """Where the verification TXT record is published."""
    return f"_portal-verify.{domain}"
