"""Function permissions as routes declare them, the objects they name, and the access policy the one
guard asks.

A route declares `opt={"permission": ("object", "action")}` or `opt={"public": True}`; the application
refuses to start if any route declares neither, or names an object or action no component registered.
`SIGNED_IN` is the permission every authenticated actor holds (their own profile, signing out); such a
route may name its audience (`signed_in("internal")`). Objects
under "partner." are the partner side: only external roles are granted them, and only external actors
ever pass a check on them; every other object belongs to the upstream's own staff.

The kernel defines what an access policy answers; the roles package supplies the one in use (roles
stored per tenant, compiled into an index). Without it, only `SIGNED_IN` is allowed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from sqlalchemy import ColumnElement, update
from sqlalchemy.ext.asyncio import AsyncSession

from portal.actor import Actor
from portal.i18n import N_
from portal.identity.models import Tenant

Permission = tuple[str, str]

SIGNED_IN: Permission = ("session", "use")
PARTNER_PREFIX = "partner."
# Objects under "integration." are what an integration API key's scopes name (sync/integrations): no
# role is granted them, and only an actor of kind "integration" ever passes a check on them.
INTEGRATION_PREFIX = "integration."
ANY = "*"
# The built-in staff role every tenant starts with and its first user holds: every internal permission.
ADMIN_ROLE = "admin"
STANDARD_ACTIONS = ("read", "create", "update", "delete", "export", "approve")


@dataclass(frozen=True, slots=True)
class ProtectedObject:
    """Something roles grant actions on. `fields` are the ones field rules may hide or make read-only;
    `model` is the table of a data-scoped object (records with an owner and an enterprise); `app` is the
    partner app a partner object belongs to (a role opens it or not). `staff_view` names, for a partner
    object, the staff objects that show the same records and fields: a staff member previewing the
    portal sees the partner object only as far as they may read every one of them (none: never)."""

    name: str
    label: str
    actions: tuple[str, ...] = ("read",)
    fields: tuple[tuple[str, str], ...] = ()  # (field name, label msgid)
    model: Any = None
    app: str | None = None
    staff_view: tuple[str, ...] = ()

    @property
    def audience(self) -> Literal["internal", "external", "integration"]:
        if self.name.startswith(INTEGRATION_PREFIX):
            return "integration"
        return "external" if self.name.startswith(PARTNER_PREFIX) else "internal"


KERNEL_OBJECTS: tuple[ProtectedObject, ...] = (
    ProtectedObject("console", N_("Admin console"), ("read",)),
    ProtectedObject("staff.users", N_("Staff users"), ("read", "create", "update")),
    ProtectedObject("audit", N_("Audit log"), ("read",)),
    ProtectedObject("workspace", N_("Workspace settings"), ("read", "update")),
)


# What an application the person signed in to with OAuth may be granted (channels/): the key of a partner
# app (its objects: `ProtectedObject.app`), or this scope for the partner's objects of no app (their
# profile, their colleagues). A token limited to scopes reaches nothing outside them.
PROFILE_SCOPE = "profile"


def scope_of(obj: ProtectedObject) -> str:
    return obj.app or PROFILE_SCOPE


# A route that mints or manages the person's own credentials, or reaches past the workspace (the other
# manufacturers a partner serves): a token an application got through OAuth never passes it, whatever its
# scopes, since the application was trusted with this workspace, within its scopes, and nothing more.
NOT_DELEGATED = "not_delegated"


def not_delegated(opt: dict[str, object]) -> dict[str, object]:
    return {**opt, NOT_DELEGATED: True}


def public(*problems: int) -> dict[str, object]:
    """`problems`: error statuses this route gives beyond what its declaration implies (OpenAPI)."""
    return {"public": True, "problems": problems} if problems else {"public": True}


def signed_in(audience: Literal["internal", "external"] | None = None) -> dict[str, object]:
    """Any signed-in actor, or only staff ("internal") or only partners ("external"): a route about the
    staff's own account answers a partner as every staff route does (403), and the other way round."""
    return {"permission": SIGNED_IN, "audience": audience} if audience else {"permission": SIGNED_IN}


def requires(obj: str, action: str, *, problems: tuple[int, ...] = ()) -> dict[str, object]:
    return {"permission": (obj, action), "problems": problems} if problems else {"permission": (obj, action)}


def audience_matches(actor: Actor, obj: str) -> bool:
    if obj.startswith(INTEGRATION_PREFIX) or actor.kind == "integration":
        return obj.startswith(INTEGRATION_PREFIX) and actor.kind == "integration"
    return obj.startswith(PARTNER_PREFIX) == (actor.kind == "external")


class AccessPolicy(Protocol):
    def held_roles(
        self, user_id: ColumnElement[uuid.UUID], tenant_id: ColumnElement[uuid.UUID]
    ) -> ColumnElement[str | None] | None:
        """What the session lookup's statement reads of the user's roles in the tenant, handed to
        `prepare()` (None: nothing to read). The statement runs in Core: it names the tenant itself."""
        ...

    async def prepare(self, session: AsyncSession, actor: Actor, version: int, held_roles: str | None = None) -> Actor:
        """The actor with the roles it holds now (`held_roles` as `held_roles()` read them), the
        tenant's compiled policy being at `version`."""
        ...

    def allows(self, actor: Actor, permission: Permission) -> bool: ...

    async def assign(
        self, session: AsyncSession, by: Actor | None, user_id: uuid.UUID, kind: str, role_keys: Iterable[str]
    ) -> frozenset[str]:
        """Replace the user's roles (validated: existing roles of the user's kind); returns them."""
        ...

    async def roles_of(self, session: AsyncSession, user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, frozenset[str]]:
        """The role keys each of these users holds."""
        ...

    def forget(self) -> None:
        """Drop whatever was compiled from the database, so the next request reads it afresh."""
        ...


class SignedInOnly:
    """The policy of a kernel without the roles package: nobody may do anything but be signed in."""

    def held_roles(
        self, user_id: ColumnElement[uuid.UUID], tenant_id: ColumnElement[uuid.UUID]
    ) -> ColumnElement[str | None] | None:
        return None

    async def prepare(self, session: AsyncSession, actor: Actor, version: int, held_roles: str | None = None) -> Actor:
        return actor

    def allows(self, actor: Actor, permission: Permission) -> bool:
        return permission == SIGNED_IN

    async def assign(
        self, session: AsyncSession, by: Actor | None, user_id: uuid.UUID, kind: str, role_keys: Iterable[str]
    ) -> frozenset[str]:
        return frozenset()

    async def roles_of(self, session: AsyncSession, user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, frozenset[str]]:
        return {}

    def forget(self) -> None:
        return None


async def policy_changed(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    """Who may do what changed in this tenant: every process rebuilds its compiled policy on the
    tenant's next request (the version is read with the session on every request)."""
    await session.execute(update(Tenant).where(Tenant.id == tenant_id).values(policy_version=Tenant.policy_version + 1))
