"""What roles grant on sync, and what an app gives sync for each object it lets travel.

An app describes an object (`SyncObject`, structural: the app never imports sync/) and lists it in its
component's `extra["sync_objects"]`; sync finds it there. Reading runs in the upstream's context,
writing in the peer's.

A `HandedObject` is one whose records the app itself turns into records on the other side (a purchase
order becomes a sales order there, placed by the app's own rules): sync finds the rules, keeps each
event from applying twice, serialises a record's applications, reads it in its own tenant, maps its
fields, hands it to the app in the target's tenant, gives the outcome back to the source record, and
keeps the mapping table and both sides' audit. Its `direction` says which way it travels: "down" from
the upstream (the rule's owner) to the peer, "up" from the peer to the upstream."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
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

    # Optional: `snapshot(session, peer_ids)`, the peer's records as `values` gives them, by id, read
    # without loading or locking them (reconciliation reads many; without it, `rows`). Optional: `cuts`
    # (RangedObject), which lets a backfill run as batches side by side.


class RangedObject(SyncObject, Protocol):
    """A copied object whose backfill is cut into ranges of its records' ids (the upstream's, by id)."""

    async def cuts(self, session: AsyncSession, after: uuid.UUID | None, every: int) -> list[tuple[uuid.UUID, int]]:
        """After `after`, every `every`-th record's id and the last one's, each with its position (1-based)."""
        ...


@dataclass(frozen=True, slots=True)
class Pair:
    """The link a rule names (a row of the upstream), the upstream's tenant and the peer's."""

    link_id: uuid.UUID
    upstream_id: uuid.UUID
    downstream_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class Handover:
    """One source record for the app to apply on the target side: its values as read, the rule's mapping
    of them, its counterpart (from the mapping table, None the first time) and `translate`, which gives
    the upstream's ids of the peer's records of another object by the mapping table (for a purchase
    order's lines: the upstream's products of the peer's)."""

    pair: Pair
    source_id: uuid.UUID
    values: Mapping[str, Any]
    mapped: Mapping[str, Any]
    target_id: uuid.UUID | None
    translate: Callable[[str, Sequence[uuid.UUID]], Awaitable[dict[uuid.UUID, uuid.UUID]]]


@dataclass(slots=True)
class Handled:
    """What the app did with a record on the target side: `outcome` created, updated, unchanged or
    refused; the target's record (its id, and the row the audit entry is written on); `answer` what the
    source record is told (a refusal's reason)."""

    outcome: str
    target_id: uuid.UUID | None = None
    target_row: Any = None
    answer: dict[str, Any] = field(default_factory=dict)


class HandedObject(Protocol):
    """read: (id, values, present) of source records in the source's tenant (named, or the next `limit`
    after `after` for a backfill); apply runs in the target's tenant, answer back in the source's (it
    returns the source row, for its audit entry)."""

    name: str
    label: str
    direction: str  # down | up
    events: frozenset[str]
    source_fields: Sequence[str]
    target_fields: Mapping[str, str]
    required_targets: frozenset[str]
    default_mapping: Sequence[Mapping[str, Any]]
    field_labels: Mapping[str, str]

    def changed_ids(self, event_type: str, aggregate_id: uuid.UUID, payload: Mapping[str, Any]) -> list[uuid.UUID]: ...

    async def read(
        self, session: AsyncSession, pair: Pair, ids: Sequence[uuid.UUID] | None, after: uuid.UUID | None, limit: int
    ) -> list[tuple[uuid.UUID, dict[str, Any], bool]]: ...

    async def count(self, session: AsyncSession, pair: Pair) -> int: ...

    async def apply(self, session: AsyncSession, services: Services, handover: Handover) -> Handled: ...

    async def answer(self, session: AsyncSession, source_id: uuid.UUID, handled: Handled) -> Any: ...

    # Optional: `demo(services, pair, hand)` makes the object's demo records between the pair; `hand(object
    # name, source ids)` hands records of a handed object over at once, as the workers would.


Hand = Callable[[str, Sequence[uuid.UUID]], Awaitable[list[str]]]


def handed(obj: Any) -> bool:
    """Whether the app applies the object's records itself (a `HandedObject`)."""
    return callable(getattr(obj, "apply", None))


def direction_of(obj: Any) -> str:
    return str(getattr(obj, "direction", "down"))


def sync_objects(services: Services) -> dict[str, SyncObject]:
    """Every object an installed app lets travel, by name."""
    found: dict[str, SyncObject] = {}
    for component in services.components:
        for obj in component.extra.get("sync_objects", ()):
            found[obj.name] = obj
    return found
