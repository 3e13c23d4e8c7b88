"""Bulk upserts by external id: each item of a batch is written on its own savepoint through the object's
own service (the ordering app's catalog administration, the CRM's checks), so one item refused leaves the
others written and nothing of itself; each item's result says created, updated, unchanged (nothing
written) or error (with each field and its message). Sending the same batch again changes nothing: every
item is then unchanged."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.errors import DomainError, FieldError, NotFound, ValidationFailed
from portal.i18n import N_, gettext
from sync.integrations.models import ExternalId
from sync.integrations.objects import IntegrationObject

MAX_ITEMS = 500
MAX_EXTERNAL_ID = 200


@dataclass
class ItemResult:
    index: int
    external_id: str | None
    outcome: str  # created | updated | unchanged | error
    id: uuid.UUID | None = None
    errors: list[dict[str, str]] = field(default_factory=list)


def _errors_of(error: DomainError) -> list[dict[str, str]]:
    if isinstance(error, ValidationFailed):
        return [{"field": e.field, "code": e.code, "message": gettext(e.message, **e.params)} for e in error.errors]
    return [{"field": "", "code": error.code, "message": gettext(error.detail, **error.params)}]


class Upserts:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def resolve(self, obj: str, external_ids: Sequence[str]) -> dict[str, uuid.UUID]:
        wanted = sorted({e for e in external_ids if isinstance(e, str)})
        if not wanted:
            return {}
        rows = await self.session.execute(
            select(ExternalId.external_id, ExternalId.record_id).where(
                ExternalId.object == obj, ExternalId.external_id.in_(wanted)
            )
        )
        return dict(rows.all())

    async def run(self, obj: IntegrationObject, items: Sequence[Any]) -> list[ItemResult]:
        if len(items) > MAX_ITEMS:
            raise ValidationFailed.single("items", N_("may hold at most %(max)s items"), "too_many", max=MAX_ITEMS)
        results: list[ItemResult] = []
        seen: set[str] = set()
        wanted = [i.get("external_id") for i in items if isinstance(i, dict)] if obj.mapped else []
        known = await self.resolve(obj.name, [w for w in wanted if isinstance(w, str)])  # one query for the batch
        for index, item in enumerate(items):
            results.append(await self._one(obj, index, item, seen, known))
        return results

    async def _one(
        self, obj: IntegrationObject, index: int, item: Any, seen: set[str], known: dict[str, uuid.UUID]
    ) -> ItemResult:
        if not isinstance(item, dict):
            return ItemResult(
                index,
                None,
                "error",
                errors=[{"field": "", "code": "invalid", "message": gettext(N_("must be an object"))}],
            )
        body = dict(item)
        external_id: str | None = None
        if obj.mapped:
            raw = body.pop("external_id", None)
            problem = None
            if not isinstance(raw, str) or not raw.strip():
                problem = FieldError("external_id", N_("is required"), "required")
            elif len(raw) > MAX_EXTERNAL_ID:
                problem = FieldError(
                    "external_id", N_("may be at most %(max)s characters"), "too_long", {"max": MAX_EXTERNAL_ID}
                )
            elif raw in seen:
                problem = FieldError("external_id", N_("appears twice in this batch"), "duplicate")
            if problem is not None:
                return ItemResult(
                    index,
                    raw if isinstance(raw, str) else None,
                    "error",
                    errors=_errors_of(ValidationFailed([problem])),
                )
            external_id = raw
            seen.add(raw)
        current = known.get(external_id) if external_id else None
        try:
            async with self.session.begin_nested():
                try:
                    outcome, record_id = await obj.upsert(self.session, body, current, self.resolve)
                except NotFound:
                    if current is None:
                        raise
                    # the record this id named was deleted here: the item makes it anew
                    await self.session.execute(
                        delete(ExternalId).where(ExternalId.object == obj.name, ExternalId.external_id == external_id)
                    )
                    current = None
                    outcome, record_id = await obj.upsert(self.session, body, None, self.resolve)
                if obj.mapped and current is None:
                    self.session.add(ExternalId(object=obj.name, external_id=external_id, record_id=record_id))
                    await self.session.flush()
        except DomainError as error:
            return ItemResult(index, external_id, "error", errors=_errors_of(error))
        return ItemResult(index, external_id, outcome, record_id)
