"""What roles grant on the tenant's WeChat apps (its mini-program and its official account): reading their
registrations and changing them."""

from __future__ import annotations

from portal.i18n import N_
from portal.permissions import ProtectedObject

MINI_PROGRAM = "channels.wechat"

OBJECTS = (ProtectedObject(MINI_PROGRAM, N_("WeChat mini-program and official account"), ("read", "update")),)
