"""Idempotency-Key for creating POSTs.

The key is claimed by inserting its row inside the request's own transaction (one INSERT that does
nothing when the key is there), before the work is done; the saved response is written in that same transaction. So:
- a retry after success finds the row and replays the saved response;
- a concurrent duplicate blocks on the unique key until the first commits, then replays it (PostgreSQL),
  or waits for the write lock and then replays (SQLite);
- a failed attempt rolls back its claim with everything else, and the key can be used again;
- the same key with a different request is 409;
- an answer that carries a secret shown only once (a webhook endpoint's signing secret, a one-time
  link) is never stored: the record keeps its status without a body, and a retry with the key is 409
  `idempotent_answer_withheld` instead of a replay (the work is still done only once).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import LargeBinary, String, UniqueConstraint, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, make_transient_to_detached, mapped_column

from portal.actor import Actor
from portal.db.base import Base, TenantOwned
from portal.db.types import utcnow
from portal.errors import IdempotencyKeyReused, IdempotentAnswerWithheld, ValidationFailed
from portal.i18n import N_
from portal.ids import uuid7

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200


class IdempotencyRecord(TenantOwned, Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id", "key"),)

    user_id: Mapped[uuid.UUID]
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None]
    # None once status_code is set: the answer carried a secret and was withheld
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


@dataclass(frozen=True, slots=True)
class SavedResponse:
    status_code: int
    body: bytes
    replayed: bool


def fingerprint(method: str, path: str, data: Any) -> str:
    """Same request, same fingerprint, whatever the key order or whitespace of the JSON sent."""
    canonical = msgspec.json.encode(data, order="sorted")
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + canonical).hexdigest()


def validate_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationFailed.single(HEADER, N_("must be 1 to %(max)s printable characters"), max=MAX_KEY_LENGTH)
    return key


async def claim(
    session: AsyncSession, actor: Actor, key: str, request_fingerprint: str
) -> IdempotencyRecord | SavedResponse:
    """Claim (actor, key) in the session's transaction: the new record, whose response the caller fills
    in before commit, or the response saved by the request that claimed it first."""
    key = validate_key(key)
    values = {
        "id": uuid7(),
        "tenant_id": actor.tenant_id,
        "user_id": actor.user_id,
        "key": key,
        "fingerprint": request_fingerprint,
        "status_code": None,
        "response_body": None,
        "created_at": utcnow(),
    }
    # One statement, no savepoint: a key claimed first (even by a transaction not yet committed, which
    # this one then waits for) inserts nothing here.
    insert = postgresql.insert if (await session.connection()).dialect.name == "postgresql" else sqlite.insert
    claimed = await session.scalar(
        insert(IdempotencyRecord)
        .values(values)
        .on_conflict_do_nothing(index_elements=["tenant_id", "user_id", "key"])
        .returning(IdempotencyRecord.id)
    )
    if claimed is None:
        existing = (
            await session.execute(
                select(IdempotencyRecord).where(
                    IdempotencyRecord.user_id == actor.user_id, IdempotencyRecord.key == key
                )
            )
        ).scalar_one()
        if existing.fingerprint != request_fingerprint:
            raise IdempotencyKeyReused()
        assert existing.status_code is not None
        if existing.response_body is None:
            raise IdempotentAnswerWithheld()
        return SavedResponse(existing.status_code, existing.response_body, replayed=True)
    record = IdempotencyRecord(**values)
    make_transient_to_detached(record)
    session.add(record)  # as the row just written: filling in the response updates it
    return record


async def run_once(
    session: AsyncSession,
    actor: Actor,
    key: str | None,
    request_fingerprint: str,
    create: Callable[[], Awaitable[tuple[int, Any]]],
) -> SavedResponse:
    """Run `create` at most once per (actor, key); return its status and JSON body, saved or fresh."""
    if key is None:
        status, content = await create()
        return SavedResponse(status, msgspec.json.encode(content), replayed=False)

    claimed = await claim(session, actor, key, request_fingerprint)
    if isinstance(claimed, SavedResponse):
        return claimed
    status, content = await create()
    body = msgspec.json.encode(content)
    claimed.status_code = status
    claimed.response_body = body
    return SavedResponse(status, body, replayed=False)
