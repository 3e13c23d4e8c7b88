"""What a new upstream starts with in the deal-registration app: the deal registrar's grants, the fields
only the manufacturer decides (partners see them, cannot set them), and the agent type's data level. The
upstream edits all of it afterwards. Plain data, read by the tenant set-up (apps.agent.seed); the
migration that brought existing tenants to the same start keeps its own frozen copy."""

from __future__ import annotations

from apps.agent.objects import (
    LEAD_SETUP,
    PARTNER_COMMISSION,
    PARTNER_COMMISSION_ACTIONS,
    PARTNER_FUND,
    PARTNER_FUND_ACTIONS,
    PARTNER_LEAD,
    PARTNER_LEAD_ACTIONS,
    PARTNER_OBJECT,
    REGISTRATION_ACTIONS,
    STAFF_COMMISSION,
    STAFF_COMMISSION_ACTIONS,
    STAFF_FUND,
    STAFF_FUND_ACTIONS,
    STAFF_LEAD,
    STAFF_LEAD_ACTIONS,
    STAFF_OBJECT,
    STAFF_REGISTRATION,
)
from roles.presets import DEAL_REGISTRAR

CHANNEL_MANAGER = "channel_manager"  # the manufacturer's own, a preset staff role

# A deal registrar also works leads: claims them from the pools, follows them up, gives them back. The
# channel manager makes, imports and distributes leads and sets up pools and assignment rules, decides
# registrations in conflict and extensions of protection, and reads and moves deals across partners. The
# registrar reviews the enterprise's commission statements and asks for and claims market development
# funds; the channel manager sets the commission rules, approves statements, sets fund budgets and decides
# and pays fund requests.
GRANTS: dict[str, tuple[tuple[str, str], ...]] = {
    DEAL_REGISTRAR: (
        *((PARTNER_OBJECT, action) for action in ("read", "create", "update", "export")),
        *((PARTNER_LEAD, action) for action in PARTNER_LEAD_ACTIONS),
        *((PARTNER_COMMISSION, action) for action in PARTNER_COMMISSION_ACTIONS),
        *((PARTNER_FUND, action) for action in PARTNER_FUND_ACTIONS),
    ),
    CHANNEL_MANAGER: (
        *((STAFF_LEAD, action) for action in STAFF_LEAD_ACTIONS),
        (LEAD_SETUP, "read"),
        (LEAD_SETUP, "update"),
        *((STAFF_REGISTRATION, action) for action in REGISTRATION_ACTIONS),
        *((STAFF_OBJECT, action) for action in ("read", "update", "export")),
        *((STAFF_COMMISSION, action) for action in STAFF_COMMISSION_ACTIONS),
        *((STAFF_FUND, action) for action in STAFF_FUND_ACTIONS),
    ),
}
# A programme qualifies and wins deals and pays commission: a partner registering a deal does not, and
# never sets what it is paid (a commission, the funds approved and paid); the upstream may let a role move
# the stage by changing its field rule.
READ_ONLY_FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    DEAL_REGISTRAR: {
        PARTNER_OBJECT: ("stage", "commission_rate"),
        PARTNER_COMMISSION: ("rate", "amount"),
        PARTNER_FUND: ("approved_amount", "paid_amount"),
    },
}
# partner type code -> (level, include sub-enterprises): an agent works on its own enterprise's deals
DEAL_LEVELS: dict[str, tuple[str, bool]] = {"agent": ("enterprise_write", False)}
# An agent's people see and work their enterprise's leads (a colleague may follow up one claimed by another).
LEAD_LEVELS: dict[str, tuple[str, bool]] = {"agent": ("enterprise_write", False)}
