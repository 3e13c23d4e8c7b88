"""What roles grant on deals: the partner side ("partner.agent.deal", inside the agent app) and the
upstream staff side ("agent.deal"), the same records and the same fields under both."""

from __future__ import annotations

from apps.agent.leads.models import Lead
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

# the conflict queue, the decisions on registrations and their extensions, the programme's protection days
STAFF_REGISTRATION = "agent.registration"
REGISTRATION_ACTIONS = ("read", "decide", "update")

PARTNER_LEAD = "partner.agent.lead"
STAFF_LEAD = "agent.lead"
LEAD_SETUP = "agent.lead_setup"  # pools, their rules and the assignment rules
PARTNER_LEAD_ACTIONS = ("read", "claim", "update", "return")
STAFF_LEAD_ACTIONS = ("read", "create", "update", "distribute", "claim", "import", "export", "approve")
# The lead's fields field rules (and a pool's rule while it is unclaimed) may hide.
LEAD_FIELDS: tuple[tuple[str, str], ...] = (
    ("company_name", N_("Company")),
    ("contact_name", N_("Contact")),
    ("phone", N_("Phone")),
    ("email", N_("Email")),
    ("region_id", N_("Region")),
    ("product_line", N_("Product line")),
    ("notes", N_("Notes")),
)
LEAD_FIELD_NAMES = tuple(name for name, _label in LEAD_FIELDS)

PARTNER_COMMISSION = "partner.agent.commission"
STAFF_COMMISSION = "agent.commission"
PARTNER_COMMISSION_ACTIONS = ("read", "review")
STAFF_COMMISSION_ACTIONS = ("read", "setup", "approve", "export")
# What a commission line and statement are paid on: the upstream's to decide, never the partner's.
COMMISSION_FIELDS: tuple[tuple[str, str], ...] = (("rate", N_("Commission rate")), ("amount", N_("Commission")))
PARTNER_FUND = "partner.agent.fund"
STAFF_FUND = "agent.fund"
PARTNER_FUND_ACTIONS = ("read", "request", "claim")
STAFF_FUND_ACTIONS = ("read", "budget", "approve", "pay")
FUND_FIELDS: tuple[tuple[str, str], ...] = (
    ("amount", N_("Amount asked")),
    ("approved_amount", N_("Amount approved")),
    ("claimed_amount", N_("Amount claimed")),
    ("paid_amount", N_("Amount paid")),
)

OBJECTS = (
    ProtectedObject(
        PARTNER_OBJECT, N_("Deals"), ACTIONS, fields=FIELDS, model=Deal, app=APP, staff_view=(STAFF_OBJECT,)
    ),
    ProtectedObject(STAFF_OBJECT, N_("Deals"), ACTIONS, fields=FIELDS, model=Deal),
    ProtectedObject(STAFF_REGISTRATION, N_("Deal registrations: conflicts and protection"), REGISTRATION_ACTIONS),
    ProtectedObject(
        PARTNER_LEAD,
        N_("Leads"),
        PARTNER_LEAD_ACTIONS,
        fields=LEAD_FIELDS,
        model=Lead,
        app=APP,
        staff_view=(STAFF_LEAD,),
    ),
    ProtectedObject(STAFF_LEAD, N_("Leads"), STAFF_LEAD_ACTIONS, fields=LEAD_FIELDS, model=Lead),
    ProtectedObject(LEAD_SETUP, N_("Lead pools and assignment rules"), ("read", "update")),
    ProtectedObject(
        PARTNER_COMMISSION,
        N_("Commissions"),
        PARTNER_COMMISSION_ACTIONS,
        fields=COMMISSION_FIELDS,
        app=APP,
        staff_view=(STAFF_COMMISSION,),
    ),
    ProtectedObject(STAFF_COMMISSION, N_("Commissions"), STAFF_COMMISSION_ACTIONS, fields=COMMISSION_FIELDS),
    ProtectedObject(
        PARTNER_FUND,
        N_("Market development funds"),
        PARTNER_FUND_ACTIONS,
        fields=FUND_FIELDS,
        app=APP,
        staff_view=(STAFF_FUND,),
    ),
    ProtectedObject(STAFF_FUND, N_("Market development funds"), STAFF_FUND_ACTIONS, fields=FUND_FIELDS),
)
