"""The audit log: who changed what, in which tenant, through which channel, with before and after.

Entries are made by a flush hook for every model marked `Audited`, in the same transaction as the change:
no code path can change an audited row and skip its entry. They are written at the next flush or with the
COMMIT (`queue_insert`), as nothing in a transaction reads back its own audit entries. An action
that is not a row change of its own (replaying a delivery) is written with `record_action`, in the
unit of work that carries it out, by the same actor and channel.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import JSON, Index, String, event, inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, Session, mapped_column

from portal.db.base import Audited, Base, TenantOwned
from portal.db.limits import refuse_excess
from portal.db.tenancy import TenantSession, context_of, queue_insert
from portal.db.types import utcnow
from portal.ids import uuid7
from portal.jsonable import jsonable

REDACTED = "***"


class AuditEntry(TenantOwned, Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_tenant_time", "tenant_id", "occurred_at"),
        Index("ix_audit_log_tenant_object", "tenant_id", "object_type", "object_id"),
    )

    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[uuid.UUID | None]
    enterprise_id: Mapped[uuid.UUID | None]
    channel: Mapped[str] = mapped_column(String(16))
    object_type: Mapped[str] = mapped_column(String(60))
    object_id: Mapped[uuid.UUID]
    action: Mapped[str] = mapped_column(String(16))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


def _value(obj: Audited, key: str, value: Any) -> Any:
    return REDACTED if key in obj.__audit_redact__ and value is not None else jsonable(value)


def _snapshot(obj: Any) -> dict[str, Any]:
    found = obj.__dict__  # what is loaded or given; anything else (expired, never set) through the ORM
    snapshot: dict[str, Any] = {}
    for key, redacted in _keys_of(type(obj)):
        value = found[key] if key in found else getattr(obj, key)
        if value is None or type(value) in _PLAIN:
            snapshot[key] = value if value is None or not redacted else REDACTED
        else:
            snapshot[key] = REDACTED if redacted else jsonable(value)
    return snapshot


_PLAIN = frozenset({str, int, bool})


@lru_cache(maxsize=512)
def _keys_of(model: type[Any]) -> tuple[tuple[str, bool], ...]:
    """The model's column attributes, each with whether its value is redacted: every snapshot asks."""
    return tuple((attr.key, attr.key in model.__audit_redact__) for attr in inspect(model).column_attrs)


def _changes(obj: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    state = inspect(obj)
    for attr in state.mapper.column_attrs:
        if attr.key in obj.__audit_ignore__:
            continue
        history = state.attrs[attr.key].history
        if not history.has_changes():
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        if old == new:
            continue
        before[attr.key] = _value(obj, attr.key, old)
        after[attr.key] = _value(obj, attr.key, new)
    return before, after


def _entry(
    session: Session,
    tenant_id: uuid.UUID,
    object_type: str,
    object_id: uuid.UUID,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> AuditEntry:
    ctx = context_of(session)
    actor = ctx.actor
    # An entry is only ever queued (`queue_insert` reads its attributes), never tracked by a session: its
    # values go straight into the new instance's state, without the ORM's attribute events (a bulk
    # sync writes several entries per record; built the ordinary way, one cost more than its INSERT).
    entry: AuditEntry = AuditEntry._sa_class_manager.new_instance()
    entry.__dict__.update(
        id=uuid7(),
        tenant_id=tenant_id,
        occurred_at=utcnow(),
        actor_kind=actor.kind if actor else "system",
        actor_id=actor.user_id if actor else None,
        enterprise_id=actor.enterprise_id if actor else None,
        channel=ctx.effective_channel,
        object_type=object_type,
        object_id=object_id,
        action=action,
        before=before,
        after=after,
    )
    return entry


def record_action(session: Session | AsyncSession, obj: Any, action: str, details: dict[str, Any]) -> AuditEntry:
    """An audit entry saying the session's actor did `action` (at most 16 characters) to `obj` (a
    tenant-owned row), with `details`; written when the unit of work commits."""
    sync_session = session.sync_session if isinstance(session, AsyncSession) else session
    entry = _entry(sync_session, obj.tenant_id, obj.__tablename__, obj.id, action, None, jsonable(details))
    queue_insert(sync_session, entry)
    return entry


def insert_once(session: AsyncSession, rows: Sequence[TenantOwned]) -> None:
    """New rows written once and left alone in their transaction (an order's lines and first timeline
    entry), queued with the unit of work's other rows (`queue_insert`) instead of through the ORM's flush;
    an audited one gets its "create" entry as a flush would give it, and a value its column cannot hold is refused as
    a flush would refuse it. Queue them after the rows they refer to were flushed."""
    sync_session = session.sync_session
    for row in rows:
        refuse_excess(row)  # what the flush would refuse (a text or number its column cannot hold)
        queue_insert(sync_session, row)
        if isinstance(row, Audited):
            queue_insert(
                sync_session,
                _entry(sync_session, row.tenant_id, row.__tablename__, row.id, "create", None, _snapshot(row)),
            )


@event.listens_for(TenantSession, "before_flush")
def _write_audit_entries(session: Session, flush_context: Any, instances: Any) -> None:
    entries: list[AuditEntry] = []

    def add(obj: Any, action: str, before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
        entries.append(_entry(session, obj.tenant_id, obj.__tablename__, obj.id, action, before, after))

    for obj in session.new:
        if isinstance(obj, Audited) and isinstance(obj, TenantOwned):
            add(obj, "create", None, _snapshot(obj))
    for obj in session.dirty:
        if isinstance(obj, Audited) and isinstance(obj, TenantOwned) and session.is_modified(obj):
            before, after = _changes(obj)
            if after:
                add(obj, "update", before, after)
    for obj in session.deleted:
        if isinstance(obj, Audited) and isinstance(obj, TenantOwned):
            add(obj, "delete", _snapshot(obj), None)
    for entry in entries:
        queue_insert(session, entry)
