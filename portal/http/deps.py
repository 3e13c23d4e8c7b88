"""Dependencies shared by every route: the services, the actor, and the request's unit of work."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from litestar import Request
from litestar.di import NamedDependency, Provide
from sqlalchemy.ext.asyncio import AsyncSession

from portal.actor import Actor
from portal.db.context import PUBLIC
from portal.errors import NotAuthenticated
from portal.http import idempotent
from portal.http.unit import UNIT_STATE, may_write
from portal.identity.accounts import Staff
from portal.services import Services


def provide_services(request: Request[Any, Any, Any]) -> Services:
    return request.app.state.services


def provide_actor(request: Request[Any, Any, Any]) -> Actor:
    actor = request.scope.get("user")
    if actor is None:
        raise NotAuthenticated()
    return actor


async def provide_db(request: Request[Any, Any, Any]) -> AsyncIterator[AsyncSession]:
    """The unit of work: one transaction in the actor's tenant (the public context when anonymous),
    committed after the handler returns and rolled back if it raises. For a signed-in actor it is the
    transaction the session lookup ran in (portal.http.context), so the request holds one connection.
    A creating POST's Idempotency-Key is claimed in it (portal.http.idempotent)."""
    actor = request.scope.get("user")
    session: AsyncSession | None = request.scope.get("state", {}).get(UNIT_STATE)
    if session is None:
        services: Services = request.app.state.services
        async with services.db.session(PUBLIC, write=may_write(request.scope)) as public:
            yield public
        return
    try:
        if actor is not None:
            await idempotent.claim(request, session, actor)
        yield session
        idempotent.check_answered(request)
        await session.commit()
    except BaseException:
        await session.rollback()
        raise


def provide_staff(db: NamedDependency[AsyncSession], services: NamedDependency[Services]) -> Staff:
    """The tenant's staff accounts, for the pages that list or change them."""
    return services.staff(db)


DEPENDENCIES = {
    "services": Provide(provide_services, sync_to_thread=False),
    "actor": Provide(provide_actor, sync_to_thread=False),
    "db": Provide(provide_db),
}

# Explicit markers for handler parameters (Litestar no longer infers dependencies from names).
DB = NamedDependency[AsyncSession]
CurrentActor = NamedDependency[Actor]
ServicesDep = NamedDependency[Services]

# Named by the routers whose handlers take the staff accounts (not every route needs them).
STAFF_DEPENDENCIES = {"staff": Provide(provide_staff, sync_to_thread=False)}
StaffDep = NamedDependency[Staff]
