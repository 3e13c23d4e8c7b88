"""What roles grant on deals: the partner side ("partner.agent.deal", inside the agent app) and the
upstream staff side ("agent.deal"), the same records and the same fields under both."""

from __future__ import annotations

from apps.agent.models import Deal
from portal.i18n import N_
from portal.permissions import ProtectedObject

PARTNER_OBJECT = "partner.agent.deal"
STAFF_OBJECT = "agent.deal"
APP = "agent"
ACTIONS = ("read", "create", "update", "delete", "export")

# The fields field rules may hide or make read-only, in the order pages and exports show them.
FIELDS: tuple[tuple[str, str], ...] = (
    ("customer_name", N_("Customer")),
    ("customer_contact", N_("Customer contact")),
    ("amount", N_("Amount")),
    ("stage", N_("Stage")),
    ("expected_close", N_("Expected close")),
    ("notes", N_("Notes")),
    ("commission_rate", N_("Commission rate")),
)
FIELD_NAMES = tuple(name for name, _label in FIELDS)

OBJECTS = (
    ProtectedObject(
        PARTNER_OBJECT, N_("Deals"), ACTIONS, fields=FIELDS, model=Deal, app=APP, staff_view=(STAFF_OBJECT,)
    ),
    ProtectedObject(STAFF_OBJECT, N_("Deals"), ACTIONS, fields=FIELDS, model=Deal),
)
