"""Which redirect URIs a client may register. They are compared whole with a request's redirect_uri (no
patterns, no prefixes), so what is registered is exactly where codes may go (RFC 9700 §4.1):
- https, to a host (any client);
- http to a loopback address, where a native app listens for the redirect on a port of its own (RFC 8252
  §7.3), and an app's own scheme named after a domain it owns, e.g. `com.example.app:/callback` (RFC 8252
  §7.1): public clients only, since only native apps receive codes that way. The port of a loopback URI is
  the one thing a request may change: the system gives the app a free one each time (RFC 8252 §7.3).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from portal.errors import FieldError
from portal.i18n import N_

MAX_URIS = 10
MAX_LENGTH = 2000
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
# a reverse domain name: at least two labels, as RFC 8252 §7.1 asks of a private-use scheme
PRIVATE_SCHEME = re.compile(r"^[a-z][a-z0-9+\-]*(\.[a-z0-9+\-]+)+$")


def _problem(uri: str, kind: str) -> str | None:
    if len(uri) > MAX_LENGTH or any(c.isspace() for c in uri):
        return N_("Not a redirect URI: %(uri)s")
    try:
        parts = urlsplit(uri)
    except ValueError:
        return N_("Not a redirect URI: %(uri)s")
    if not parts.scheme or parts.fragment or "#" in uri:
        return N_("Not an absolute URI without a fragment: %(uri)s")
    scheme = parts.scheme.lower()
    if scheme == "https":
        return None if parts.hostname else N_("Not a redirect URI: %(uri)s")
    if kind != "public":
        return N_("A server application's redirect URI uses https: %(uri)s")
    if scheme == "http":
        return None if parts.hostname in LOOPBACK else N_("Plain http is allowed only to a loopback address: %(uri)s")
    if PRIVATE_SCHEME.match(scheme):
        return None
    return N_("An app's own scheme is named after a domain the app owns, e.g. com.example.app: %(uri)s")


def checked(uris: list[str], kind: str) -> tuple[list[str], FieldError | None]:
    """The URIs as they will be stored (blank ones dropped, each once), or the first problem with them."""
    kept = list(dict.fromkeys(u.strip() for u in uris if u and u.strip()))
    if not kept:
        return kept, FieldError("redirect_uris", N_("Enter at least one redirect URI"), "required")
    if len(kept) > MAX_URIS:
        return kept, FieldError("redirect_uris", N_("At most %(n)s redirect URIs"), "too_many", {"n": MAX_URIS})
    for uri in kept:
        problem = _problem(uri, kind)
        if problem:
            return kept, FieldError("redirect_uris", problem, "invalid", {"uri": uri})
    return kept, None


def same_loopback_but_port(asked: str, registered: str) -> bool:
    """Whether `asked` is the registered loopback URI on another port (RFC 8252 §7.3)."""
    try:
        a, r = urlsplit(asked), urlsplit(registered)
        a.port, r.port  # noqa: B018  (a malformed port raises here)
    except ValueError:
        return False
    return (
        a.scheme == r.scheme == "http"
        and r.hostname in LOOPBACK
        and a.hostname == r.hostname
        and (a.path, a.query, a.fragment, a.username, a.password) == (r.path, r.query, r.fragment, None, None)
    )
