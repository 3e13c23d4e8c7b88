"""What roles grant on webhooks: endpoints and their delivery log, one object for both."""

from __future__ import annotations

from portal.i18n import N_
from portal.permissions import ProtectedObject

ENDPOINT = "webhook.endpoint"

# read: endpoints and the log; create/update/delete: endpoints (update: also rotate, ping, replay)
OBJECTS = (ProtectedObject(ENDPOINT, N_("Webhooks"), ("read", "create", "update", "delete")),)
