"""The sync rules service for a request, named once by the API controller and the pages' router."""

from __future__ import annotations

from litestar.di import NamedDependency, Provide

from portal.http.deps import DB, CurrentActor, ServicesDep
from sync.crosstenant.objects import sync_objects
from sync.crosstenant.rules import Rules


def provide_rules(db: DB, actor: CurrentActor, services: ServicesDep) -> Rules:
    return Rules(db, actor, sync_objects(services))


DEPENDENCIES = {"rules": Provide(provide_rules, sync_to_thread=False)}
RulesDep = NamedDependency[Rules]
