"""What the approvals engine adds to the roles component: its tables, protected object, routes, notices
and subscriber, and the kinds the apps registered (`services.extensions["approval_kinds"]`)."""

from __future__ import annotations

from typing import Any

from jinja2 import pass_context

from portal.i18n import N_
from portal.permissions import ProtectedObject
from portal.services import Services
from portal.ui.checks import can
from roles.approvals.api import CONTROLLERS, FLOWS, KINDS_EXTENSION
from roles.approvals.kinds import ApprovalKinds
from roles.approvals.notices import KINDS, STRANDED, SUBSCRIBERS
from roles.approvals.pages import PAGES

MODEL_MODULES = ("roles.approvals.models",)
OBJECTS = (ProtectedObject(FLOWS, N_("Approval flows"), ("read", "update")),)
ROUTES = [*CONTROLLERS, *PAGES]
NOTIFICATION_KINDS = KINDS
NOTICE_SUBSCRIBERS = SUBSCRIBERS
JOBS = (STRANDED,)


def setup(services: Services) -> None:
    services.extensions[KINDS_EXTENSION] = ApprovalKinds.of(services.components)


@pass_context
def is_approver(context: Any) -> bool:
    """For the console's menu: the signed-in person may take a step of some kind (holds its permission;
    a person named in a step or a delegate needs it too). Display only: the engine decides."""
    request = context.get("request")
    kinds = request.app.state.services.extensions.get(KINDS_EXTENSION) if request is not None else None
    return bool(kinds) and any(can(context, *k.permission) for k in kinds)


TEMPLATE_GLOBALS = {"is_approver": is_approver}
