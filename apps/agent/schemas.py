"""Request bodies of the deal API. Unknown fields are refused (422 naming them): the partner's input has
no tenant, owner or enterprise at all, those come from who is asking. Optional fields default to UNSET,
so a write knows exactly which fields were sent and the field rules can refuse the ones it may not
change.

Response bodies: the deal as `Deals.out` presents it, without the fields field rules hide; each field a
rule can hide defaults to UNSET here, so it is absent from the JSON, not null."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from msgspec import UNSET, UnsetType

from portal.http.inputs import Multiline
from portal.identity.schemas import Out, Strict


class DealIn(Strict):
    customer_name: str
    amount: Decimal
    customer_contact: str | UnsetType | None = UNSET
    currency: str | UnsetType = UNSET  # CNY unless given
    stage: str | UnsetType = UNSET  # registered unless given
    expected_close: date | UnsetType | None = UNSET
    notes: Multiline | UnsetType | None = UNSET
    commission_rate: Decimal | UnsetType | None = UNSET


class DealPatch(Strict):
    customer_name: str | UnsetType = UNSET
    amount: Decimal | UnsetType = UNSET
    customer_contact: str | UnsetType | None = UNSET
    currency: str | UnsetType = UNSET
    stage: str | UnsetType = UNSET
    expected_close: date | UnsetType | None = UNSET
    notes: Multiline | UnsetType | None = UNSET
    commission_rate: Decimal | UnsetType | None = UNSET


class StaffDealIn(DealIn):
    """A deal the upstream registers itself: for a partner enterprise, or its own (no enterprise, which
    partners see only through a sharing rule or the deal's team)."""

    enterprise_id: uuid.UUID | None = None


class StaffDealPatch(DealPatch):
    enterprise_id: uuid.UUID | UnsetType | None = UNSET


class TeamMemberIn(Strict):
    membership_id: uuid.UUID
    access: str = "read"  # read | write


class DealOut(Out, kw_only=True):
    """`enterprise_id` null: the upstream's own deal."""

    id: uuid.UUID
    customer_name: str | UnsetType = UNSET
    customer_contact: str | UnsetType | None = UNSET
    amount: Decimal | UnsetType = UNSET
    currency: str
    stage: str | UnsetType = UNSET
    expected_close: date | UnsetType | None = UNSET
    notes: str | UnsetType | None = UNSET
    commission_rate: Decimal | UnsetType | None = UNSET
    owner_id: uuid.UUID
    enterprise_id: uuid.UUID | None
    created_by: uuid.UUID
    created_at: datetime
    updated_at: datetime


class TeamMemberOut(Out, kw_only=True):
    """A partner person a deal is shared with, one by one: `access` read or write."""

    membership_id: uuid.UUID
    display_name: str
    enterprise_id: uuid.UUID | None
    access: str


class StaffDealOut(DealOut, kw_only=True):
    team: list[TeamMemberOut]


class DealPage(Out, kw_only=True):
    items: list[DealOut]
    total: int
    limit: int
    offset: int
