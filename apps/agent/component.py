"""The deal-registration app as a component: its table, objects, routes, page templates, tenant setup and demo."""

from __future__ import annotations

from pathlib import Path

from apps.agent.controllers import CONTROLLERS
from apps.agent.demo import load_deals
from apps.agent.leads.api import LEAD_CONTROLLERS
from apps.agent.leads.notices import KINDS as LEAD_NOTICES
from apps.agent.leads.pages import LEAD_PAGES
from apps.agent.leads.recycling import LEAD_RECYCLING
from apps.agent.objects import OBJECTS
from apps.agent.pages import PAGES
from apps.agent.seed import seed_agent
from portal.components import Component

# its templates are named "agent/…": one loader serves every component's folder
TEMPLATES = Path(__file__).resolve().parent / "templates"

component = Component(
    name="agent",
    order=300,
    model_modules=("apps.agent.models", "apps.agent.leads.models"),
    route_handlers=[*CONTROLLERS, *LEAD_CONTROLLERS, *PAGES, *LEAD_PAGES],
    objects=OBJECTS,
    template_dir=TEMPLATES,
    tenant_setup=seed_agent,
    demo=load_deals,
    notification_kinds=LEAD_NOTICES,
    jobs=(LEAD_RECYCLING,),
)
