"""Notifications to people: one row per notice, which is also its inbox entry, with the state of its
delivery on each channel; and each person's choice of what they receive where."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db.base import Base, TenantOwned
from portal.db.types import utcnow

RECIPIENT_KINDS = ("internal", "external")
CHANNELS = ("inbox", "email", "sms", "wechat")
# The channels each kind of recipient may choose: a WeChat template message reaches partners only.
AUDIENCE_CHANNELS = {"internal": ("inbox", "email", "sms"), "external": CHANNELS}
# What a delivery channel of one notification is doing: `pending` until its sender has sent it,
# `off` when it was never to go there (no address, not configured, not wanted).
CHANNEL_STATES = ("pending", "sent", "off", "expired")
# A WeChat template message may also end `undeliverable` (the person does not follow the official
# account) or `failed` (WeChat refused it with another code, kept in `wechat_error`).
WECHAT_STATES = ("pending", "sent", "off", "undeliverable", "failed")


class Notification(TenantOwned, Base):
    """A notice to one person of the tenant: a staff user (`internal`, the user's id) or a partner
    (`external`, the membership's id). Where to deliver it is fixed when it is written (the address and
    language the person had then), so the senders need nothing of the package the person belongs to.

    `secret_link` is a one-time link (set-password, invitation, password reset) the email or SMS carries;
    the inbox never shows it. It is removed once no channel still has to deliver it, or once it expires."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_recipient", "tenant_id", "recipient_kind", "recipient_id", "created_at"),
        Index("uq_notifications_dedup", "tenant_id", "dedup_key", unique=True),
        CheckConstraint("recipient_kind IN ('internal', 'external', 'customer')", name="recipient_kind"),
        CheckConstraint("email_status IN ('pending', 'sent', 'off', 'expired')", name="email_status"),
        CheckConstraint("sms_status IN ('pending', 'sent', 'off', 'expired')", name="sms_status"),
        CheckConstraint("wechat_status IN ('pending', 'sent', 'off', 'undeliverable', 'failed')", name="wechat_status"),
    )

    recipient_kind: Mapped[str] = mapped_column(String(16))
    recipient_id: Mapped[uuid.UUID]
    recipient_name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(60))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    locale: Mapped[str] = mapped_column(String(8))
    security: Mapped[bool] = mapped_column(default=False)
    in_inbox: Mapped[bool] = mapped_column(default=True)
    email: Mapped[str | None] = mapped_column(String(254))
    mobile: Mapped[str | None] = mapped_column(String(32))
    email_status: Mapped[str] = mapped_column(String(12), default="off")
    sms_status: Mapped[str] = mapped_column(String(12), default="off")
    email_sent_at: Mapped[datetime | None]
    sms_sent_at: Mapped[datetime | None]
    # a WeChat template message through the tenant's official account (channels.wechat.templates): the
    # person's openid there, and WeChat's error code and message when it refused the message
    wechat_to: Mapped[str | None] = mapped_column(String(64))
    wechat_status: Mapped[str] = mapped_column(String(16), default="off")
    wechat_sent_at: Mapped[datetime | None]
    wechat_error: Mapped[str | None] = mapped_column(String(200))
    secret_link: Mapped[str | None] = mapped_column(String(600))
    link_expires_at: Mapped[datetime | None]
    # Set by a sender that may run twice for one cause (an event delivered again): one notice per key.
    dedup_key: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]


class NotificationPreference(TenantOwned, Base):
    """A person's choice for one kind on one channel. No row: the notice is received (the default)."""

    __tablename__ = "notification_preferences"
    __table_args__ = (
        UniqueConstraint("tenant_id", "recipient_kind", "recipient_id", "kind", "channel"),
        CheckConstraint("channel IN ('inbox', 'email', 'sms', 'wechat')", name="channel"),
    )

    recipient_kind: Mapped[str] = mapped_column(String(16))
    recipient_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(60))
    channel: Mapped[str] = mapped_column(String(8))
    enabled: Mapped[bool] = mapped_column(default=True)
