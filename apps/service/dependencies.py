"""The service app's services for a request, built by dependency injection: a controller (or page)
names the set for its side once, in `dependencies=`, and its handlers take what they use by name.

Staff reach "service.ticket" and "service.device"; partners the enterprise's tickets
("partner.service.ticket") or their own ("partner.service.job"), and the devices their enterprise looks
after."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency, Provide

from apps.service.devices import Devices
from apps.service.objects import DEVICE, PARTNER_DEVICE, PARTNER_JOB, PARTNER_TICKET, TICKET
from apps.service.tickets import Tickets
from portal.http.deps import DB, CurrentActor
from roles.access import policy_of

AnyRequest = Request[Any, Any, Any]


def provide_staff_tickets(request: AnyRequest, db: DB, actor: CurrentActor) -> Tickets:
    return Tickets(db, policy_of(request), actor, TICKET)


def provide_partner_tickets(request: AnyRequest, db: DB, actor: CurrentActor) -> Tickets:
    return Tickets(db, policy_of(request), actor, PARTNER_TICKET)


def provide_jobs(request: AnyRequest, db: DB, actor: CurrentActor) -> Tickets:
    return Tickets(db, policy_of(request), actor, PARTNER_JOB)


def provide_staff_devices(request: AnyRequest, db: DB, actor: CurrentActor) -> Devices:
    return Devices(db, policy_of(request), actor, DEVICE)


def provide_partner_devices(request: AnyRequest, db: DB, actor: CurrentActor) -> Devices:
    return Devices(db, policy_of(request), actor, PARTNER_DEVICE)


def _sync(provider: Any) -> Provide:
    return Provide(provider, sync_to_thread=False)


STAFF_DEPENDENCIES = {"tickets": _sync(provide_staff_tickets), "devices": _sync(provide_staff_devices)}
# The partner's two ways to tickets: the enterprise's (its dispatcher) and their own (its engineers); the
# routes of each take `tickets`, so one handler serves both.
PARTNER_DEPENDENCIES = {"tickets": _sync(provide_partner_tickets), "devices": _sync(provide_partner_devices)}
JOB_DEPENDENCIES = {"tickets": _sync(provide_jobs), "devices": _sync(provide_partner_devices)}

# Markers for handler parameters.
TicketsDep = NamedDependency[Tickets]
DevicesDep = NamedDependency[Devices]
