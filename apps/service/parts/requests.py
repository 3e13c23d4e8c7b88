"""Parts requests: a service partner asks for parts (lines of catalog products and quantities); the
manufacturer approves or rejects the request, then ships it, which adds every line to the partner's
stock. Each decision is one UPDATE naming the status read (the mapper's version column), audited and
published to the outbox as `service.part_request.<action>`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from apps.service.parts import stock
from apps.service.parts.models import PartRequest, PartRequestLine
from interconnect.models import EnterpriseLink
from portal.actor import Actor
from portal.db.types import utcnow
from portal.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from portal.i18n import N_, Msgid
from portal.outbox import publish
from roles.access import scoped
from roles.policy import RolePolicy

MAX_LINES = 50
NOTE_LIMIT = 1000
# (from, action) -> to
STEPS = {("requested", "approve"): "approved", ("requested", "reject"): "rejected", ("approved", "ship"): "shipped"}
# the permission on "service.part_request" each decision needs
PERMISSIONS = {"approve": "approve", "reject": "approve", "ship": "ship"}
ACTION_PAST = {"approve": N_("approved"), "reject": N_("rejected"), "ship": N_("shipped")}
STATUS_LABELS = {
    "requested": N_("Waiting for approval"),
    "approved": N_("Approved, to be shipped"),
    "shipped": N_("Shipped"),
    "rejected": N_("Rejected"),
}


@dataclass(frozen=True, slots=True)
class Line:
    product_id: uuid.UUID
    quantity: int


class RequestRefused(Conflict):
    code, title = "part_request_refused", N_("The parts request cannot do this in its current status")


def _note(errors: list[FieldError], field: str, value: str | None, *, required: bool = False) -> str | None:
    cleaned = (value or "").strip()
    if required and not cleaned:
        errors.append(FieldError(field, N_("is required"), "required"))
    elif len(cleaned) > NOTE_LIMIT:
        errors.append(FieldError(field, N_("may be at most %(max)s characters"), "too_long", {"max": NOTE_LIMIT}))
    return cleaned or None


class PartRequests:
    """The parts requests `actor` may reach as `obj` (staff: "service.part_request"; a partner:
    "partner.service.part_request", its enterprise's)."""

    def __init__(self, session: AsyncSession, policy: RolePolicy, actor: Actor, obj: str) -> None:
        self.session, self.policy, self.actor, self.obj = session, policy, actor, obj

    def may(self, permission: str) -> bool:
        return self.policy.allows(self.actor, (self.obj, permission))

    async def page(self, status: str | None = None, limit: int = 50, offset: int = 0) -> tuple[list[PartRequest], int]:
        query = await scoped(self.session, select(PartRequest), self.policy, self.actor, self.obj)
        if status in STATUS_LABELS:
            query = query.where(PartRequest.status == status)
        total = await self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = await self.session.scalars(
            query.order_by(PartRequest.created_at.desc(), PartRequest.id.desc()).limit(limit).offset(offset)
        )
        return list(rows), total

    async def get(self, request_id: uuid.UUID, access: str = "read") -> PartRequest:
        query = await scoped(self.session, select(PartRequest), self.policy, self.actor, self.obj, access)  # type: ignore[arg-type]
        found = await self.session.scalar(query.where(PartRequest.id == request_id))
        if found is None:
            raise NotFound(N_("No such parts request"))
        return found

    async def create(self, lines: Sequence[Line], note: str | None) -> PartRequest:
        """The partner's request for its own enterprise; every line checked, each mistake under its field."""
        if self.actor.kind != "external" or self.actor.enterprise_id is None or not self.may("create"):
            raise PermissionDenied()
        errors: list[FieldError] = []
        cleaned = _note(errors, "note", note)
        if not lines:
            errors.append(FieldError("lines", N_("Ask for at least one part"), "required"))
        elif len(lines) > MAX_LINES:
            errors.append(FieldError("lines", N_("At most %(max)s lines"), "too_many", {"max": MAX_LINES}))
        known = await stock.products(self.session, [line.product_id for line in lines[:MAX_LINES]])
        seen: set[uuid.UUID] = set()
        for index, line in enumerate(lines[:MAX_LINES]):
            if line.product_id not in known:
                errors.append(FieldError(f"lines[{index}].product_id", N_("No such product in the catalog"), "unknown"))
            elif line.product_id in seen:
                errors.append(FieldError(f"lines[{index}].product_id", N_("is listed twice"), "duplicate"))
            seen.add(line.product_id)
            stock.check_quantity(errors, f"lines[{index}].quantity", line.quantity)
        if errors:
            raise ValidationFailed(errors)
        request = PartRequest(
            enterprise_id=self.actor.enterprise_id, owner_id=self.actor.user_id, status="requested", note=cleaned
        )
        self.session.add(request)
        await self.session.flush()
        for line in lines:
            self.session.add(PartRequestLine(request_id=request.id, product_id=line.product_id, quantity=line.quantity))
        publish(self.session, "service.part_request.create", "service.part_request", request.id, _payload(request))
        await self.session.flush()
        return request

    async def decide(self, request_id: uuid.UUID, action: str, note: str | None = None) -> PartRequest:
        """approve, reject (with a reason) or ship (adds every line to the partner's stock)."""
        permission = PERMISSIONS.get(action)
        if permission is None or not self.may(permission):
            raise PermissionDenied()
        request = await self.get(request_id, "write")
        to = STEPS.get((request.status, action))
        if to is None:
            raise RequestRefused(
                N_("This parts request is %(status)s: it cannot be %(action)s"),
                status=Msgid(STATUS_LABELS[request.status]),
                action=Msgid(ACTION_PAST[action]),
            )
        errors: list[FieldError] = []
        cleaned = _note(errors, "note", note, required=action == "reject")
        if errors:
            raise ValidationFailed(errors)
        now = utcnow()
        request.status = to
        if action == "approve":
            request.approved_at = now
        elif action == "reject":
            request.rejected_at, request.reject_reason = now, cleaned
        else:
            request.shipped_at = now
        publish(self.session, f"service.part_request.{action}", "service.part_request", request.id, _payload(request))
        try:
            await self.session.flush()
        except StaleDataError:
            raise RequestRefused(
                N_("Someone decided on this parts request at the same moment: open it again")
            ) from None
        if action == "ship":
            for line in await self.lines([request.id]):
                await stock.put_in(
                    self.session, request.enterprise_id, line.product_id, line.quantity, request.owner_id
                )  # type: ignore[arg-type]
        return request

    async def lines(self, request_ids: Sequence[uuid.UUID]) -> list[PartRequestLine]:
        if not request_ids:
            return []
        return list(
            await self.session.scalars(
                select(PartRequestLine)
                .where(PartRequestLine.request_id.in_(request_ids))
                .order_by(PartRequestLine.request_id, PartRequestLine.id)
            )
        )

    async def out_many(self, requests: Sequence[PartRequest]) -> list[dict[str, Any]]:
        lines = await self.lines([r.id for r in requests])
        products = await stock.products(self.session, [line.product_id for line in lines])
        links = sorted({r.enterprise_id for r in requests if r.enterprise_id is not None})
        names: dict[uuid.UUID, str] = {}
        if links:
            rows = await self.session.execute(
                select(EnterpriseLink.id, EnterpriseLink.name).where(EnterpriseLink.id.in_(links))
            )
            names = {key: name for key, name in rows}
        by_request: dict[uuid.UUID, list[dict[str, Any]]] = {}
        for line in lines:
            product = products[line.product_id]
            by_request.setdefault(line.request_id, []).append(
                {"product_id": line.product_id, "sku": product.sku, "name": product.name, "quantity": line.quantity}
            )
        return [
            {
                "id": r.id,
                "enterprise_id": r.enterprise_id,
                "enterprise": names.get(r.enterprise_id) if r.enterprise_id else None,
                "status": r.status,
                "note": r.note,
                "reject_reason": r.reject_reason,
                "created_at": r.created_at,
                "approved_at": r.approved_at,
                "shipped_at": r.shipped_at,
                "rejected_at": r.rejected_at,
                "lines": by_request.get(r.id, []),
            }
            for r in requests
        ]


def _payload(request: PartRequest) -> dict[str, object]:
    return {"request_id": request.id, "enterprise_id": request.enterprise_id, "status": request.status}
