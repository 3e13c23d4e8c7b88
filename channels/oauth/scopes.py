"""What an OAuth client may be granted: "profile" (the partner's objects of no app: their profile and
colleagues) and each partner app by its key (its objects). A scope limits a token; it never adds to what the
person's roles allow (portal.http.guard). Routes that mint or manage credentials, or reach other workspaces,
are never an application's (`portal.permissions.not_delegated`)."""

from __future__ import annotations

from portal.i18n import N_, gettext
from portal.permissions import PROFILE_SCOPE
from roles.presets import PARTNER_APPS

SCOPE_KEYS: tuple[str, ...] = (PROFILE_SCOPE, *(key for key, _label in PARTNER_APPS))
_LABELS: dict[str, str] = {PROFILE_SCOPE: N_("Profile"), **dict(PARTNER_APPS)}


def normalised(scopes: str | list[str] | tuple[str, ...] | None) -> str:
    """A scope string with each known scope once, in one order: what is stored and answered."""
    chosen = set(scopes.split() if isinstance(scopes, str) else scopes or ())
    return " ".join(key for key in SCOPE_KEYS if key in chosen)


def scope_label(key: str) -> str:
    """A scope's name in the page's language (its key if unknown)."""
    label = _LABELS.get(key)
    return gettext(label) if label else key


def scope_description(key: str) -> str:
    """What the consent page says an application given this scope may do."""
    if key == PROFILE_SCOPE:
        return gettext(N_("Your profile and your colleagues, as far as your role allows"))
    if key not in _LABELS:
        return key
    return gettext(N_("Use the app “%(app)s” as far as your role allows"), app=gettext(_LABELS[key]))
