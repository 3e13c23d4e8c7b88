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
    """read: (id, values, present) per upstream record, in the upstream's context; rows: the peer's rows
    by id (locked) and by key, in the peer's context; new_row, assign, values, changed_at and withdraw work
    on a peer row without a round trip (sync flushes a batch at once)."""

    name: str
    label: str
    # event types saying records changed; `changed_ids` names them
    events: frozenset[str]
    source_fields: Sequence[str]
    # target field -> kind: text, int, decimal, bool
    target_fields: Mapping[str, str]
    required_targets: frozenset[str]
    default_mapping: Sequence[Mapping[str, Any]]
    # every source and target field's name as pages show it (a message id)
    field_labels: Mapping[str, str]

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

    key_field: str  # the target field that identifies a record the peer already has (adopted on first sight)

    async def rows(
        self, session: AsyncSession, peer_ids: Sequence[uuid.UUID], keys: Sequence[str]
    ) -> tuple[dict[uuid.UUID, Any], dict[str, Any]]: ...

    def new_row(self, tenant_id: uuid.UUID) -> Any: ...

    def assign(self, row: Any, values: Mapping[str, Any]) -> None: ...

    def values(self, row: Any) -> dict[str, Any]: ...

    def changed_at(self, row: Any) -> datetime: ...

    def withdraw(self, row: Any) -> bool: ...


def sync_objects(services: Services) -> dict[str, SyncObject]:
    """Every object an installed app lets travel, by name."""
    found: dict[str, SyncObject] = {}
    for component in services.components:
        for obj in component.extra.get("sync_objects", ()):
            found[obj.name] = obj
    return found
