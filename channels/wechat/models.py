"""A tenant's WeChat apps (its mini-program and its official account) and the WeChat accounts its partners signed in
with.

The app secret and the cached WeChat access token are sealed at rest (channels.wechat.sealing): a copy of the
database alone gives neither.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db.base import Audited, Base, TenantOwned, Timestamped

STATUSES = ("active", "disabled")
BOUND_BY = ("phone", "password", "unionid")


class WeChatApp:
    """What the platform keeps of one of the tenant's WeChat apps: its app id and secret, and the WeChat access
    token it holds for it. The token is refreshed by one process at a time: whoever takes the lease
    (`refresh_lease_owner` until `refresh_lease_until`) asks WeChat, the others wait for its answer
    (channels.wechat.tokens)."""

    __audit_redact__ = frozenset({"secret_sealed", "access_token_sealed"})
    # the token's refreshes are the platform's bookkeeping, not an administrator's change
    __audit_ignore__ = frozenset(
        {"updated_at", "access_token_sealed", "access_token_expires_at", "refresh_lease_owner", "refresh_lease_until"}
    )

    app_id: Mapped[str] = mapped_column(String(32))
    secret_sealed: Mapped[str] = mapped_column(Text)
    secret_set_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="active")
    access_token_sealed: Mapped[str | None] = mapped_column(Text)
    access_token_expires_at: Mapped[datetime | None]
    refresh_lease_owner: Mapped[str | None] = mapped_column(String(40))
    refresh_lease_until: Mapped[datetime | None]
    created_by: Mapped[uuid.UUID | None]


class MiniProgram(WeChatApp, TenantOwned, Timestamped, Audited, Base):
    """The tenant's one mini-program."""

    __tablename__ = "wechat_mini_programs"
    __table_args__ = (
        UniqueConstraint("tenant_id"),
        CheckConstraint("status IN ('active', 'disabled')", name="status"),
    )


class OfficialAccount(WeChatApp, TenantOwned, Timestamped, Audited, Base):
    """The tenant's one official account (公众号, a service account): partners who follow it open the partner
    portal's pages in WeChat's browser and are signed in with WeChat's web authorisation (channels.wechat.official)."""

    __tablename__ = "wechat_official_accounts"
    __table_args__ = (
        UniqueConstraint("tenant_id"),
        CheckConstraint("status IN ('active', 'disabled')", name="status"),
    )


class WeChatBinding(TenantOwned, Timestamped, Audited, Base):
    """A WeChat account (its `openid` in one of the tenant's WeChat apps, its mini-program or its official
    account, named by `app_id`; and its `unionid` across the manufacturer's WeChat apps when WeChat gives one)
    bound to a partner's global identity: the person signs in with WeChat alone from then on. `bound_by` says how
    the person proved who they are the first time: their phone number, their password, or a unionid already bound
    through another of the manufacturer's WeChat apps."""

    __tablename__ = "wechat_bindings"
    __table_args__ = (
        UniqueConstraint("tenant_id", "app_id", "openid"),
        Index("ix_wechat_bindings_tenant_unionid", "tenant_id", "unionid"),
        Index("ix_wechat_bindings_tenant_identity", "tenant_id", "identity_id"),
        CheckConstraint("bound_by IN ('phone', 'password', 'unionid')", name="bound_by"),
    )
    __audit_ignore__ = frozenset({"updated_at", "last_sign_in_at", "credential_mark"})

    app_id: Mapped[str] = mapped_column(String(32))
    openid: Mapped[str] = mapped_column(String(64))
    unionid: Mapped[str | None] = mapped_column(String(64))
    identity_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("external_identities.id", ondelete="RESTRICT"))
    bound_by: Mapped[str] = mapped_column(String(16))
    last_sign_in_at: Mapped[datetime | None]
    # a fingerprint of the person's password hash when the account was bound: a password set or reset
    # since (a stolen password, a number given to someone else) ends the binding (channels.wechat.signin)
    credential_mark: Mapped[str | None] = mapped_column(String(32))


class WeChatTemplate(TenantOwned, Timestamped, Audited, Base):
    """Which template message of the official account carries one kind of notification (`kind`): WeChat's
    `template_id` (chosen in WeChat's admin console), and each of the template's fields (`fields`: the field's name,
    e.g. "keyword1", to what fills it: one of the notice's values, e.g. "number", or its inbox "title" or "body").
    A kind without a row is not sent as a template message (channels.wechat.templates)."""

    __tablename__ = "wechat_templates"
    __table_args__ = (UniqueConstraint("tenant_id", "kind"),)
    __audit_ignore__ = frozenset({"updated_at"})

    kind: Mapped[str] = mapped_column(String(60))
    template_id: Mapped[str] = mapped_column(String(64))
    fields: Mapped[dict[str, str]] = mapped_column(JSON)
    created_by: Mapped[uuid.UUID | None]
