"""The deal app's services for a request, by dependency injection: each side names its `deals` once,
in `dependencies=`, and its handlers (and pages) take them by name."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency, Provide

from apps.agent.deals import Deals
from apps.agent.objects import PARTNER_OBJECT, STAFF_OBJECT
from portal.http.deps import DB, CurrentActor
from roles.access import policy_of

AnyRequest = Request[Any, Any, Any]


def provide_partner_deals(request: AnyRequest, db: DB, actor: CurrentActor) -> Deals:
    """The deals a partner reaches: their data scope, the deals' teams and sharing rules."""
    return Deals(db, policy_of(request), actor, PARTNER_OBJECT)


def provide_staff_deals(request: AnyRequest, db: DB, actor: CurrentActor) -> Deals:
    """The deals a staff member reaches: their internal data scope."""
    return Deals(db, policy_of(request), actor, STAFF_OBJECT)


PARTNER_DEPENDENCIES = {"deals": Provide(provide_partner_deals, sync_to_thread=False)}
STAFF_DEPENDENCIES = {"deals": Provide(provide_staff_deals, sync_to_thread=False)}

DealsDep = NamedDependency[Deals]
