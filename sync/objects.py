"""What roles grant on deliveries: reading them (the overview, the lists, the attempts) and replaying one."""

from __future__ import annotations

from portal.i18n import N_
from portal.permissions import ProtectedObject

DELIVERY = "delivery.event"

OBJECTS = (ProtectedObject(DELIVERY, N_("Event deliveries"), ("read", "replay")),)
