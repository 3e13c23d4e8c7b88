"""The two notices of the recycling job: to the holder before a lead goes back, and when it went."""

from __future__ import annotations

from portal.i18n import N_
from portal.notifications.kinds import NotificationKind

RECYCLE_NOTICE = "agent.lead_recycle_notice"
RECYCLED = "agent.lead_recycled"
FOLLOW_UP_DUE = "agent.follow_up_due"
LEADS_ASSIGNED = "agent.leads_assigned"
_SAMPLE = {"name": "Li Wei", "workspace": "Acme Pumps", "company": "Harbour Hotel"}

KINDS = (
    NotificationKind(
        LEADS_ASSIGNED,
        N_("The manufacturer gave your enterprise leads"),
        "agent/notifications/leads_assigned",
        frozenset({"external"}),
        sample={**_SAMPLE, "count": 3},
    ),
    NotificationKind(
        RECYCLE_NOTICE,
        N_("A lead you hold goes back to the pool soon"),
        "agent/notifications/lead_recycle_notice",
        frozenset({"external", "internal"}),
        sample={**_SAMPLE, "due_at": "2026-12-04T09:00:00+00:00"},
    ),
    NotificationKind(
        RECYCLED,
        N_("A lead you held went back to the pool"),
        "agent/notifications/lead_recycled",
        frozenset({"external", "internal"}),
        sample=_SAMPLE,
    ),
    NotificationKind(
        FOLLOW_UP_DUE,
        N_("The next step of a lead is due"),
        "agent/notifications/follow_up_due",
        frozenset({"external", "internal"}),
        sample={**_SAMPLE, "next_step": "Send the quote", "next_date": "2026-12-04"},
    ),
)
