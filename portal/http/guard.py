"""The one guard. It reads what the route declares and asks the permission checker; handlers never
check roles themselves."""

from __future__ import annotations

from litestar import Litestar
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from portal.errors import ConfigurationError, NotAuthenticated, PermissionDenied


def is_public(handler: BaseRouteHandler) -> bool:
    # Litestar's generated OPTIONS handlers only list the allowed methods.
    return bool(handler.opt.get("public")) or getattr(handler, "http_methods", None) == {"OPTIONS"}


async def permission_guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    if is_public(handler):
        return
    actor = connection.scope.get("user")
    if actor is None:
        raise NotAuthenticated()
    permission = handler.opt.get("permission")
    if permission is None:  # unreachable after check_routes; kept so a slip can never mean "allowed"
        raise PermissionDenied()
    if not connection.app.state.services.permissions.allows(actor, permission):
        raise PermissionDenied()


def check_routes(app: Litestar) -> None:
    """Refuse to start if a route declares neither a permission nor that it is public."""
    missing = [
        f"{'/'.join(sorted(handler.http_methods))} {route.path}"
        for route in app.routes
        for handler in getattr(route, "route_handlers", ())
        if not is_public(handler) and not handler.opt.get("permission")
    ]
    if missing:
        raise ConfigurationError("routes without a declared permission: " + ", ".join(sorted(missing)))
