"""What roles grant on the tenant's partner domain: reading it and setting, verifying or removing it."""

from __future__ import annotations

from portal.i18n import N_
from portal.permissions import ProtectedObject

PARTNER_DOMAIN = "channels.domain"

OBJECTS = (ProtectedObject(PARTNER_DOMAIN, N_("Partner domain"), ("read", "update")),)
