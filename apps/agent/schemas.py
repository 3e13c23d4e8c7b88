"""Request bodies of the deal API. Unknown fields are refused (422 naming them): the partner's input has
no tenant, owner or enterprise at all, those come from who is asking. Optional fields default to UNSET,
so a write knows exactly which fields were sent and the field rules can refuse the ones it may not
change. Responses are plain dicts made by `shown()`: a hidden field is absent, not null."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

from portal.http.inputs import Multiline
from portal.identity.schemas import Strict


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


class DealPage(msgspec.Struct):
    items: list[dict[str, Any]]
    total: int
    limit: int
    offset: int
