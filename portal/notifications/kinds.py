"""Kinds of notification, registered by the package that sends them (`Component.notification_kinds`).

Each kind has one template per language, `<template>.<language>.jinja`, found in any component's
template folder, with the blocks `subject`, `text` and `html` (email), `sms` (a short text), and `title`
and `body` (the inbox). The email and SMS blocks get the one-time link as `link` when the notice carries
one; the inbox blocks never do."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from portal.i18n import N_

Audience = Literal["internal", "external", "customer"]


@dataclass(frozen=True)
class NotificationKind:
    name: str
    label: str  # N_() text: the kind as the preferences and preview pages name it
    template: str  # e.g. "notifications/set_password": its files are set_password.en.jinja, ...
    audience: frozenset[Audience] = frozenset({"internal", "external"})
    # Security notices (a password link, an invitation) always go: nobody can turn them off.
    security: bool = False
    # Parameters the template preview page renders it with.
    sample: Mapping[str, Any] = field(default_factory=dict)


class Kinds:
    def __init__(self, kinds: Iterable[NotificationKind]) -> None:
        self.by_name: dict[str, NotificationKind] = {}
        for kind in kinds:
            if kind.name in self.by_name:
                raise ValueError(f"notification kind {kind.name!r} is registered twice")
            self.by_name[kind.name] = kind

    def __getitem__(self, name: str) -> NotificationKind:
        try:
            return self.by_name[name]
        except KeyError:
            raise KeyError(f"no notification kind {name!r} is registered") from None

    def get(self, name: str) -> NotificationKind | None:
        return self.by_name.get(name)

    def all(self) -> list[NotificationKind]:
        return sorted(self.by_name.values(), key=lambda k: k.name)

    def for_audience(self, audience: Audience) -> list[NotificationKind]:
        return [k for k in self.all() if audience in k.audience]


STAFF_PASSWORD_RESET = "staff.password_reset"

# The kernel's own: resetting a staff password from the console's sign-in page.
KERNEL_KINDS = (
    NotificationKind(
        STAFF_PASSWORD_RESET,
        N_("Password reset for console staff"),
        "notifications/password_reset",
        audience=frozenset({"internal"}),
        security=True,
        sample={"name": "Li Wei", "workspace": "Acme Pumps", "minutes": 30},
    ),
)
