"""Text that people chose (a colleague's display name, a workspace or an enterprise name) as a
notification shows it: in an email sent from the platform's address, such a name must not become a way
to phish its reader. So it is one line without control, invisible or direction-changing characters, and
nothing in it is left that a mail client would turn into a link: a URL's scheme, `www.` and the dots of
anything that looks like a host name or an email address are written as `[:]` and `[.]`, as security
notices write addresses that must not be clicked. A one-time link the platform made (`link`) is left as
it is; so are numbers ("12,800.00")."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

# Unicode categories dropped: controls (Cc, with line breaks and tabs), formats (Cf: zero-width and
# direction-changing characters), line and paragraph separators (Zl, Zp), unassigned and surrogates.
_DROPPED = frozenset({"Cc", "Cf", "Zl", "Zp", "Cn", "Cs", "Co"})
# A dot as mail clients read one in a host name: ASCII, full-width, ideographic and halfwidth ideographic.
_DOT = "[.\uff0e\u3002\uff61]"
# Schemes that mail clients link without "//".
_BARE_SCHEMES = "mailto|tel|sms|callto|javascript|data|file|weixin"
# Anything that could be a link: "scheme://", a bare scheme above, "www.", or a dot followed by letters
# (a host's top-level domain: "evil.com", "a.example/x", "bob@evil.cn").
_LINKISH = re.compile(rf"(?i)[a-z][a-z0-9+.-]*:/|\b(?:{_BARE_SCHEMES}):|www{_DOT}|\w{_DOT}[^\W\d_]{{2}}")
_SCHEME = re.compile(rf"(?i)\b([a-z][a-z0-9+.-]*:(?=/)|(?:{_BARE_SCHEMES}):)")
_DOTS = re.compile(_DOT)
_SPACES = re.compile(r"\s+")
LINK_PARAM = "link"


def shown_name(text: str) -> str:
    cleaned = "".join(" " if unicodedata.category(c) in _DROPPED else c for c in text)
    words = _SPACES.sub(" ", cleaned).strip().split(" ")
    return " ".join(_defanged(w) if _LINKISH.search(w) else w for w in words)


def _defanged(word: str) -> str:
    return _DOTS.sub("[.]", _SCHEME.sub(lambda m: m.group(1)[:-1] + "[:]", word))


def shown_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """The template parameters with every text but the platform's own link passed through `shown_name`."""
    return {k: shown_name(v) if isinstance(v, str) and k != LINK_PARAM else v for k, v in params.items()}
