"""The service app as a component: its tables, objects, routes, page templates, tenant setup and demo."""

from __future__ import annotations

from pathlib import Path

from apps.service.controllers import CONTROLLERS
from apps.service.dealer.api import DEALER_CONTROLLERS
from apps.service.demo import load_service
from apps.service.dispatch import closing
from apps.service.dispatch.api import DISPATCH_CONTROLLERS
from apps.service.field import files
from apps.service.field.api import FIELD_CONTROLLERS
from apps.service.notices import CUSTOMER_KINDS, SUBSCRIBERS
from apps.service.notices import KINDS as NOTIFICATION_KINDS
from apps.service.objects import OBJECTS
from apps.service.pages import PAGES
from apps.service.parts.api import PARTS_CONTROLLERS
from apps.service.parts.objects import OBJECTS as PARTS_OBJECTS
from apps.service.seed import seed_service
from apps.service.settlement import notices as settlement_notices
from apps.service.settlement.api import SETTLEMENT_CONTROLLERS
from apps.service.sla import notices as sla_notices
from apps.service.sla.api import ServiceLevelsController
from apps.service.sla.timers import SLA_TIMERS
from apps.service.widgets import WIDGETS
from portal.components import Component

# its templates are named "service/…": one loader serves every component's folder
TEMPLATES = Path(__file__).resolve().parent / "templates"
# served under /static with every component's (the service pages' stylesheet)
STATIC = Path(__file__).resolve().parent / "static"

component = Component(
    name="service",
    order=320,
    model_modules=(
        "apps.service.models",
        "apps.service.dispatch.models",
        "apps.service.field.models",
        "apps.service.parts.models",
        "apps.service.settlement.models",
        "apps.service.dealer.models",
    ),
    route_handlers=[
        *CONTROLLERS,
        ServiceLevelsController,
        *DISPATCH_CONTROLLERS,
        *FIELD_CONTROLLERS,
        *PARTS_CONTROLLERS,
        *SETTLEMENT_CONTROLLERS,
        *DEALER_CONTROLLERS,
        *PAGES,
    ],
    objects=(*OBJECTS, *PARTS_OBJECTS),
    # a ticket's photos and signature; the real check is installed once the role policy exists
    attachment_owners=(files.PLACEHOLDER,),
    services_setup=files.install,
    template_dir=TEMPLATES,
    static_dir=STATIC,
    home_widgets=WIDGETS,
    tenant_setup=seed_service,
    demo=load_service,
    notification_kinds=(
        *NOTIFICATION_KINDS,
        *CUSTOMER_KINDS,
        *sla_notices.KINDS,
        *closing.KINDS,
        *settlement_notices.KINDS,
    ),
    jobs=(SLA_TIMERS, closing.AUTO_CLOSE),
    subscribers=(*SUBSCRIBERS, *closing.SUBSCRIBERS, *settlement_notices.SUBSCRIBERS),
)
