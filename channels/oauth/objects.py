"""What roles grant on OAuth clients: one object for registering, changing and disabling them."""

from __future__ import annotations

from portal.i18n import N_
from portal.permissions import ProtectedObject

CLIENT = "channels.oauth_client"

# update: change, disable, rotate the secret
OBJECTS = (ProtectedObject(CLIENT, N_("Applications (OAuth clients)"), ("read", "create", "update")),)
