"""Function permissions as routes declare them, and the checker the one guard asks.

A route declares `opt={"permission": ("object", "action")}` or `opt={"public": True}`; the application
refuses to start if any route declares neither. `SIGNED_IN` is the permission every authenticated actor
holds (their own profile, signing out). Objects under "partner." are the partner side and only ever
granted to external actors; every other object belongs to the upstream's own staff. Roles grant
(object, action) pairs, "*" matching any; components contribute their grants. The roles package
replaces this checker with compiled per-tenant policies.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from portal.actor import Actor

Permission = tuple[str, str]
Grant = tuple[str, str, str, str]  # (actor kind, role, object, action)

SIGNED_IN: Permission = ("session", "use")
PARTNER_PREFIX = "partner."
ANY = "*"

KERNEL_GRANTS: tuple[Grant, ...] = (
    ("internal", "admin", ANY, ANY),
    ("internal", "staff", ANY, "read"),
    ("internal", "staff", ANY, "export"),
)


def public() -> dict[str, object]:
    return {"public": True}


def requires(obj: str, action: str) -> dict[str, object]:
    return {"permission": (obj, action)}


class PermissionChecker(Protocol):
    def allows(self, actor: Actor, permission: Permission) -> bool: ...


class RolePermissions:
    def __init__(self, grants: Iterable[Grant]) -> None:
        self._granted: dict[tuple[str, str], set[Permission]] = {}
        for kind, role, obj, action in grants:
            self._granted.setdefault((kind, role), set()).add((obj, action))

    def allows(self, actor: Actor, permission: Permission) -> bool:
        if permission == SIGNED_IN:
            return True
        obj, action = permission
        if obj.startswith(PARTNER_PREFIX) != (actor.kind == "external"):
            return False
        for role in actor.roles:
            granted = self._granted.get((actor.kind, role), set())
            if {(obj, action), (obj, ANY), (ANY, action), (ANY, ANY)} & granted:
                return True
        return False
