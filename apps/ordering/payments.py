"""Payments: staff record money received (confirmed at once), a dealer reports a payment it made and
staff confirm or reject it. A confirmed payment is a credit on the enterprise's account and is matched
to its open orders (the ones asked for, else oldest first); a received order paid in full completes."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select

from apps.ordering import account
from apps.ordering.catalog import settings_of
from apps.ordering.models import Order, Payment, PaymentAllocation
from apps.ordering.orders import Orders
from apps.ordering.placing import text_field
from apps.ordering.workflow import complete_if_settled
from interconnect.models import EnterpriseLink
from portal.db.types import utcnow
from portal.errors import Conflict, NotFound, ValidationFailed
from portal.i18n import N_
from portal.outbox import publish

METHODS = ("transfer", "cash", "cheque", "card", "other")
METHOD_LABELS = {
    "transfer": N_("Bank transfer"),
    "cash": N_("Cash"),
    "cheque": N_("Cheque"),
    "card": N_("Card"),
    "other": N_("Other"),
}
MAX_PAYMENT = Decimal(10) ** 13


def _check(amount: Decimal, method: str, received_on: date) -> None:
    if amount.is_finite() and amount >= MAX_PAYMENT:
        raise ValidationFailed.single("amount", N_("must be less than %(max)s"), "out_of_range", max=f"{MAX_PAYMENT:,}")
    if not amount.is_finite() or amount <= 0:
        raise ValidationFailed.single("amount", N_("must be more than 0"), "out_of_range")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationFailed.single("amount", N_("may have at most %(places)s decimal places"), places=2)
    if method not in METHODS:
        raise ValidationFailed.single("method", N_("must be one of %(choices)s"), choices=", ".join(METHODS))
    if received_on > utcnow().date():
        raise ValidationFailed.single("received_on", N_("must not be in the future"))


class Payments:
    """Payments as the actor may reach them: staff every enterprise's, a partner only their own
    enterprise's (`orders` carries the actor; its order scope decides which orders an allocation may
    name)."""

    def __init__(self, orders: Orders) -> None:
        self.orders = orders
        self.session = orders.session
        self.actor = orders.actor

    def query(self) -> Select[tuple[Payment]]:
        query = select(Payment)
        if self.actor.kind == "external":
            query = query.where(Payment.enterprise_id == self.actor.enterprise_id)
        return query

    async def page(
        self, status: str | None = None, enterprise_id: uuid.UUID | None = None, limit: int = 50, offset: int = 0
    ) -> tuple[list[dict[str, Any]], int]:
        query = self.query()
        if status:
            query = query.where(Payment.status == status)
        if enterprise_id is not None:
            query = query.where(Payment.enterprise_id == enterprise_id)
        total = await self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = list(
            await self.session.scalars(
                query.order_by(Payment.received_on.desc(), Payment.created_at.desc()).limit(limit).offset(offset)
            )
        )
        return await self.out_many(rows), total

    async def get(self, payment_id: uuid.UUID, lock: bool = False) -> Payment:
        query = self.query().where(Payment.id == payment_id)
        payment = await self.session.scalar(query.with_for_update() if lock else query)
        if payment is None:
            raise NotFound(N_("No such payment"))
        return payment

    async def out(self, payment: Payment) -> dict[str, Any]:
        return (await self.out_many([payment]))[0]

    async def out_many(self, payments: list[Payment]) -> list[dict[str, Any]]:
        """Payments with their enterprise's name and their allocations, in two statements for the lot."""
        ids = [p.id for p in payments]
        matched: dict[uuid.UUID, list[dict[str, Any]]] = {i: [] for i in ids}
        if ids:
            for payment_id, order_id, number, amount in await self.session.execute(
                select(PaymentAllocation.payment_id, PaymentAllocation.order_id, Order.number, PaymentAllocation.amount)
                .join(Order, Order.id == PaymentAllocation.order_id)
                .where(PaymentAllocation.payment_id.in_(ids))
                .order_by(Order.number)
            ):
                matched[payment_id].append({"order_id": order_id, "number": number, "amount": amount})
        enterprises = sorted({p.enterprise_id for p in payments})
        names = (
            dict(
                (e, n)
                for e, n in await self.session.execute(
                    select(EnterpriseLink.id, EnterpriseLink.name).where(EnterpriseLink.id.in_(enterprises))
                )
            )
            if enterprises
            else {}
        )
        return [
            {
                "id": payment.id,
                "enterprise_id": payment.enterprise_id,
                "enterprise": names.get(payment.enterprise_id),
                "amount": payment.amount,
                "currency": payment.currency,
                "method": payment.method,
                "reference": payment.reference,
                "received_on": payment.received_on,
                "status": payment.status,
                "note": payment.note,
                "reported_by_kind": payment.reported_by_kind,
                "confirmed_at": payment.confirmed_at,
                "allocations": matched[payment.id],
            }
            for payment in payments
        ]

    async def create(
        self,
        *,
        enterprise_id: uuid.UUID,
        amount: Decimal,
        method: str,
        received_on: date,
        reference: str | None = None,
        note: str | None = None,
        allocations: Mapping[uuid.UUID, Decimal] | None = None,
    ) -> Payment:
        """Staff: recorded and confirmed. Partner: reported for their own enterprise, waiting for staff."""
        _check(amount, method, received_on)
        reference, note = text_field("reference", reference, 100), text_field("note", note, 1000)
        if self.actor.kind == "external":
            enterprise_id = self.actor.enterprise_id  # type: ignore[assignment]
        elif await self.session.scalar(select(EnterpriseLink.id).where(EnterpriseLink.id == enterprise_id)) is None:
            raise ValidationFailed.single("enterprise_id", N_("No such enterprise"), "unknown")
        settings = await settings_of(self.session)
        payment = Payment(
            enterprise_id=enterprise_id,
            amount=amount,
            currency=settings.currency,
            method=method,
            received_on=received_on,
            reference=reference,
            note=note,
            reported_by=self.actor.user_id,
            reported_by_kind=self.actor.kind,
            status="reported",
        )
        self.session.add(payment)
        await self.session.flush()
        publish(self.session, "ordering.payment.reported", "ordering.payment", payment.id, {"amount": amount})
        if self.actor.kind != "external":
            await self._confirm(payment, allocations)
        return payment

    async def confirm(self, payment_id: uuid.UUID, allocations: Mapping[uuid.UUID, Decimal] | None = None) -> Payment:
        payment = await self.get(payment_id, lock=True)
        if payment.status != "reported":
            raise Conflict(N_("This payment is already %(status)s"), code="payment_decided", status=payment.status)
        await self._confirm(payment, allocations)
        return payment

    async def reject(self, payment_id: uuid.UUID, note: str | None) -> Payment:
        payment = await self.get(payment_id, lock=True)
        if payment.status != "reported":
            raise Conflict(N_("This payment is already %(status)s"), code="payment_decided", status=payment.status)
        reason = text_field("note", note, 1000)
        if reason is None:
            raise ValidationFailed.single("note", N_("Say why"), "required")
        payment.status, payment.note = "rejected", reason
        publish(self.session, "ordering.payment.rejected", "ordering.payment", payment.id, {"amount": payment.amount})
        await self.session.flush()
        return payment

    async def _confirm(self, payment: Payment, allocations: Mapping[uuid.UUID, Decimal] | None) -> None:
        payment.status, payment.confirmed_by, payment.confirmed_at = "confirmed", self.actor.user_id, utcnow()
        description = payment.reference or payment.method
        self.session.add(
            account.entry(payment.enterprise_id, "payment", description, credit=payment.amount, payment_id=payment.id)
        )
        matched = await account.allocate(self.session, payment.id, payment.enterprise_id, payment.amount, allocations)
        for order, _share in matched:
            await complete_if_settled(self.orders, order)
        publish(self.session, "ordering.payment.confirmed", "ordering.payment", payment.id, {"amount": payment.amount})
        await self.session.flush()
