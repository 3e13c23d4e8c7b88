"""The deal-registration app as a component: its table, objects, routes, page templates, tenant setup and demo."""

from __future__ import annotations

from pathlib import Path

from apps.agent.controllers import CONTROLLERS
from apps.agent.demo import load_deals
from apps.agent.objects import OBJECTS
from apps.agent.pages import PAGES
from apps.agent.seed import seed_agent
from portal.components import Component

# The app's pages live with the web shell's templates (they extend its base.html), in their own folder.
TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates" / "agent"

component = Component(
    name="agent",
    order=300,
    model_modules=("apps.agent.models",),
    route_handlers=[*CONTROLLERS, *PAGES],
    objects=OBJECTS,
    template_dir=TEMPLATES,
    tenant_setup=seed_agent,
    demo=load_deals,
)
