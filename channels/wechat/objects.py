"""What roles grant on the tenant's WeChat mini-program: reading its registration and changing it."""

from __future__ import annotations

from portal.i18n import N_
from portal.permissions import ProtectedObject

MINI_PROGRAM = "channels.wechat"

OBJECTS = (ProtectedObject(MINI_PROGRAM, N_("WeChat mini-program"), ("read", "update")),)
