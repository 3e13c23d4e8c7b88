"""The integration services for a request: `keys` (the staff's), `upserts` and `integration_objects` (a key's),
named once by the controllers and the pages' router."""

from __future__ import annotations

from typing import Any

from litestar.di import NamedDependency, Provide

from portal.http.deps import DB, CurrentActor, ServicesDep
from sync.integrations.keys import Keys
from sync.integrations.objects import integration_objects
from sync.integrations.upsert import Upserts


def provide_keys(db: DB, actor: CurrentActor, services: ServicesDep) -> Keys:
    return Keys(db, actor, services.settings.secret_key)


def provide_upserts(db: DB) -> Upserts:
    return Upserts(db)


def provide_objects(services: ServicesDep) -> dict[str, Any]:
    """Every integration object by name (`IntegrationObject`s: a protocol, which Litestar cannot check)."""
    return integration_objects(services)


KEY_DEPENDENCIES = {"keys": Provide(provide_keys, sync_to_thread=False)}
DEPENDENCIES = {
    "upserts": Provide(provide_upserts, sync_to_thread=False),
    "integration_objects": Provide(provide_objects, sync_to_thread=False),
}

KeysDep = NamedDependency[Keys]
UpsertsDep = NamedDependency[Upserts]
ObjectsDep = NamedDependency[dict[str, Any]]
