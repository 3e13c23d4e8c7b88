"""Tenants, their internal users (staff) and the sessions those users hold."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db.base import Audited, Base, TenantOwned, Timestamped
from portal.db.types import utcnow
from portal.ids import uuid7

TENANT_STATUSES = ("active", "suspended")
USER_STATUSES = ("active", "disabled")


class Tenant(Timestamped, Base):
    """An upstream tenant (a manufacturer). The registry of tenants is itself global: it is how a
    request finds its tenant, so it carries no tenant_id and no row-level security."""

    __tablename__ = "tenants"
    __table_args__ = (CheckConstraint("status IN ('active', 'suspended')", name="status"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="active")
    default_locale: Mapped[str] = mapped_column(String(8), default="en")
    # IANA name; pages show every time in it (portal.timezones)
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    # Bumped whenever who may do what changes; read with the session on every request, so every
    # process rebuilds its compiled policy on the tenant's next request.
    policy_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # Its brand (portal.brand): the colour its pages use for links and buttons ("#rrggbb"), its logo (a
    # stored file), a text on its partner sign-in page and a line heading its emails.
    brand_colour: Mapped[str | None] = mapped_column(String(7))
    brand_logo_id: Mapped[uuid.UUID | None]
    sign_in_text: Mapped[str | None] = mapped_column(String(500))
    email_header: Mapped[str | None] = mapped_column(String(200))
    # The tenant's own host for its partner portal (e.g. portal.acme.example), set once the tenant proved it
    # holds the domain (channels.domains): a request to it is the partner portal without /p/<slug>.
    partner_domain: Mapped[str | None] = mapped_column(String(253), unique=True)


class InternalUser(TenantOwned, Timestamped, Audited, Base):
    """An employee of the tenant: admin console and API access."""

    __tablename__ = "internal_users"
    __table_args__ = (
        UniqueConstraint("tenant_id", "email"),
        CheckConstraint("status IN ('active', 'disabled')", name="status"),
    )
    __audit_redact__ = frozenset({"password_hash"})
    __audit_ignore__ = frozenset({"updated_at", "last_login_at"})

    email: Mapped[str] = mapped_column(String(254))
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="active")
    locale: Mapped[str | None] = mapped_column(String(8))
    last_login_at: Mapped[datetime | None]


class AuthSession(TenantOwned, Base):
    """A server-side session: a web login (cookie) or an API token family (access + rotating refresh).

    Revoking the row ends the cookie and every access token minted from it at once, because each
    request looks the session up. A family an application got through OAuth (channel "mobile" or
    "oauth") names its client and the scopes the person granted it; one a WeChat mini-program got (channel
    "miniapp") names no client: it acts as the partner's own sign-in, like a password-issued token. A cookie the
    partner got by signing in with WeChat inside the manufacturer's official account has the channel "official".
    `last_used_at` is kept to the minute (portal.identity.sessions.LAST_USE_GRAIN).
    """

    __tablename__ = "auth_sessions"
    __table_args__ = (
        Index("ix_auth_sessions_tenant_user", "tenant_id", "user_id"),
        Index("ix_auth_sessions_tenant_client", "tenant_id", "client_id"),
        CheckConstraint("channel IN ('web', 'api', 'mobile', 'oauth', 'miniapp', 'official')", name="channel"),
    )

    user_id: Mapped[uuid.UUID]
    user_kind: Mapped[str] = mapped_column(String(16), default="internal")
    channel: Mapped[str] = mapped_column(String(8))
    secret_hash: Mapped[str] = mapped_column(String(64))
    generation: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(40))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    ip_address: Mapped[str | None] = mapped_column(String(64))
    # A read-only session an administrator opened to see the portal as this user (or as one role).
    preview_by: Mapped[uuid.UUID | None]
    preview_role: Mapped[str | None] = mapped_column(String(40))
    # OAuth: the client the tokens were issued to, and the granted scopes, space-separated
    client_id: Mapped[uuid.UUID | None]
    scope: Mapped[str | None] = mapped_column(String(200))


class LoginThrottle(Base):
    """Sign-in attempts counted per key inside a window, shared by every app process. Keys are hashes of
    the sign-in name, of a device cookie or of the client address, so no personal data sits in this
    global table."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    attempts: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime]


class PasswordReset(TenantOwned, Base):
    """A one-time, short-lived link to choose a new password, sent to the person (never shown): a staff
    user's (`internal`) or a partner's, through their membership of this tenant (`external`). Only its
    hash is stored; using it, or asking for a newer one, ends it."""

    __tablename__ = "password_resets"
    __table_args__ = (
        Index("ix_password_resets_user", "tenant_id", "user_kind", "user_id"),
        CheckConstraint("user_kind IN ('internal', 'external')", name="user_kind"),
    )

    user_kind: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[uuid.UUID]
    secret_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
