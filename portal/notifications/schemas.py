"""Request and response bodies of the notifications API."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from portal.notifications.service import Choice, Entry


class NotificationOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    kind: str
    title: str
    body: str
    created_at: datetime
    read_at: datetime | None

    @classmethod
    def of(cls, entry: Entry) -> NotificationOut:
        n = entry.notification
        return cls(id=n.id, kind=n.kind, title=entry.title, body=entry.body, created_at=n.created_at, read_at=n.read_at)


class NotificationPage(msgspec.Struct, kw_only=True):
    items: list[NotificationOut]
    total: int
    unread: int


class UnreadOut(msgspec.Struct, kw_only=True):
    unread: int


class ReadAllOut(msgspec.Struct, kw_only=True):
    marked: int


class ChannelChoices(msgspec.Struct, kw_only=True, omit_defaults=True):
    inbox: bool
    email: bool
    sms: bool
    # a WeChat template message through the manufacturer's official account: partners only (absent for staff)
    wechat: bool | None = None


class PreferenceOut(msgspec.Struct, kw_only=True):
    kind: str
    label: str
    security: bool  # always received, on every channel
    channels: ChannelChoices

    @classmethod
    def of(cls, choice: Choice, label: str) -> PreferenceOut:
        return cls(
            kind=choice.kind.name,
            label=label,
            security=choice.kind.security,
            channels=ChannelChoices(**choice.channels),
        )


class PreferencesOut(msgspec.Struct, kw_only=True):
    items: list[PreferenceOut]
    # the delivery channels this platform is configured with (the inbox always is)
    configured: list[str]


class PreferenceIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    kind: str
    channel: str
    enabled: bool
