"""What a new upstream starts with in the deal-registration app: the deal registrar's grants, the fields
only the manufacturer decides (partners see them, cannot set them), and the agent type's data level. The
upstream edits all of it afterwards. Plain data, read by the tenant set-up (apps.agent.seed); the
migration that brought existing tenants to the same start keeps its own frozen copy."""

from __future__ import annotations

from apps.agent.objects import PARTNER_OBJECT
from roles.presets import DEAL_REGISTRAR

GRANTS: dict[str, tuple[tuple[str, str], ...]] = {
    DEAL_REGISTRAR: tuple((PARTNER_OBJECT, action) for action in ("read", "create", "update", "export")),
}
# A programme qualifies and wins deals and pays commission: a partner registering a deal does not.
READ_ONLY_FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    DEAL_REGISTRAR: {PARTNER_OBJECT: ("stage", "commission_rate")},
}
# partner type code -> (level, include sub-enterprises): an agent works on its own enterprise's deals
DEAL_LEVELS: dict[str, tuple[str, bool]] = {"agent": ("enterprise_write", False)}
