"""Human labels for stored codes shown on pages (audit object types, actions, channels).

Message ids are marked with N_ and translated where shown; packages add their own object types here.
"""

from __future__ import annotations

from portal.i18n import N_

OBJECT_LABELS: dict[str, str] = {"internal_users": N_("Staff account")}
ACTION_LABELS: dict[str, str] = {"create": N_("Created"), "update": N_("Changed"), "delete": N_("Deleted")}
CHANNEL_LABELS: dict[str, str] = {"web": N_("Web"), "api": N_("API"), "cli": N_("Command line"), "system": N_("System")}


def label(kind: str, code: str) -> str:
    table = {"object": OBJECT_LABELS, "action": ACTION_LABELS, "channel": CHANNEL_LABELS}[kind]
    return table.get(code, code)
