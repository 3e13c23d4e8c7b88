"""The two service-level notices the timer job sends: a warning to the partner's dispatchers and the
ticket's engineer before a target is due, and a breach to the manufacturer's service managers."""

from __future__ import annotations

from portal.i18n import N_
from portal.notifications.kinds import NotificationKind

WARNING = "service.sla_warning"
BREACHED = "service.sla_breached"
_SAMPLE = {"name": "Li Wei", "workspace": "Acme Pumps", "number": "T000123", "product": "Centrifugal pump"}

KINDS = (
    NotificationKind(
        WARNING,
        N_("Service ticket close to its service-level target"),
        "service/notifications/sla_warning",
        frozenset({"external"}),
        sample={**_SAMPLE, "target": "resolution", "due_at": "2026-12-04T09:00:00+00:00"},
    ),
    NotificationKind(
        BREACHED,
        N_("Service ticket missed its service-level target"),
        "service/notifications/sla_breached",
        frozenset({"internal"}),
        sample={**_SAMPLE, "target": "response"},
    ),
)
