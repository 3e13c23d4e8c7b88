"""The request's unit of work, as the request context opens it and the `db` dependency finishes it."""

from __future__ import annotations

import inspect

from litestar.handlers import BaseRouteHandler
from litestar.types import Scope

# Where the open session waits in the request's state for the `db` dependency.
UNIT_STATE = "portal_unit_of_work"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def may_write(scope: Scope) -> bool:
    """Safe methods only read: on SQLite their transaction takes no write lock."""
    return scope.get("method", "GET") not in SAFE_METHODS


def uses_db(handler: BaseRouteHandler) -> bool:
    """Whether the route's handler, or a dependency it takes, asks for the unit of work."""
    wanted = handler.parsed_fn_signature.parameters
    if "db" in wanted:
        return True
    return any(
        name in wanted and "db" in inspect.signature(provide.dependency).parameters
        for name, provide in handler.resolve_dependencies().items()
    )
