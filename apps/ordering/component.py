"""The ordering app as a component: its tables, objects, routes, page templates, tenant setup and demo."""

from __future__ import annotations

from pathlib import Path

from apps.ordering.account import post_owed
from apps.ordering.cli import register as register_cli
from apps.ordering.controllers import CONTROLLERS
from apps.ordering.demo import load_ordering
from apps.ordering.integration import INTEGRATION_OBJECTS
from apps.ordering.jobs import AUTO_RECEIVE
from apps.ordering.notices import KINDS as NOTIFICATION_KINDS
from apps.ordering.notices import SUBSCRIBERS
from apps.ordering.objects import OBJECTS
from apps.ordering.pages import PAGES
from apps.ordering.purchasing.access import OBJECTS as PURCHASE_OBJECTS
from apps.ordering.purchasing.controllers import CONTROLLERS as PURCHASE_CONTROLLERS
from apps.ordering.purchasing.pages import PURCHASE_PAGES
from apps.ordering.purchasing.progress import PURCHASE_ORDER_STATUS
from apps.ordering.purchasing.syncing import PURCHASE_ORDERS
from apps.ordering.seed import seed_ordering
from apps.ordering.syncing import PRODUCTS
from apps.ordering.widgets import WIDGETS
from apps.ordering.workflow import ORDER_APPROVAL
from portal.components import Component

# its templates are named "ordering/…": one loader serves every component's folder
TEMPLATES = Path(__file__).resolve().parent / "templates"

component = Component(
    name="ordering",
    order=310,
    model_modules=("apps.ordering.models", "apps.ordering.purchasing.models"),
    route_handlers=[*CONTROLLERS, *PAGES, *PURCHASE_CONTROLLERS, *PURCHASE_PAGES],
    objects=(*OBJECTS, *PURCHASE_OBJECTS),
    template_dir=TEMPLATES,
    home_widgets=WIDGETS,
    tenant_setup=seed_ordering,
    demo=load_ordering,
    cli=register_cli,
    jobs=(AUTO_RECEIVE,),
    notification_kinds=NOTIFICATION_KINDS,
    subscribers=SUBSCRIBERS,
    # what cross-tenant sync may carry to a partner's own tenant (sync/crosstenant finds it here), the
    # account other apps post to (the agent app's approved commission statements), orders as a kind of
    # subject of the approvals engine (roles.approvals), and what an ERP keeps in step through the
    # integration API (sync/integrations)
    extra={
        "sync_objects": (PRODUCTS, PURCHASE_ORDERS, PURCHASE_ORDER_STATUS),
        "account_ledger": post_owed,
        "approval_kinds": (ORDER_APPROVAL,),
        "integration_objects": INTEGRATION_OBJECTS,
    },
)
