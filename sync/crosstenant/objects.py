"""What roles grant on sync, and what an app gives sync for each object it lets travel.

An app describes an object (`SyncObject`, structural: the app never imports sync/) and lists it in its
component's `extra["sync_objects"]`; sync finds it there. Reading runs in the upstream's context,
writing in the peer's."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from portal.i18n import N_
from portal.permissions import ProtectedObject

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from portal.services import Services

RULE = "sync.rule"
CONFLICT = "sync.conflict"

OBJECTS = (
    ProtectedObject(RULE, N_("Sync rules"), ("read", "create", "update", "delete")),
    ProtectedObject(CONFLICT, N_("Sync conflicts"), ("read", "resolve")),
)


class SyncObject(Protocol):
    """read: (id, values, present) per upstream record, in the upstream's context; current: the peer
    record's mapped values and when it changed; write and withdraw: the peer's row (audited)."""

    name: str
    label: str
    # event types saying records changed; `changed_ids` names them
    events: frozenset[str]
    source_fields: Sequence[str]
    # target field -> kind: text, int, decimal, bool
    target_fields: Mapping[str, str]
    required_targets: frozenset[str]
    default_mapping: Sequence[Mapping[str, Any]]

    def changed_ids(self, event_type: str, aggregate_id: uuid.UUID, payload: Mapping[str, Any]) -> list[uuid.UUID]: ...

    async def read(
        self,
        session: AsyncSession,
        link_id: uuid.UUID,
        ids: Sequence[uuid.UUID] | None,
        after: uuid.UUID | None,
        limit: int,
    ) -> list[tuple[uuid.UUID, dict[str, Any], bool]]: ...

    async def count(self, session: AsyncSession) -> int: ...

    async def current(self, session: AsyncSession, peer_id: uuid.UUID) -> tuple[dict[str, Any], datetime] | None: ...

    async def write(self, session: AsyncSession, peer_id: uuid.UUID | None, values: Mapping[str, Any]) -> Any: ...

    async def withdraw(self, session: AsyncSession, peer_id: uuid.UUID) -> Any: ...


def sync_objects(services: Services) -> dict[str, SyncObject]:
    """Every object an installed app lets travel, by name."""
    found: dict[str, SyncObject] = {}
    for component in services.components:
        for obj in component.extra.get("sync_objects", ()):
            found[obj.name] = obj
    return found
