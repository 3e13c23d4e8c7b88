"""Authorization codes outlive their minute only to recognise a second use (which revokes the family made
from the code); after a day they are deleted, every tenant's, by a scheduled job."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete

from channels.oauth.models import AuthorizationCode
from portal.db.context import SYSTEM
from portal.db.types import utcnow
from portal.schedules import ScheduledJob
from portal.services import Services

KEPT_FOR = timedelta(days=1)


async def purge_codes(services: Services) -> int:
    async with services.db.session(SYSTEM) as session:
        result = await session.execute(
            delete(AuthorizationCode)
            .where(AuthorizationCode.expires_at < utcnow() - KEPT_FOR)
            .execution_options(synchronize_session=False)
        )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


PURGE_CODES = ScheduledJob("channels.oauth_code_purge", purge_codes, every=timedelta(hours=1))
