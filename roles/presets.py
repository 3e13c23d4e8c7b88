"""The roles every tenant starts with, the partner apps roles open, and the role templates of the
preset partner types. An upstream edits all of them afterwards; presets only cannot be deleted."""

from __future__ import annotations

from dataclasses import dataclass

from portal.i18n import N_
from portal.permissions import ADMIN_ROLE, ANY

# The partner apps the apps package implements; a role opens some of them. An app is listed here only
# once it is built: roles, the role editor and the partner home offer nothing else.
PARTNER_APPS: tuple[tuple[str, str], ...] = (
    ("agent", N_("Deal registration")),
    ("ordering", N_("Ordering")),
    ("service", N_("Service")),
)
APP_KEYS = tuple(key for key, _label in PARTNER_APPS)

ENTERPRISE_ADMIN = "enterprise_admin"
MEMBER = "member"
# Registers deals: what an agent is for (its grants on deals come with the agent app, apps.agent.presets)
DEAL_REGISTRAR = "deal_registrar"
# The service app's people (their grants come with it, apps.service.presets): the manufacturer's service
# manager; a service partner's dispatcher, who takes tickets on and assigns them, and its engineers.
SERVICE_MANAGER = "service_manager"
SERVICE_DISPATCHER = "service_dispatcher"
SERVICE_ENGINEER = "service_engineer"
# A trading partner's people: its admin runs its ordering, its buyers place orders (their grants come with
# the ordering app, apps.ordering.presets); both open service tickets for the devices it sold.
DEALER_ADMIN = "dealer_admin"
DEALER_BUYER = "dealer_buyer"


@dataclass(frozen=True, slots=True)
class PresetRole:
    key: str
    name: str
    kind: str
    description: str
    grants: tuple[tuple[str, str], ...]
    apps: tuple[str, ...] = ()
    scope: str | None = None  # internal roles: data scope on every object


PRESET_ROLES: tuple[PresetRole, ...] = (
    PresetRole(
        ADMIN_ROLE, N_("Administrator"), "internal", N_("Everything, including roles"), ((ANY, ANY),), (), "all"
    ),
    PresetRole(
        "staff",
        N_("Staff member"),
        "internal",
        N_("Reads and exports everything"),
        ((ANY, "read"), (ANY, "export")),
        (),
        "all",
    ),
    PresetRole(
        "channel_manager",
        N_("Channel manager"),
        "internal",
        N_("Runs the partner programme: enterprises, invitations and their people"),
        (
            ("console", "read"),
            ("interconnect.programme", ANY),
            ("interconnect.enterprises", ANY),
            ("interconnect.invitations", ANY),
            ("interconnect.users", ANY),
            ("roles", "read"),
        ),
        (),
        "all",
    ),
    PresetRole(
        "order_desk",
        N_("Order desk"),
        "internal",
        N_("Handles partners' orders"),
        (("console", "read"), ("interconnect.enterprises", "read")),
        (),
        "all",
    ),
    PresetRole(
        "dispatcher",
        N_("Dispatcher"),
        "internal",
        N_("Dispatches service work to service partners"),
        (("console", "read"), ("interconnect.enterprises", "read")),
        (),
        "team",
    ),
    PresetRole(
        SERVICE_MANAGER,
        N_("Service manager"),
        "internal",
        N_("Runs the service app: tickets, dispatch and devices in every region"),
        (("console", "read"), ("interconnect.enterprises", "read")),
        (),
        "all",
    ),
    PresetRole(
        ENTERPRISE_ADMIN,
        N_("Enterprise admin"),
        "external",
        N_("Manages the enterprise's own colleagues and their roles"),
        (("partner.profile", "read"), ("partner.colleagues", ANY)),
        APP_KEYS,
    ),
    PresetRole(MEMBER, N_("Member"), "external", N_("Signs in and sees the portal"), (("partner.profile", "read"),)),
    PresetRole(
        DEALER_ADMIN,
        N_("Dealer admin"),
        "external",
        N_("Runs the dealer's ordering"),
        (("partner.profile", "read"),),
        ("ordering", "service"),
    ),
    PresetRole(
        DEALER_BUYER,
        N_("Dealer buyer"),
        "external",
        N_("Places orders"),
        (("partner.profile", "read"),),
        ("ordering", "service"),
    ),
    PresetRole(
        DEAL_REGISTRAR,
        N_("Deal registrar"),
        "external",
        N_("Registers deals and follows them up; the manufacturer sets their stage and commission"),
        (("partner.profile", "read"),),
        ("agent", "notices", "academy"),
    ),
    PresetRole(
        SERVICE_DISPATCHER,
        N_("Service dispatcher"),
        "external",
        N_("Takes on the service tickets dispatched to the enterprise and assigns its engineers"),
        (("partner.profile", "read"),),
        ("service",),
    ),
    PresetRole(
        SERVICE_ENGINEER,
        N_("Service engineer"),
        "external",
        N_("Works on the service tickets assigned to them"),
        (("partner.profile", "read"),),
        ("service",),
    ),
)

# Per preset partner type: (role, assignable by the enterprise admin, new member default, new admin default).
# Each type's first admin gets what the type is for: a trading partner orders (the dealer admin role holds
# everything a buyer does), an agent registers deals, a service provider dispatches its tickets, and the
# people it adds after are its engineers.
_TRADE = (
    (ENTERPRISE_ADMIN, True, False, True),
    (MEMBER, True, True, True),
    (DEALER_ADMIN, True, False, True),
    (DEALER_BUYER, True, True, False),
)
_SERVICE = (
    (ENTERPRISE_ADMIN, True, False, True),
    (MEMBER, True, True, True),
    (SERVICE_DISPATCHER, True, False, True),
    (SERVICE_ENGINEER, True, True, False),
)
_AGENT = (
    (ENTERPRISE_ADMIN, True, False, True),
    (MEMBER, True, True, True),
    (DEAL_REGISTRAR, True, True, True),
)
_PLAIN = ((ENTERPRISE_ADMIN, True, False, True), (MEMBER, True, True, True))
PRESET_TEMPLATES: dict[str, tuple[tuple[str, bool, bool, bool], ...]] = {
    "distributor": _TRADE,
    "dealer": _TRADE,
    "store": _TRADE,
    "service_provider": _SERVICE,
    "agent": _AGENT,
    "subsidiary": _PLAIN,
}
