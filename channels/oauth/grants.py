"""The applications a partner has allowed: their live token families in this workspace, and signing out of
one (which also forgets the consent, so the application must ask again)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.oauth.models import Consent, OAuthClient
from portal.actor import Actor
from portal.db.types import utcnow
from portal.errors import NotFound
from portal.i18n import N_
from portal.identity.models import AuthSession
from portal.identity.sessions import revoke_session


@dataclass(frozen=True, slots=True)
class Grant:
    id: uuid.UUID  # the token family
    client_id: uuid.UUID
    client_name: str
    channel: str
    scopes: list[str]
    signed_in_at: datetime
    # each use of its refresh token moves this on by the refresh lifetime
    valid_until: datetime
    device: str | None


async def grants_of(session: AsyncSession, actor: Actor) -> list[Grant]:
    """The person's live sign-ins to applications, newest first."""
    rows = await session.execute(
        select(AuthSession, OAuthClient.name)
        .join(OAuthClient, OAuthClient.id == AuthSession.client_id)
        .where(
            AuthSession.user_id == actor.user_id,
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > utcnow(),
        )
        .order_by(AuthSession.created_at.desc())
    )
    return [_grant(row, name) for row, name in rows.all()]


def _grant(row: AuthSession, name: str) -> Grant:
    assert row.client_id is not None
    return Grant(
        row.id,
        row.client_id,
        name,
        row.channel,
        (row.scope or "").split(),
        row.created_at,
        row.expires_at,
        row.user_agent,
    )


async def sign_out_of(session: AsyncSession, actor: Actor, grant_id: uuid.UUID) -> None:
    """End one of the person's application sign-ins and forget their consent to that application."""
    row = await session.scalar(
        select(AuthSession).where(
            AuthSession.id == grant_id,
            AuthSession.user_id == actor.user_id,
            AuthSession.client_id.is_not(None),
            AuthSession.revoked_at.is_(None),
        )
    )
    if row is None:
        raise NotFound(N_("No such application sign-in"))
    await revoke_session(session, row.id, "signed_out_by_person")
    consent = await session.scalar(
        select(Consent).where(Consent.client_id == row.client_id, Consent.membership_id == actor.user_id)
    )
    if consent is not None:
        await session.delete(consent)  # in the audit log, like the consent it undoes
        await session.flush()
