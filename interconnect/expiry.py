"""The scheduled expiry of invitations and set-password links: once `expires_at` has passed, the job
records `expired_at`, so lists and the API say "expired" from a stored fact, and an expired link reads as
expired wherever it is shown. (Using a link checks `expires_at` itself: a link is never usable past it,
whether the job has run yet or not.)"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from interconnect.models import Invitation, SetupToken
from portal.db.context import SYSTEM
from portal.db.types import utcnow
from portal.schedules import ScheduledJob
from portal.services import Services

BATCH = 500


async def mark_expired(services: Services) -> int:
    """Every tenant's invitations and unused set-password links past their expiry; how many were marked.
    Invitations are changed row by row so each change is in its tenant's audit log."""
    now, marked = utcnow(), 0
    while True:
        async with services.db.session(SYSTEM) as session:
            due = list(
                await session.scalars(
                    select(Invitation)
                    .where(
                        Invitation.expired_at.is_(None), Invitation.revoked_at.is_(None), Invitation.expires_at <= now
                    )
                    .limit(BATCH)
                )
            )
            for invitation in due:
                invitation.expired_at = now
        marked += len(due)
        if len(due) < BATCH:
            break
    async with services.db.session(SYSTEM) as session:
        result = await session.execute(
            update(SetupToken)
            .where(SetupToken.expired_at.is_(None), SetupToken.used_at.is_(None), SetupToken.expires_at <= now)
            .values(expired_at=now)
            .execution_options(synchronize_session=False)
        )
    return marked + int(result.rowcount or 0)  # type: ignore[attr-defined]


EXPIRY = ScheduledJob("interconnect.link_expiry", mark_expired, every=timedelta(hours=1))
