"""The deal-registration app as a component: its table, objects, routes, page templates, tenant setup and demo."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from apps.agent.commissions.api import COMMISSION_CONTROLLERS
from apps.agent.commissions.demo import load_commissions
from apps.agent.commissions.pages import COMMISSION_PAGES
from apps.agent.controllers import CONTROLLERS
from apps.agent.dashboard.pages import DASHBOARD_PAGES
from apps.agent.demo import load_deals
from apps.agent.funds.api import FUND_CONTROLLERS
from apps.agent.funds.demo import load_funds
from apps.agent.funds.pages import FUND_PAGES
from apps.agent.funds.proofs import register_proofs
from apps.agent.leads.api import LEAD_CONTROLLERS
from apps.agent.leads.demo import load_leads
from apps.agent.leads.notices import KINDS as LEAD_NOTICES
from apps.agent.leads.pages import LEAD_PAGES
from apps.agent.leads.recycling import LEAD_RECYCLING
from apps.agent.leads.reminders import FOLLOW_UP_REMINDERS
from apps.agent.objects import OBJECTS
from apps.agent.pages import PAGES
from apps.agent.registrations.api import REGISTRATION_CONTROLLERS
from apps.agent.registrations.approvals import KINDS as APPROVAL_KINDS
from apps.agent.registrations.demo import load_registrations
from apps.agent.registrations.pages import REGISTRATION_PAGES
from apps.agent.registrations.widgets import WIDGETS as REGISTRATION_WIDGETS
from apps.agent.seed import seed_agent
from portal.components import Component
from portal.services import Services

# its templates are named "agent/…": one loader serves every component's folder
HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"


async def load_agent(services: Services, context: dict[str, Any]) -> None:
    """The demo deals, then the demo leads, registrations, commissions and funds (their admins' role comes
    with the deals)."""
    await load_deals(services, context)
    await load_leads(services, context)
    await load_registrations(services, context)
    await load_commissions(services, context)
    await load_funds(services, context)


component = Component(
    name="agent",
    order=300,
    model_modules=(
        "apps.agent.models",
        "apps.agent.leads.models",
        "apps.agent.registrations.models",
        "apps.agent.commissions.models",
        "apps.agent.funds.models",
    ),
    route_handlers=[
        *CONTROLLERS,
        *LEAD_CONTROLLERS,
        *REGISTRATION_CONTROLLERS,
        *COMMISSION_CONTROLLERS,
        *FUND_CONTROLLERS,
        *PAGES,
        *LEAD_PAGES,
        *REGISTRATION_PAGES,
        *COMMISSION_PAGES,
        *FUND_PAGES,
        *DASHBOARD_PAGES,
    ],
    objects=OBJECTS,
    template_dir=TEMPLATES,
    # served under /static/: the registration form's hint script (agent/registration-hints.js)
    static_dir=HERE / "static",
    tenant_setup=seed_agent,
    demo=load_agent,
    notification_kinds=LEAD_NOTICES,
    jobs=(LEAD_RECYCLING, FOLLOW_UP_REMINDERS),
    home_widgets=REGISTRATION_WIDGETS,
    # a claim's proof is a stored file; who may open it is asked of the role policy the services hold
    services_setup=register_proofs,
    # registrations in conflict and extension requests go through the approvals engine (roles.approvals)
    extra={"approval_kinds": APPROVAL_KINDS},
)
