"""Who is acting: the authenticated principal every permission check, query scope and audit entry uses."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Literal

# "customer": a person without an account acting through a link of theirs (a service ticket's progress link).
# "integration": an external system (an ERP) acting with one of the tenant's integration API keys (sync/integrations).
ActorKind = Literal["internal", "external", "system", "customer", "integration"]
# "api": a token of the password sign-in (POST /api/.../auth/token); "mobile" and "oauth": a token an
# application got through OAuth (channels/), from a phone app or any other application; "miniapp": a token
# the manufacturer's WeChat mini-program got by signing the person in with WeChat (channels/wechat); "official": a
# cookie of the partner portal's pages opened by signing the person in with WeChat inside the manufacturer's
# official account (WeChat's own browser, channels/wechat/official).
Channel = Literal["web", "api", "mobile", "oauth", "miniapp", "official", "cli", "system", "integration"]
BEARER_CHANNELS: tuple[Channel, ...] = ("api", "mobile", "oauth", "miniapp")
COOKIE_CHANNELS: tuple[Channel, ...] = ("web", "official")


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: uuid.UUID
    tenant_id: uuid.UUID
    kind: ActorKind
    channel: Channel
    display_name: str = ""
    email: str = ""
    roles: frozenset[str] = field(default_factory=frozenset)
    enterprise_id: uuid.UUID | None = None
    # External users: their enterprise's name, read with the session (None without an enterprise).
    enterprise_name: str | None = None
    # External users: whether their membership is their enterprise's administrator (a fact of the
    # membership shown to them; what they may do is still the roles' answer).
    enterprise_admin: bool = False
    session_id: uuid.UUID | None = None
    locale: str | None = None
    # The tenant as its pages show it, read with the session: its time zone (IANA name) for every time
    # shown, its address and name for the frame of a page (an error page inside its partner portal).
    time_zone: str = "UTC"
    tenant_slug: str = ""
    tenant_name: str = ""
    # External users: the person behind the membership (one identity, a membership per upstream).
    identity_id: uuid.UUID | None = None
    # External users: their enterprise's partner type and tier (data rules and sharing rules key on them).
    partner_type_id: uuid.UUID | None = None
    tier_id: uuid.UUID | None = None
    # External users: their enterprise and everything under it, when the session lookup knows it without
    # asking (an enterprise with nothing under it is its own subtree); None means "list it when needed".
    sub_enterprises: frozenset[uuid.UUID] | None = None
    # Unread entries of the person's inbox, read with the session (the bell in a page's header).
    unread_notifications: int = 0
    # An administrator looking through this user's eyes: every write is refused.
    preview: bool = False
    # Previewing one role rather than the user's own roles.
    preview_role: str | None = None
    # The staff user looking, and the roles they hold now: a preview shows no more than they may read.
    preview_by: uuid.UUID | None = None
    previewer_roles: frozenset[str] = field(default_factory=frozenset)
    # A token an application got through OAuth: the scopes the person granted it (a partner app's key,
    # or "profile"), beyond which the one guard refuses whatever the roles allow. None: not limited.
    scopes: frozenset[str] | None = None
    # The session's recorded last use is older than a minute: the request records it once it is done
    # (portal.identity.sessions.Sessions.record_use).
    session_stale: bool = False
