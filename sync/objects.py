"""What roles grant in sync/: reading deliveries (the overview, the lists, the attempts) and replaying one;
reading the scheduled jobs and their runs (a run passes over every tenant, so running one now is
the platform operator's, through `portal jobs run`, never a workspace's)."""

from __future__ import annotations

from portal.i18n import N_
from portal.permissions import ProtectedObject

DELIVERY = "delivery.event"
JOB = "delivery.job"

OBJECTS = (
    ProtectedObject(DELIVERY, N_("Event deliveries"), ("read", "replay")),
    ProtectedObject(JOB, N_("Scheduled jobs"), ("read",)),
)
