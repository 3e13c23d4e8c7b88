"""The arithmetic of a pool's rules on one lead: when it is due back, when its holder is warned, and
which of its fields show while it is unclaimed."""

from __future__ import annotations

from datetime import datetime, timedelta

from apps.agent.leads.models import Lead, LeadPool


def recycle_at(lead: Lead) -> datetime | None:
    """The first of the lead's two deadlines (no follow-up, no conversion), if it has any."""
    dues = [d for d in (lead.follow_up_due, lead.convert_due) if d is not None]
    return min(dues) if dues else None


RECYCLE_REASONS = ("no_follow_up", "no_conversion")


def recycle_reason(lead: Lead) -> str:
    """Why a lead due back goes: its follow-up deadline came first (or alone), else its conversion's."""
    if lead.follow_up_due is not None and (lead.convert_due is None or lead.follow_up_due <= lead.convert_due):
        return "no_follow_up"
    return "no_conversion"


def reschedule(lead: Lead, pool: LeadPool | None) -> None:
    """The next instant the recycling job looks at the lead: the notice first (once), then the recycling."""
    due = recycle_at(lead) if lead.status == "assigned" else None
    if due is None:
        lead.next_check_at = None
        return
    notice = due - timedelta(days=pool.notice_days) if pool is not None and pool.notice_days else None
    lead.next_check_at = notice if notice is not None and not lead.noticed and notice < due else due


def start_clock(lead: Lead, pool: LeadPool | None, now: datetime) -> None:
    """A lead taken on at `now`: its home pool's deadlines start (none without a pool or its days)."""
    lead.assigned_at = now
    lead.noticed = False
    lead.follow_up_due = now + timedelta(days=pool.follow_up_days) if pool and pool.follow_up_days else None
    lead.convert_due = now + timedelta(days=pool.convert_days) if pool and pool.convert_days else None
    reschedule(lead, pool)


def stop_clock(lead: Lead) -> None:
    lead.follow_up_due = lead.convert_due = lead.next_check_at = None
    lead.noticed = False


def followed_up(lead: Lead, pool: LeadPool | None, now: datetime) -> None:
    """A follow-up restarts the follow-up deadline (not the conversion's) and a notice may come again."""
    lead.last_follow_up_at = now
    if pool is not None and pool.follow_up_days and lead.follow_up_due is not None:
        lead.follow_up_due = max(lead.follow_up_due, now + timedelta(days=pool.follow_up_days))
        lead.noticed = False
    reschedule(lead, pool)


def extended(lead: Lead, pool: LeadPool | None, days: int) -> None:
    """An approved extension moves both deadlines by `days`."""
    step = timedelta(days=days)
    if lead.follow_up_due is not None:
        lead.follow_up_due += step
    if lead.convert_due is not None:
        lead.convert_due += step
    lead.noticed = False
    reschedule(lead, pool)
