"""The partner workspace of a /p/{slug}/ page, resolved once per request before its handler runs.

Every feature mounts its partner pages with `partner_portal_router(handlers)`: a router at
`/p/{slug:str}` whose guard looks the workspace up (an unknown or inactive one is the 404 page "No such
partner portal") and, unless the pages are public, requires the visitor to be signed in to that very
workspace (a session of another tenant counts as none: the error mapper sends the visitor to this
portal's sign-in). Handlers take the result as `portal: CurrentPortal`.

The lookups run in a guard, before any dependency and after the app's permission guard (a visitor
without the page's permission is refused before the workspace is looked at), in a read-only
transaction of their own (`PartnerAccess.portal_of`), which on SQLite takes no lock and so never waits
on the request's unit of work.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from litestar import Request, Router
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency, Provide
from litestar.handlers import BaseRouteHandler
from litestar.types import ControllerRouterHandler

from interconnect.access import Workspace
from interconnect.services import Interconnect
from portal.actor import Actor
from portal.errors import NotAuthenticated

PORTAL_PATH = "/p/{slug:str}"
# where the guard leaves the resolved workspace for the `portal` dependency
STATE_KEY = "partner_portal"


@dataclass(frozen=True, slots=True)
class PortalContext:
    """The workspace a partner page belongs to and what its pages show around their content."""

    workspace: Workspace
    # the manufacturers the signed-in person may switch to (empty on public pages)
    workspaces: Sequence[Workspace] = field(default_factory=tuple)

    @property
    def frame(self) -> dict[str, Any]:
        """The template values of the portal's header: its brand, links and workspace switcher."""
        return {"portal": self.workspace, "workspaces": self.workspaces}

    def path(self, rest: str = "") -> str:
        return f"/p/{self.workspace.slug}/{rest}"


def _interconnect(connection: ASGIConnection[Any, Any, Any, Any]) -> Interconnect:
    return connection.app.state.services.extensions["interconnect"]


def _lists_methods(handler: BaseRouteHandler) -> bool:
    # Litestar's generated OPTIONS handlers only list the allowed methods: they answer as elsewhere.
    return getattr(handler, "http_methods", None) == {"OPTIONS"}


async def _signed_in_workspace(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    if _lists_methods(handler):
        return
    actor: Actor | None = connection.scope.get("user")
    identity_id = actor.identity_id if actor is not None else None
    workspace, workspaces = await _interconnect(connection).access.portal_of(
        connection.path_params["slug"], identity_id
    )
    if actor is None or actor.tenant_id != workspace.tenant_id:
        raise NotAuthenticated()
    connection.state[STATE_KEY] = PortalContext(workspace, workspaces)


async def _public_workspace(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    if _lists_methods(handler):
        return
    workspace, _none = await _interconnect(connection).access.portal_of(connection.path_params["slug"], None)
    connection.state[STATE_KEY] = PortalContext(workspace)


def provide_portal(request: Request[Any, Any, Any]) -> PortalContext:
    return request.state[STATE_KEY]


def partner_portal_router(
    handlers: Sequence[ControllerRouterHandler],
    *,
    public: bool = False,
    dependencies: Mapping[str, Provide] | None = None,
) -> Router:
    """The pages of one feature inside the partner portal; their paths are relative to `/p/{slug}`.

    `public=True` (sign-in, joining by code): the workspace is looked up, nobody need be signed in to it.
    The pages' own `opt` (their permission, or `public()`) is checked first, as for every route.
    `dependencies`: the feature's services for its partner side, named once for all its pages."""
    return Router(
        path=PORTAL_PATH,
        route_handlers=list(handlers),
        guards=[_public_workspace if public else _signed_in_workspace],
        dependencies={**(dependencies or {}), "portal": Provide(provide_portal, sync_to_thread=False)},
        include_in_schema=False,
    )


CurrentPortal = NamedDependency[PortalContext]
