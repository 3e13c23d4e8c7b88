"""The OAuth client service of a request, named once by the API controller and the console pages' router."""

from __future__ import annotations

from litestar.di import NamedDependency, Provide

from channels.oauth.clients import Clients
from portal.http.deps import DB, CurrentActor


def provide_clients(db: DB, actor: CurrentActor) -> Clients:
    return Clients(db, actor)


DEPENDENCIES = {"oauth_clients": Provide(provide_clients, sync_to_thread=False)}
ClientsDep = NamedDependency[Clients]
