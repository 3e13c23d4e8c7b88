"""What roles grant in the service app. The manufacturer's staff act on "service.*"; partners on
"partner.service.*" inside the service app, which a role opens or not. Tickets and devices are
data-scoped records.

A partner reaches tickets in one of two ways, each its own object with its own data level, so that the
level can differ between the two kinds of people a service partner has:
- "partner.service.ticket": the enterprise's tickets (its dispatcher: accepts or rejects what the
  manufacturer dispatched, assigns engineers); service providers' level is "own enterprise".
- "partner.service.job": the engineer's own tickets, the ones assigned to them (they are its owner);
  service providers' level is "own records only". An engineer whose role also grants the first sees
  the enterprise's, as the role says.

"partner.service.dealer_ticket": the tickets a dealer's enterprise opened for the devices it sold, which
it follows without seeing the service partner's side of them (its records are apps.service.dealer's rows,
whose enterprise is the dealer, so a data level of its own keeps a dealer to its enterprise's).

"partner.service.offer" holds the field rules of a ticket dispatched to a partner that has not yet
accepted it: the customer's phone and the site address are hidden there by default (a role that does
not grant it sees neither before acceptance either), so a partner learns how to reach the customer only
once it has taken the work on.
"""

from __future__ import annotations

from apps.service.dealer.models import DealerTicket
from apps.service.models import Device, Ticket
from apps.service.settlement.models import Settlement
from portal.i18n import N_
from portal.permissions import ProtectedObject

APP = "service"

PARTNER_TICKET = "partner.service.ticket"
PARTNER_JOB = "partner.service.job"
PARTNER_OFFER = "partner.service.offer"
PARTNER_DEVICE = "partner.service.device"
PARTNER_SETTLEMENT = "partner.service.settlement"
PARTNER_DEALER_TICKET = "partner.service.dealer_ticket"

TICKET = "service.ticket"
DEVICE = "service.device"
SETTLEMENT = "service.settlement"

# The manufacturer runs settlements and answers disputes ("update", the fee schedule as well) and approves
# them, which posts them to the partner's account; the partner reads its own and disputes their lines.
SETTLEMENT_ACTIONS = ("read", "create", "update", "approve", "export")
PARTNER_SETTLEMENT_ACTIONS = ("read", "dispute", "export")

TICKET_FIELDS: tuple[tuple[str, str], ...] = (
    ("symptoms", N_("Symptoms")),
    ("contact_name", N_("Contact name")),
    ("contact_phone", N_("Contact phone")),
    ("address", N_("Site address")),
    ("under_warranty", N_("Under warranty")),
    ("resolution", N_("Resolution")),
)
# Hidden from a partner until it has accepted the ticket (the offer's field rules, see above).
OFFER_FIELDS: tuple[tuple[str, str], ...] = (
    ("contact_phone", N_("Contact phone")),
    ("address", N_("Site address")),
)
DEVICE_FIELDS: tuple[tuple[str, str], ...] = (
    ("customer_name", N_("Customer")),
    ("site_address", N_("Site address")),
    ("install_date", N_("Installed on")),
    ("warranty_end", N_("Warranty ends")),
)

PARTNER_TICKET_ACTIONS = ("read", "accept", "reject", "assign", "work", "export")
PARTNER_JOB_ACTIONS = ("read", "accept", "work")

OBJECTS = (
    ProtectedObject(
        PARTNER_TICKET,
        N_("Service tickets of the enterprise"),
        PARTNER_TICKET_ACTIONS,
        fields=TICKET_FIELDS,
        model=Ticket,
        app=APP,
        staff_view=(TICKET,),
    ),
    ProtectedObject(
        PARTNER_JOB,
        N_("Service tickets assigned to them"),
        PARTNER_JOB_ACTIONS,
        fields=TICKET_FIELDS,
        model=Ticket,
        app=APP,
        staff_view=(TICKET,),
    ),
    ProtectedObject(
        PARTNER_OFFER,
        N_("Service tickets not yet accepted"),
        ("read",),
        fields=OFFER_FIELDS,
        app=APP,
        staff_view=(TICKET,),
    ),
    ProtectedObject(
        PARTNER_DEVICE,
        N_("Devices"),
        ("read",),
        fields=DEVICE_FIELDS,
        model=Device,
        app=APP,
        staff_view=(DEVICE,),
    ),
    ProtectedObject(
        PARTNER_SETTLEMENT,
        N_("Service settlements"),
        PARTNER_SETTLEMENT_ACTIONS,
        model=Settlement,
        app=APP,
        staff_view=(SETTLEMENT,),
    ),
    ProtectedObject(
        PARTNER_DEALER_TICKET,
        N_("Service tickets the enterprise opened"),
        ("read", "create"),
        model=DealerTicket,
        app=APP,
        staff_view=(TICKET,),
    ),
    ProtectedObject(
        TICKET,
        N_("Service tickets"),
        ("read", "create", "update", "dispatch", "cancel", "close", "export"),
        fields=TICKET_FIELDS,
        model=Ticket,
    ),
    ProtectedObject(
        DEVICE,
        N_("Devices"),
        ("read", "create", "update", "import", "export"),
        fields=DEVICE_FIELDS,
        model=Device,
    ),
    ProtectedObject(SETTLEMENT, N_("Service settlements"), SETTLEMENT_ACTIONS, model=Settlement),
)
