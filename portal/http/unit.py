"""The request's unit of work, as the request context opens it and the `db` dependency finishes it."""

from __future__ import annotations

import inspect

from litestar.handlers import BaseRouteHandler
from litestar.types import Scope

# Where the open session waits in the request's state for the `db` dependency.
UNIT_STATE = "portal_unit_of_work"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def may_write(scope: Scope) -> bool:
    """Safe methods only read: on SQLite their transaction takes no write lock. A page that must write on
    a GET (signing a partner in to another portal they serve) says so with `opt={"writes": True}`."""
    handler = scope.get("route_handler")
    if handler is not None and handler.opt.get("writes"):
        return True
    return scope.get("method", "GET") not in SAFE_METHODS


def uses_db(handler: BaseRouteHandler) -> bool:
    """Whether the route's handler, or a dependency it takes (at any depth), asks for the unit of work.
    Worked out once per route: the answer cannot change while the app runs."""
    known = _USES_DB.get(handler)
    if known is None:
        known = _USES_DB[handler] = _reaches_db(handler)
    return known


_USES_DB: dict[BaseRouteHandler, bool] = {}


def _reaches_db(handler: BaseRouteHandler) -> bool:
    providers = handler.resolve_dependencies()
    wanted, seen = list(handler.parsed_fn_signature.parameters), set()
    while wanted:
        name = wanted.pop()
        if name == "db":
            return True
        if name in seen or name not in providers:
            continue
        seen.add(name)
        wanted.extend(inspect.signature(providers[name].dependency).parameters)
    return False
