"""A tenant's OAuth clients, for the console and the API: register, change, disable, rotate the secret.

Disabling a client, or taking a scope away from it, ends every token family issued to it at once (the
partner API looks each token's family up on every request); a disabled client can neither have codes
issued nor exchange them.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from channels.domains.service import foreign_redirect
from channels.oauth import redirects
from channels.oauth.models import CLIENT_CHANNELS, KINDS, STATUSES, OAuthClient
from channels.oauth.scopes import SCOPE_KEYS
from portal.actor import Actor
from portal.db.types import utcnow
from portal.errors import Conflict, FieldError, NotFound, ValidationFailed
from portal.i18n import N_
from portal.identity import tokens
from portal.identity.models import AuthSession
from portal.ids import uuid7

MAX_NAME = 200
SECRET_PREFIX = "pcs_"


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def client_out(client: OAuthClient) -> dict[str, Any]:
    return {
        "id": client.id,
        "name": client.name,
        "kind": client.kind,
        "channel": client.channel,
        "redirect_uris": list(client.redirect_uris),
        "scopes": list(client.scopes),
        "status": client.status,
        "secret_rotated_at": client.secret_rotated_at,
        "created_at": client.created_at,
        "updated_at": client.updated_at,
    }


async def end_families(session: AsyncSession, client_id: uuid.UUID, reason: str) -> int:
    """Revoke every live token family of the client: its access and refresh tokens stop at once."""
    result = await session.execute(
        update(AuthSession)
        .where(AuthSession.client_id == client_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


class Clients:
    """The tenant's clients, in the request's unit of work (the actor's tenant)."""

    def __init__(self, session: AsyncSession, actor: Actor) -> None:
        self.session = session
        self.actor = actor

    async def list(self) -> list[OAuthClient]:
        return list(await self.session.scalars(select(OAuthClient).order_by(OAuthClient.created_at)))

    async def get(self, client_id: uuid.UUID) -> OAuthClient:
        client = await self.session.scalar(select(OAuthClient).where(OAuthClient.id == client_id))
        if client is None:
            raise NotFound(N_("No such application"))
        return client

    async def live_families(self, client_id: uuid.UUID) -> int:
        """How many people's sign-ins (token families) of this client are live now."""
        found = await self.session.scalar(
            select(func.count())
            .select_from(AuthSession)
            .where(
                AuthSession.client_id == client_id,
                AuthSession.revoked_at.is_(None),
                AuthSession.expires_at > utcnow(),
            )
        )
        return found or 0

    @staticmethod
    def _checked(values: dict[str, Any], kind: str, *, creating: bool) -> dict[str, Any]:
        errors: list[FieldError] = []
        checked: dict[str, Any] = {}
        if "name" in values or creating:
            name = str(values.get("name") or "").strip()
            if not name:
                errors.append(FieldError("name", N_("Enter the application's name"), "required"))
            elif len(name) > MAX_NAME:
                errors.append(FieldError("name", N_("At most %(n)s characters"), "too_long", {"n": MAX_NAME}))
            checked["name"] = name
        if "channel" in values or creating:
            channel = values.get("channel") or ("mobile" if kind == "public" else "oauth")
            if channel not in CLIENT_CHANNELS:
                errors.append(FieldError("channel", N_("Choose a phone app or another application"), "invalid"))
            checked["channel"] = channel
        if "redirect_uris" in values or creating:
            uris, problem = redirects.checked(list(values.get("redirect_uris") or []), kind)
            if problem:
                errors.append(problem)
            checked["redirect_uris"] = uris
        if "scopes" in values or creating:
            chosen = list(dict.fromkeys(values.get("scopes") or []))
            unknown = [s for s in chosen if s not in SCOPE_KEYS]
            if not chosen:
                errors.append(FieldError("scopes", N_("Choose at least one scope"), "required"))
            elif unknown:
                errors.append(FieldError("scopes", N_("Unknown scope: %(scope)s"), "unknown", {"scope": unknown[0]}))
            checked["scopes"] = [s for s in SCOPE_KEYS if s in chosen]
        if "status" in values:
            if values["status"] not in STATUSES:
                errors.append(FieldError("status", N_("Choose active or disabled"), "invalid"))
            checked["status"] = values["status"]
        if errors:
            raise ValidationFailed(errors)
        return checked

    async def _no_foreign_domain(self, uris: list[str]) -> None:
        uri = await foreign_redirect(self.session, self.actor.tenant_id, uris)
        if uri is not None:
            raise ValidationFailed.single(
                "redirect_uris", N_("This address is another workspace's partner domain: %(uri)s"), "foreign", uri=uri
            )

    async def create(self, values: dict[str, Any]) -> tuple[OAuthClient, str | None]:
        """The new client and, for a confidential one, its secret: shown this once, only its hash is kept."""
        kind = values.get("kind")
        if kind not in KINDS:
            raise ValidationFailed.single("kind", N_("Choose a public or a confidential client"))
        checked = self._checked(values, kind, creating=True)
        await self._no_foreign_domain(checked["redirect_uris"])
        secret = new_secret() if kind == "confidential" else None
        client = OAuthClient(
            id=uuid7(),
            kind=kind,
            status="active",
            secret_hash=tokens.digest(secret) if secret else None,
            secret_rotated_at=utcnow() if secret else None,
            created_by=self.actor.user_id,
            **checked,
        )
        self.session.add(client)
        await self.session.flush()
        return client, secret

    async def update(self, client_id: uuid.UUID, values: dict[str, Any]) -> OAuthClient:
        client = await self.get(client_id)
        checked = self._checked(values, client.kind, creating=False)
        if "redirect_uris" in checked:
            await self._no_foreign_domain(checked["redirect_uris"])
        narrowed = "scopes" in checked and not set(client.scopes) <= set(checked["scopes"])
        disabled = checked.get("status") == "disabled" and client.status != "disabled"
        for name, value in checked.items():
            setattr(client, name, value)
        await self.session.flush()
        if disabled:
            await end_families(self.session, client.id, "client_disabled")
        elif narrowed:
            await end_families(self.session, client.id, "client_scopes_changed")
        return client

    async def rotate(self, client_id: uuid.UUID) -> tuple[OAuthClient, str]:
        """A new secret, shown this once; the old one stops working at once (tokens already issued live on)."""
        client = await self.get(client_id)
        if client.kind != "confidential":
            raise Conflict(N_("A public client has no secret"), code="public_client")
        secret = new_secret()
        client.secret_hash = tokens.digest(secret)
        client.secret_rotated_at = utcnow()
        await self.session.flush()
        return client, secret
