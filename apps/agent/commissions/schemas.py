"""Request and response bodies of the commission API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from msgspec import UNSET, UnsetType

from portal.http.inputs import Int32, Multiline
from portal.identity.schemas import Out, Strict


class RuleIn(Strict):
    """`rate` is a share (0.05 is five percent); a condition left out matches every deal."""

    name: str
    rate: Decimal
    tier_id: uuid.UUID | None = None
    product_line: str | None = None
    deal_type: str | None = None  # new_business | renewal | expansion
    position: Int32 = 0
    active: bool = True


class RulePatch(Strict):
    name: str | UnsetType = UNSET
    rate: Decimal | UnsetType = UNSET
    tier_id: uuid.UUID | UnsetType | None = UNSET
    product_line: str | UnsetType | None = UNSET
    deal_type: str | UnsetType | None = UNSET
    position: Int32 | UnsetType = UNSET
    active: bool | UnsetType = UNSET


class RuleOut(Out):
    id: uuid.UUID
    name: str
    position: int
    tier_id: uuid.UUID | None
    product_line: str | None
    deal_type: str | None
    rate: Decimal
    active: bool


class TermsIn(Strict):
    product_line: str | None = None
    deal_type: str | None = None


class TermsOut(Out):
    deal_id: uuid.UUID
    product_line: str | None
    deal_type: str | None


class LineOut(Out, kw_only=True):
    """`rate` and `amount` are absent where field rules hide them."""

    id: uuid.UUID
    deal_id: uuid.UUID
    enterprise_id: uuid.UUID
    kind: str  # earned | reversal
    customer_name: str
    deal_amount: Decimal
    rate: Decimal | UnsetType = UNSET
    amount: Decimal | UnsetType = UNSET
    currency: str
    earned_on: date
    statement_id: uuid.UUID | None


class StatementOut(Out, kw_only=True):
    """`total` is absent where field rules hide the commission amount."""

    id: uuid.UUID
    enterprise_id: uuid.UUID
    enterprise_name: str
    period: str
    currency: str
    round: int
    status: str  # open | accepted | disputed | approved | withdrawn
    total: Decimal | UnsetType = UNSET
    lines_count: int
    review_note: str | None
    reviewed_at: datetime | None
    decided_at: datetime | None
    posted: bool
    created_at: datetime


class StatementDetailOut(StatementOut):
    lines: list[LineOut]


class StatementPage(Out):
    items: list[StatementOut]
    total: int
    limit: int
    offset: int


class CloseIn(Strict):
    """A month, "YYYY-MM"; one partner's statement only when `enterprise_id` is given."""

    period: str
    enterprise_id: uuid.UUID | None = None


class ClosedOut(Out):
    items: list[StatementOut]


class NoteIn(Strict):
    note: Multiline | None = None
