"""Role setup for the partner-app tests: roles, role assignments, data rules, sharing rules, staff teams.

Everything here is what an upstream administrator configures. Until the roles API is in place it goes
through the services (RoleAdmin and the access policy) in the tenant's own context, the way a request of
the tenant's admin would; this module is the one place to switch to the HTTP API (PUT /api/roles/{key},
PUT /api/roles/data-rules, POST /api/roles/sharing-rules). Each change moves the tenant's policy version
(assignments are read with every request), so the very next request sees it.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession

from portal.actor import Actor
from portal.config import Settings
from portal.db.context import tenant_context
from portal.db.engine import Database
from roles.admin import RoleAdmin, RoleSpec, SharingSpec
from roles.policy import RolePolicy
from tests.db import run_with_database
from tests.world import TenantWorld

T = TypeVar("T")


class Roles:
    """One tenant's role configuration, changed as its administrator."""

    def __init__(self, app: Litestar, settings: Settings, tenant: TenantWorld) -> None:
        self.objects = app.state.services.objects
        self.settings = settings
        self.tenant_id = uuid.UUID(tenant.tenant_id)
        self.admin = Actor(
            uuid.UUID(tenant.admin.user_id), self.tenant_id, "internal", "api", roles=frozenset({"admin"})
        )

    def _run(self, work: Callable[[AsyncSession, RoleAdmin], Awaitable[T]]) -> T:
        async def main(db: Database) -> T:
            async with db.session(tenant_context(self.tenant_id, self.admin)) as session:
                return await work(session, RoleAdmin(session, self.admin, self.objects))

        return run_with_database(self.settings, main)

    def define(
        self,
        key: str,
        kind: str = "external",
        *,
        grants: Iterable[tuple[str, str]],
        apps: Sequence[str] = (),
        fields: Mapping[str, Mapping[str, str]] | None = None,
        scopes: Mapping[str, str] | None = None,
    ) -> None:
        """Create the role, or replace its grants, apps, field rules and (staff) data scopes."""
        spec = RoleSpec(
            name=key.replace("_", " ").title(),
            apps=list(apps),
            grants=list(grants),
            fields={o: dict(f) for o, f in (fields or {}).items()},
            scopes=dict(scopes or {}) if kind == "internal" else None,
        )

        async def work(session: AsyncSession, admin: RoleAdmin) -> None:
            if key in {view.role.key for view in await admin.list()}:
                await admin.update(key, spec)
            else:
                await admin.create(key, kind, spec)

        self._run(work)

    def assign(self, user_id: str, *role_keys: str, kind: str = "external") -> None:
        """Replace the person's roles."""

        async def work(session: AsyncSession, admin: RoleAdmin) -> None:
            await RolePolicy(self.objects).assign(session, self.admin, uuid.UUID(user_id), kind, role_keys)

        self._run(work)

    def data_rule(
        self,
        obj: str,
        level: str | None,
        *,
        partner_type_id: str | None = None,
        link_id: str | None = None,
        include_sub_enterprises: bool = False,
    ) -> None:
        """The data level of a partner type, or one enterprise's override (None removes it)."""

        async def work(session: AsyncSession, admin: RoleAdmin) -> None:
            await admin.set_data_rule(
                obj,
                level,
                partner_type_id=uuid.UUID(partner_type_id) if partner_type_id else None,
                link_id=uuid.UUID(link_id) if link_id else None,
                include_sub_enterprises=include_sub_enterprises,
            )

        self._run(work)

    def share(
        self,
        obj: str,
        *,
        field: str,
        operator: str,
        value: Any,
        target_kind: str,
        target: str,
        access: str = "read",
    ) -> str:
        """Add a sharing rule; returns its id."""
        spec = SharingSpec(
            f"{field} {operator} {value} to {target_kind}", obj, field, operator, value, target_kind, target, access
        )

        async def work(session: AsyncSession, admin: RoleAdmin) -> str:
            return str((await admin.add_sharing_rule(spec)).id)

        return self._run(work)

    def unshare(self, rule_id: str) -> None:
        async def work(session: AsyncSession, admin: RoleAdmin) -> None:
            await admin.delete_sharing_rule(uuid.UUID(rule_id))

        self._run(work)

    def staff_team(self, name: str, user_ids: Iterable[str]) -> str:
        """A staff team (for the "team" data scope) with these members; returns its id."""

        async def work(session: AsyncSession, admin: RoleAdmin) -> str:
            team = await admin.add_team(name)
            await admin.set_team_members(team.id, [uuid.UUID(u) for u in user_ids])
            return str(team.id)

        return self._run(work)
