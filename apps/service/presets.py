"""What a new upstream starts with in the service app: grants on the preset roles, the field rules that
keep the customer's phone and address from a partner until it accepts a ticket, the service providers'
data levels (the enterprise's tickets for its dispatcher, their own for its engineers, the devices it
looks after), the dealers' tickets (those their enterprise opened for the devices it sold), and the staff
dispatcher's region scope. The upstream edits all of it afterwards. Plain
data, read by the tenant set-up (apps.service.seed); the migration that brought existing tenants to the
same start keeps its own frozen copy."""

from __future__ import annotations

from apps.service.objects import (
    DEVICE,
    OFFER_FIELDS,
    PARTNER_DEALER_TICKET,
    PARTNER_DEVICE,
    PARTNER_JOB,
    PARTNER_OFFER,
    PARTNER_SETTLEMENT,
    PARTNER_SETTLEMENT_ACTIONS,
    PARTNER_TICKET,
    PARTNER_TICKET_ACTIONS,
    SETTLEMENT,
    SETTLEMENT_ACTIONS,
    TICKET,
)
from roles.presets import DEALER_ADMIN, DEALER_BUYER, SERVICE_DISPATCHER, SERVICE_ENGINEER, SERVICE_MANAGER

DISPATCHER = "dispatcher"  # the manufacturer's own, a preset staff role

_STAFF = (
    *((TICKET, action) for action in ("read", "create", "update", "dispatch", "cancel", "close", "export")),
    *((DEVICE, action) for action in ("read", "create", "update", "import", "export")),
)
_ENGINEER = (
    (PARTNER_JOB, "read"),
    (PARTNER_JOB, "accept"),
    (PARTNER_JOB, "work"),
    (PARTNER_OFFER, "read"),
    (PARTNER_DEVICE, "read"),
)
# Settlements: the service manager runs, answers and approves them; the staff dispatcher reads them; the
# partner's dispatcher reviews and disputes its enterprise's.
GRANTS: dict[str, tuple[tuple[str, str], ...]] = {
    SERVICE_MANAGER: (*_STAFF, *((SETTLEMENT, action) for action in SETTLEMENT_ACTIONS)),
    DISPATCHER: (*_STAFF, (SETTLEMENT, "read")),
    SERVICE_DISPATCHER: (
        *((PARTNER_TICKET, action) for action in PARTNER_TICKET_ACTIONS),
        *_ENGINEER,
        *((PARTNER_SETTLEMENT, action) for action in PARTNER_SETTLEMENT_ACTIONS),
    ),
    SERVICE_ENGINEER: _ENGINEER,
    # a dealer opens tickets for the devices it sold and follows those its enterprise opened
    DEALER_ADMIN: ((PARTNER_DEALER_TICKET, "read"), (PARTNER_DEALER_TICKET, "create")),
    DEALER_BUYER: ((PARTNER_DEALER_TICKET, "read"), (PARTNER_DEALER_TICKET, "create")),
}
# Before a partner accepts a ticket, its people do not see how to reach the customer.
HIDDEN_BEFORE_ACCEPTANCE: dict[str, dict[str, dict[str, str]]] = {
    key: {PARTNER_OFFER: {name: "hidden" for name, _label in OFFER_FIELDS}}
    for key in (SERVICE_DISPATCHER, SERVICE_ENGINEER)
}
# partner type code -> (level, include sub-enterprises)
LEVELS: dict[str, dict[str, tuple[str, bool]]] = {
    PARTNER_TICKET: {"service_provider": ("enterprise_write", False)},
    PARTNER_JOB: {"service_provider": ("private", False)},
    PARTNER_DEVICE: {"service_provider": ("enterprise_read", False)},
    PARTNER_SETTLEMENT: {"service_provider": ("enterprise_write", False)},
    # the tickets the enterprise opened; a distributor's also those its stores opened
    PARTNER_DEALER_TICKET: {
        "dealer": ("enterprise_read", False),
        "store": ("enterprise_read", False),
        "distributor": ("enterprise_read", True),
    },
}
# The staff dispatcher works the regions of its teams (the service manager, every region: "all").
SCOPES: dict[str, dict[str, str]] = {DISPATCHER: {TICKET: "region", DEVICE: "region"}}
REOPEN_DAYS = 14
