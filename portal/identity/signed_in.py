"""Where a person is signed in: their live sessions in this workspace, on every channel (the web, an application
through OAuth, the mini-program, the official account), and signing out of one of them.

Only the person's own sessions are found (their user id and kind, in the request's tenant), never an
administrator's read-only preview of them. Ending a session is the kernel's one revocation: the very next request
of that cookie or token, in any process, is refused.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portal.actor import Actor
from portal.audit import record_action
from portal.db.types import utcnow
from portal.errors import NotFound
from portal.i18n import N_
from portal.identity.models import AuthSession
from portal.identity.sessions import revoke_user_sessions

# a person's sessions shown at once: more than anyone keeps, fewer than a script opening sessions could make
SHOWN = 200


@dataclass(frozen=True, slots=True)
class SignedInSession:
    id: uuid.UUID
    channel: str
    user_agent: str | None
    ip_address: str | None
    created_at: datetime
    # to the minute (portal.identity.sessions.LAST_USE_GRAIN)
    last_used_at: datetime | None
    expires_at: datetime
    # the application an OAuth token family was given to (channels.oauth), None for the person's own sign-ins
    client_id: uuid.UUID | None
    current: bool


def _mine(actor: Actor) -> list[object]:
    return [
        AuthSession.user_id == actor.user_id,
        AuthSession.user_kind == actor.kind,
        AuthSession.preview_by.is_(None),
        AuthSession.revoked_at.is_(None),
        AuthSession.expires_at > utcnow(),
    ]


async def sessions_of(db: AsyncSession, actor: Actor) -> list[SignedInSession]:
    """The person's live sessions here, the most recently used first."""
    rows = await db.scalars(
        select(AuthSession)
        .where(*_mine(actor))  # type: ignore[arg-type]
        .order_by(AuthSession.last_used_at.desc(), AuthSession.created_at.desc())
        .limit(SHOWN)
    )
    return [
        SignedInSession(
            id=row.id,
            channel=row.channel,
            user_agent=row.user_agent,
            ip_address=row.ip_address,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            expires_at=row.expires_at,
            client_id=row.client_id,
            current=row.id == actor.session_id,
        )
        for row in rows
    ]


async def sign_out_of(db: AsyncSession, actor: Actor, session_id: uuid.UUID) -> None:
    """End one of the person's sessions (this one too, if they choose it); another's is not found. The audit
    log says which channel's session ended, and through which channel the person ended it."""
    row = await db.scalar(select(AuthSession).where(AuthSession.id == session_id, *_mine(actor)))  # type: ignore[arg-type]
    if row is None:
        raise NotFound(N_("No such session"), code="no_session")
    await db.execute(
        update(AuthSession)
        .where(AuthSession.id == row.id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason="signed_out_by_person")
        .execution_options(synchronize_session=False)
    )
    record_action(db, row, "sign_out", {"channel": row.channel, "user_agent": row.user_agent})


async def end_sessions_of(db: AsyncSession, person: Any) -> int:
    """An administrator ends every session of a staff member (`InternalUser`) or a partner (`Membership`) in this
    workspace, on every channel, and their unused password links; the person may sign in again. Audited as the
    administrator's action on the person. How many sessions ended."""
    ended = await revoke_user_sessions(db, person.id, "ended_by_admin")
    record_action(db, person, "sign_out_all", {"sessions": ended})
    return ended
