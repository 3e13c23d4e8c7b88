"""The one guard. It reads what the route declares and asks the permission checker; handlers never
check roles themselves."""

from __future__ import annotations

from collections.abc import Mapping

from litestar import Litestar
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from portal.errors import ConfigurationError, NotAuthenticated, PermissionDenied
from portal.i18n import N_
from portal.permissions import NOT_DELEGATED, SIGNED_IN, ProtectedObject, audience_matches, scope_of

SAFE_METHODS = ("GET", "HEAD")


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
    if actor.preview and connection.scope.get("method") not in SAFE_METHODS and permission != SIGNED_IN:
        raise PermissionDenied(N_("This is a read-only preview"), code="preview_read_only")
    if permission != SIGNED_IN and not audience_matches(actor, permission[0]):
        raise PermissionDenied()
    if handler.opt.get("audience", actor.kind) != actor.kind:
        raise PermissionDenied()
    if actor.kind == "integration":
        # an integration key: its scopes, which name the objects it may reach, and nothing else
        if permission == SIGNED_IN or permission[0] not in (actor.scopes or ()):
            raise PermissionDenied(N_("This key was not given access to this"), code="insufficient_scope")
        return
    services = connection.app.state.services
    if actor.scopes is not None and (
        handler.opt.get(NOT_DELEGATED)
        or (permission != SIGNED_IN and scope_of(services.objects[permission[0]]) not in actor.scopes)
    ):
        raise PermissionDenied(N_("This application was not given access to this"), code="insufficient_scope")
    if not services.permissions.allows(actor, permission):
        raise PermissionDenied()


def check_routes(app: Litestar, objects: Mapping[str, ProtectedObject]) -> None:
    """Refuse to start if a route declares neither a permission nor that it is public, or names an
    object or action no component registered (a typo would otherwise be a permission nobody can hold)."""
    missing, unknown = [], []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            where = f"{'/'.join(sorted(handler.http_methods))} {route.path}"
            permission = handler.opt.get("permission")
            if is_public(handler):
                continue
            if not permission:
                missing.append(where)
            elif handler.opt.get("audience") not in (None, "internal", "external"):
                unknown.append(f"{where} (audience {handler.opt['audience']!r})")
            elif permission != SIGNED_IN:
                obj = objects.get(permission[0])
                if obj is None or permission[1] not in obj.actions:
                    unknown.append(f"{where} ({permission[0]}:{permission[1]})")
    if missing:
        raise ConfigurationError("routes without a declared permission: " + ", ".join(sorted(missing)))
    if unknown:
        raise ConfigurationError("routes naming an unregistered permission: " + ", ".join(sorted(unknown)))
