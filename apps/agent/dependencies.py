"""The deal app's services for a request, by dependency injection: each side names its `deals` once,
in `dependencies=`, and its handlers (and pages) take them by name."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency, Provide

from apps.agent.deals import Deals
from apps.agent.leads.service import Leads
from apps.agent.leads.setup import LeadSetup
from apps.agent.objects import PARTNER_LEAD, PARTNER_OBJECT, STAFF_LEAD, STAFF_OBJECT
from apps.agent.registrations.follow_ups import DealFollowUps
from apps.agent.registrations.service import Registrations
from portal.http.deps import DB, CurrentActor
from roles.access import policy_of

AnyRequest = Request[Any, Any, Any]


def provide_partner_deals(request: AnyRequest, db: DB, actor: CurrentActor) -> Deals:
    """The deals a partner reaches: their data scope, the deals' teams and sharing rules."""
    return Deals(db, policy_of(request), actor, PARTNER_OBJECT)


def provide_staff_deals(request: AnyRequest, db: DB, actor: CurrentActor) -> Deals:
    """The deals a staff member reaches: their internal data scope."""
    return Deals(db, policy_of(request), actor, STAFF_OBJECT)


def provide_partner_leads(request: AnyRequest, db: DB, actor: CurrentActor) -> Leads:
    """A partner's leads (their data scope) and the pools their enterprise may claim from."""
    return Leads(db, policy_of(request), actor, PARTNER_LEAD, request.app.state.services.notifications)


def provide_staff_leads(request: AnyRequest, db: DB, actor: CurrentActor) -> Leads:
    return Leads(db, policy_of(request), actor, STAFF_LEAD, request.app.state.services.notifications)


def provide_lead_setup(db: DB) -> LeadSetup:
    return LeadSetup(db)


def provide_registrations(db: DB, deals: NamedDependency[Deals]) -> Registrations:
    """Registrations through the side's deals: its scope and field rules."""
    return Registrations(db, deals)


def provide_deal_follow_ups(db: DB, deals: NamedDependency[Deals]) -> DealFollowUps:
    return DealFollowUps(db, deals)


SHARED = {
    "registrations": Provide(provide_registrations, sync_to_thread=False),
    "deal_follow_ups": Provide(provide_deal_follow_ups, sync_to_thread=False),
}
PARTNER_DEPENDENCIES = {
    "deals": Provide(provide_partner_deals, sync_to_thread=False),
    "leads": Provide(provide_partner_leads, sync_to_thread=False),
    **SHARED,
}
STAFF_DEPENDENCIES = {
    **SHARED,
    "deals": Provide(provide_staff_deals, sync_to_thread=False),
    "leads": Provide(provide_staff_leads, sync_to_thread=False),
    "lead_setup": Provide(provide_lead_setup, sync_to_thread=False),
}

DealsDep = NamedDependency[Deals]
LeadsDep = NamedDependency[Leads]
LeadSetupDep = NamedDependency[LeadSetup]
RegistrationsDep = NamedDependency[Registrations]
DealFollowUpsDep = NamedDependency[DealFollowUps]
