"""A tenant's OAuth clients, the authorization codes issued to them and the consents partners gave them.

The tokens themselves are the kernel's session rows (`auth_sessions`, channel "mobile" or "oauth", with
the client and the granted scopes): the partner API looks an OAuth token up exactly as a password-issued
one, and revoking the row ends the access and refresh tokens of its family at once.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKeyConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db.base import Audited, Base, TenantOwned, Timestamped
from portal.db.types import utcnow

KINDS = ("public", "confidential")
CLIENT_CHANNELS = ("mobile", "oauth")
STATUSES = ("active", "disabled")


class OAuthClient(TenantOwned, Timestamped, Audited, Base):
    """An application registered by the tenant's admin. Its `id` is its OAuth `client_id`. A public client
    (an app on a phone) has no secret; a confidential one (a server) authenticates with a secret of which
    only the SHA-256 is kept (256 random bits: a slow hash would add nothing). `channel` is what the audit
    log and the person's sessions name its tokens: "mobile" (a phone app) or "oauth" (any other)."""

    __tablename__ = "oauth_clients"
    __table_args__ = (
        CheckConstraint("kind IN ('public', 'confidential')", name="kind"),
        CheckConstraint("channel IN ('mobile', 'oauth')", name="channel"),
        CheckConstraint("status IN ('active', 'disabled')", name="status"),
    )
    __audit_redact__ = frozenset({"secret_hash"})

    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(8))
    # compared whole, character for character, with the redirect_uri of a request (no patterns)
    redirect_uris: Mapped[list[str]] = mapped_column(JSON)
    # what the client may ask for: partner app keys and "profile" (channels.oauth.scopes)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="active")
    secret_hash: Mapped[str | None] = mapped_column(String(64))
    secret_rotated_at: Mapped[datetime | None]
    created_by: Mapped[uuid.UUID | None]


class AuthorizationCode(TenantOwned, Base):
    """A code handed to a client through the person's browser: single-use, short-lived, bound to the client,
    the redirect URI and a PKCE S256 challenge. Only its SHA-256 is kept. `session_id` is the token family
    it was exchanged for: presenting the code again revokes that family."""

    __tablename__ = "oauth_codes"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "client_id"], ["oauth_clients.tenant_id", "oauth_clients.id"]),
        Index("ix_oauth_codes_hash", "tenant_id", "code_hash", unique=True),
    )

    code_hash: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[uuid.UUID]
    membership_id: Mapped[uuid.UUID]
    # as the authorization request sent it (None: it named none, and the client's only URI was used)
    redirect_uri: Mapped[str | None] = mapped_column(String(2000))
    scope: Mapped[str] = mapped_column(String(200))
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    session_id: Mapped[uuid.UUID | None]


class Consent(TenantOwned, Timestamped, Audited, Base):
    """The scopes a partner (a membership) granted a confidential client: a later request for no more than
    these skips the consent page. Public clients are asked every time (see channels.oauth.consent)."""

    __tablename__ = "oauth_consents"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "client_id"], ["oauth_clients.tenant_id", "oauth_clients.id"]),
        UniqueConstraint("tenant_id", "client_id", "membership_id"),
    )

    client_id: Mapped[uuid.UUID]
    membership_id: Mapped[uuid.UUID]
    scope: Mapped[str] = mapped_column(String(200))
