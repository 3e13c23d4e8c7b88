"""The tenancy context a database session runs in: one tenant, or the explicit system context.

Every session is opened with one of these; there is no implicit default. Cross-tenant work (sign-up,
platform administration, later invitations and sync) must say `SYSTEM` where a reviewer can see it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from portal.actor import Actor


@dataclass(frozen=True, slots=True)
class DbContext:
    tenant_id: uuid.UUID | None
    system: bool = False
    actor: Actor | None = None
    # Where a change without an authenticated actor came from (sign-up page, CLI), for the audit log.
    channel: str | None = None

    def __post_init__(self) -> None:
        if self.system and self.tenant_id is not None:
            raise ValueError("the system context belongs to no tenant")

    @property
    def public(self) -> bool:
        """Anonymous work on global tables only (tenant lookup, login throttling): any tenant-owned
        query or write in this context is a programming error."""
        return not self.system and self.tenant_id is None

    @property
    def effective_channel(self) -> str:
        if self.actor is not None:
            return self.actor.channel
        return self.channel or "system"

    @property
    def label(self) -> str:
        if self.system:
            return "system context"
        return "public context" if self.public else f"tenant {self.tenant_id}"


SYSTEM = DbContext(tenant_id=None, system=True)
PUBLIC = DbContext(tenant_id=None)


def tenant_context(tenant_id: uuid.UUID, actor: Actor | None = None, channel: str | None = None) -> DbContext:
    return DbContext(tenant_id=tenant_id, actor=actor, channel=channel)


def actor_context(actor: Actor) -> DbContext:
    return DbContext(tenant_id=actor.tenant_id, actor=actor)
