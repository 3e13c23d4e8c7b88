"""Attachments as features use them: store a checked upload for a record, list a record's files, open
one for a reader, delete one.

Who may read a file is never the kernel's decision: each feature registers an `AttachmentOwner` for its
kind of record (`Component.attachment_owners`) whose `may_read` answers for a person and a record. A file
whose owner type nobody registered, or whose owner says no, is not found (404), exactly like a file of
another tenant, which the tenant filter never finds in the first place.

The bytes are stored before the row is written, so a row always has its object; a transaction that
rolls back after the upload leaves an object no row names (never served). Deleting removes the row and
publishes `storage.attachment.deleted`, on which the `storage.objects` subscriber removes the bytes once
the deletion has committed."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.actor import Actor
from portal.errors import NotFound
from portal.i18n import N_
from portal.ids import uuid7
from portal.outbox import Event, Subscriber, publish
from portal.storage.models import Attachment
from portal.storage.store import ObjectMissing, ObjectStore
from portal.storage.uploads import Use, check_upload

if TYPE_CHECKING:
    from portal.services import Services

log = logging.getLogger("portal.storage")
DELETED = "storage.attachment.deleted"
ReadCheck = Callable[[AsyncSession, Actor, uuid.UUID], Awaitable[bool]]


@dataclass(frozen=True, slots=True)
class AttachmentOwner:
    """A feature's kind of record that has files: `may_read(db, actor, owner_id)` says whether this
    person may see this record's files (typically: the record is in their data scope)."""

    type: str
    may_read: ReadCheck
    # files anyone may fetch without signing in, through `Attachments.open_public` (a tenant's logo)
    public: bool = False


@dataclass(frozen=True, slots=True)
class OpenedAttachment:
    attachment: Attachment
    chunks: AsyncIterator[bytes]


class Attachments:
    def __init__(self, store: ObjectStore, owners: Iterable[AttachmentOwner], max_bytes: int) -> None:
        self.store = store
        self.max_bytes = max_bytes
        self.owners: dict[str, AttachmentOwner] = {}
        for owner in owners:
            if owner.type in self.owners:
                raise ValueError(f"two features register attachments of {owner.type!r}")
            self.owners[owner.type] = owner

    async def save(
        self,
        db: AsyncSession,
        actor: Actor | None,
        content: bytes,
        filename: str | None,
        use: Use,
        owner_type: str,
        owner_id: uuid.UUID,
    ) -> Attachment:
        """Check the upload (ValidationFailed on field `file` naming what is wrong), store it and add
        its row to the unit of work. The caller has checked that the actor may add files to the record."""
        if owner_type not in self.owners:
            raise ValueError(f"no feature registered attachments of {owner_type!r}")
        checked = await check_upload(content, filename, use, self.max_bytes)
        tenant_id = db.info["ctx"].tenant_id
        if tenant_id is None:
            raise ValueError("attachments are saved in a tenant's context")
        attachment_id = uuid7()
        key = f"{tenant_id}/{datetime.now(UTC):%Y/%m}/{attachment_id}{checked.kind.extension}"
        await self.store.put(key, checked.content, checked.kind.media_type)
        attachment = Attachment(
            id=attachment_id,
            owner_type=owner_type,
            owner_id=owner_id,
            key=key,
            name=checked.name,
            content_type=checked.kind.media_type,
            size=checked.size,
            sha256=checked.sha256,
            uploaded_by=actor.user_id if actor is not None else None,
        )
        db.add(attachment)
        await db.flush()
        return attachment

    async def of(self, db: AsyncSession, owner_type: str, owner_ids: Sequence[uuid.UUID]) -> list[Attachment]:
        """The files of these records, oldest first (the caller has checked it may show the records)."""
        if not owner_ids:
            return []
        statement = (
            select(Attachment)
            .where(Attachment.owner_type == owner_type, Attachment.owner_id.in_(owner_ids))
            .order_by(Attachment.created_at, Attachment.id)
        )
        return list(await db.scalars(statement))

    async def readable(self, db: AsyncSession, actor: Actor, attachment_id: uuid.UUID) -> Attachment:
        """The attachment, if its owner lets this person read it; otherwise NotFound."""
        attachment = await db.scalar(select(Attachment).where(Attachment.id == attachment_id))
        owner = self.owners.get(attachment.owner_type) if attachment is not None else None
        if attachment is None or owner is None or not await owner.may_read(db, actor, attachment.owner_id):
            raise NotFound(N_("No such file"))
        return attachment

    async def open(self, db: AsyncSession, actor: Actor, attachment_id: uuid.UUID) -> OpenedAttachment:
        """The attachment and its bytes as chunks. The first chunk is read here, so a missing object is
        an error answer (logged) rather than a response that breaks off after its headers."""
        return await self._opened(await self.readable(db, actor, attachment_id))

    async def open_public(self, db: AsyncSession, attachment_id: uuid.UUID) -> OpenedAttachment:
        """A file of an owner registered as public, in the session's tenant; NotFound for any other."""
        attachment = await db.scalar(select(Attachment).where(Attachment.id == attachment_id))
        owner = self.owners.get(attachment.owner_type) if attachment is not None else None
        if attachment is None or owner is None or not owner.public:
            raise NotFound(N_("No such file"))
        return await self._opened(attachment)

    async def _opened(self, attachment: Attachment) -> OpenedAttachment:
        chunks = self.store.stream(attachment.key)
        try:
            first = await anext(chunks)
        except StopAsyncIteration:
            first = b""
        except ObjectMissing:
            log.error("attachment %s has no stored object at %s", attachment.id, attachment.key)
            raise NotFound(N_("No such file")) from None
        return OpenedAttachment(attachment, _chained(first, chunks))

    async def delete(self, db: AsyncSession, attachment: Attachment) -> None:
        """Remove the row now and the bytes once this unit of work has committed."""
        publish(db, DELETED, "storage.attachment", attachment.id, {"key": attachment.key})
        await db.delete(attachment)
        await db.flush()


async def _chained(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield first
    async for chunk in rest:
        yield chunk


async def delete_object(services: Services, event: Event) -> None:
    # deleting an object that is already gone succeeds, so a repeated delivery is harmless
    await services.attachments.store.delete(event.payload["key"])


SUBSCRIBERS = (
    Subscriber("storage.objects", lambda event_type: event_type == DELETED, delete_object, N_("Stored files")),
)
