"""Request and response bodies of the fund API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from msgspec import UNSET, UnsetType

from portal.http.inputs import Multiline
from portal.identity.schemas import Out, Strict


class BudgetIn(Strict):
    """For every partner, or the partners of `tier_id`."""

    name: str
    starts_on: date
    ends_on: date
    amount: Decimal
    tier_id: uuid.UUID | None = None


class BudgetPatch(Strict):
    name: str | UnsetType = UNSET
    amount: Decimal | UnsetType = UNSET


class BudgetOut(Out):
    id: uuid.UUID
    name: str
    starts_on: date
    ends_on: date
    tier_id: uuid.UUID | None
    amount: Decimal
    currency: str
    reserved: Decimal
    paid: Decimal


class FundRequestIn(Strict):
    """What the partner asks for, and what it is for."""

    amount: Decimal
    purpose: Multiline


class ApproveIn(Strict):
    """Against `budget_id`; `amount` (at most what was asked) defaults to what was asked."""

    budget_id: uuid.UUID
    amount: Decimal | None = None
    note: Multiline | None = None


class RejectIn(Strict):
    note: Multiline


class PayIn(Strict):
    """`amount` (at most what was claimed) defaults to what was claimed."""

    amount: Decimal | None = None


class ProofOut(Out):
    id: uuid.UUID
    name: str
    content_type: str
    size: int


class FundRequestOut(Out, kw_only=True):
    """An amount field rules hide is absent."""

    id: uuid.UUID
    enterprise_id: uuid.UUID
    enterprise_name: str
    amount: Decimal | UnsetType = UNSET
    currency: str
    purpose: str
    status: str  # requested | approved | rejected | claimed | paid
    budget_id: uuid.UUID | None
    approved_amount: Decimal | UnsetType | None = UNSET
    decision_note: str | None
    decided_at: datetime | None
    claimed_amount: Decimal | UnsetType | None = UNSET
    claim_note: str | None
    claimed_at: datetime | None
    paid_amount: Decimal | UnsetType | None = UNSET
    paid_at: datetime | None
    posted: bool = False  # the payment is on the partner's account
    created_at: datetime
    proofs: list[ProofOut] = []


class FundRequestPage(Out):
    items: list[FundRequestOut]
    total: int
    limit: int
    offset: int
