"""The delivery service for a request, named once by the router or controller whose handlers take it."""

from __future__ import annotations

from litestar.di import NamedDependency, Provide

from portal.http.deps import DB
from sync.delivery.service import Deliveries


def provide_deliveries(db: DB) -> Deliveries:
    return Deliveries(db)


DEPENDENCIES = {"deliveries": Provide(provide_deliveries, sync_to_thread=False)}
DeliveriesDep = NamedDependency[Deliveries]
