"""Function permissions as routes declare them, and the checker the one guard asks.

A route declares `opt={"permission": ("object", "action")}` or `opt={"public": True}`; the application
refuses to start if any route declares neither. `SIGNED_IN` is the permission every authenticated actor
holds (their own profile, signing out). The checker here covers upstream staff's built-in roles; the
roles package replaces it with external roles and compiled casbin policies.
"""

from __future__ import annotations

from typing import Protocol

from portal.actor import Actor

Permission = tuple[str, str]

SIGNED_IN: Permission = ("session", "use")
READ_ACTIONS = frozenset({"read", "export"})


def public() -> dict[str, object]:
    return {"public": True}


def requires(obj: str, action: str) -> dict[str, object]:
    return {"permission": (obj, action)}


class PermissionChecker(Protocol):
    def allows(self, actor: Actor, permission: Permission) -> bool: ...


class StaffRolePermissions:
    """Built-in internal roles: "admin" may do everything in its tenant; "staff" may read."""

    def allows(self, actor: Actor, permission: Permission) -> bool:
        if permission == SIGNED_IN:
            return True
        if actor.kind != "internal":
            return False
        if "admin" in actor.roles:
            return True
        return "staff" in actor.roles and permission[1] in READ_ACTIONS
