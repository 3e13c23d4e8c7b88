"""Request and response bodies of the lead API. A field that field rules (or, in a pool, the pool's
rule) may hide defaults to UNSET in a response: absent from the JSON, not null."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from msgspec import UNSET, UnsetType

from portal.http.inputs import Int32, Multiline
from portal.identity.schemas import Out, Strict


class LeadIn(Strict):
    """`distribute` false keeps the lead new (unplaced) instead of running the assignment rules."""

    company_name: str
    contact_name: str | None = None
    phone: str | None = None
    email: str | None = None
    region_id: uuid.UUID | None = None
    product_line: str | None = None
    notes: Multiline | None = None
    distribute: bool = True


class DistributeIn(Strict):
    """To a partner enterprise (optionally with the home pool whose rules recycle it), or into a pool."""

    enterprise_id: uuid.UUID | None = None
    pool_id: uuid.UUID | None = None


class FollowUpIn(Strict):
    kind: str  # call | visit | message
    note: Multiline
    next_step: str | None = None
    next_date: date | None = None


class ReturnIn(Strict):
    note: Multiline | None = None


class ExtensionIn(Strict):
    days: Int32
    reason: Multiline | None = None


class LeadOut(Out, kw_only=True):
    id: uuid.UUID
    company_name: str | UnsetType = UNSET
    contact_name: str | UnsetType | None = UNSET
    phone: str | UnsetType | None = UNSET
    email: str | UnsetType | None = UNSET
    region_id: uuid.UUID | UnsetType | None = UNSET
    product_line: str | UnsetType | None = UNSET
    notes: str | UnsetType | None = UNSET
    source: str
    status: str
    pool_id: uuid.UUID | None
    enterprise_id: uuid.UUID | None
    owner_id: uuid.UUID
    holder_id: uuid.UUID | None
    assigned_at: datetime | None
    last_follow_up_at: datetime | None
    follow_up_due: datetime | None
    convert_due: datetime | None
    converted_at: datetime | None
    created_at: datetime


class LeadEventOut(Out, kw_only=True):
    action: str
    actor_kind: str
    enterprise_id: uuid.UUID | None
    note: str | None
    at: datetime


class FollowUpOut(Out, kw_only=True):
    id: uuid.UUID
    kind: str
    note: str
    next_step: str | None
    next_date: date | None
    author_kind: str
    created_at: datetime


class LeadDetailOut(LeadOut, kw_only=True):
    events: list[LeadEventOut]
    follow_ups: list[FollowUpOut]


class LeadPage(Out, kw_only=True):
    items: list[LeadOut]
    total: int
    limit: int
    offset: int


class PoolLeadOut(Out, kw_only=True):
    """An unclaimed lead: only the fields its pool opens."""

    id: uuid.UUID
    pool_id: uuid.UUID
    pool_name: str
    created_at: datetime
    company_name: str | UnsetType = UNSET
    contact_name: str | UnsetType | None = UNSET
    phone: str | UnsetType | None = UNSET
    email: str | UnsetType | None = UNSET
    region_id: uuid.UUID | UnsetType | None = UNSET
    product_line: str | UnsetType | None = UNSET
    notes: str | UnsetType | None = UNSET


class PoolLeadPage(Out, kw_only=True):
    items: list[PoolLeadOut]
    total: int
    limit: int
    offset: int


class ImportOut(Out, kw_only=True):
    imported: int
    assigned: int
    pooled: int


class PoolIn(Strict):
    name: str
    partner_type_id: uuid.UUID | None = None
    region_id: uuid.UUID | None = None
    enterprise_limit: Int32 | None = None
    person_limit: Int32 | None = None
    daily_claim_limit: Int32 | None = None
    visible_fields: list[str] | UnsetType = UNSET
    cooldown_days: Int32 = 0
    follow_up_days: Int32 | None = None
    convert_days: Int32 | None = None
    notice_days: Int32 = 1
    active: bool = True


class PoolPatch(Strict):
    name: str | UnsetType = UNSET
    partner_type_id: uuid.UUID | UnsetType | None = UNSET
    region_id: uuid.UUID | UnsetType | None = UNSET
    enterprise_limit: Int32 | UnsetType | None = UNSET
    person_limit: Int32 | UnsetType | None = UNSET
    daily_claim_limit: Int32 | UnsetType | None = UNSET
    visible_fields: list[str] | UnsetType = UNSET
    cooldown_days: Int32 | UnsetType = UNSET
    follow_up_days: Int32 | UnsetType | None = UNSET
    convert_days: Int32 | UnsetType | None = UNSET
    notice_days: Int32 | UnsetType = UNSET
    active: bool | UnsetType = UNSET


class PoolOut(Out, kw_only=True):
    id: uuid.UUID
    name: str
    partner_type_id: uuid.UUID | None
    region_id: uuid.UUID | None
    enterprise_limit: int | None
    person_limit: int | None
    daily_claim_limit: int | None
    visible_fields: list[str]
    cooldown_days: int
    follow_up_days: int | None
    convert_days: int | None
    notice_days: int
    active: bool


class RuleIn(Strict):
    """strategy: round_robin | capacity (then `capacity`, per enterprise) | pool (then `pool_id`)."""

    name: str
    strategy: str = "round_robin"
    position: Int32 | UnsetType = UNSET
    region_id: uuid.UUID | None = None
    product_line: str | None = None
    partner_type_id: uuid.UUID | None = None
    tier_id: uuid.UUID | None = None
    capacity: Int32 | None = None
    pool_id: uuid.UUID | None = None
    active: bool = True


class RulePatch(Strict):
    name: str | UnsetType = UNSET
    strategy: str | UnsetType = UNSET
    position: Int32 | UnsetType = UNSET
    region_id: uuid.UUID | UnsetType | None = UNSET
    product_line: str | UnsetType | None = UNSET
    partner_type_id: uuid.UUID | UnsetType | None = UNSET
    tier_id: uuid.UUID | UnsetType | None = UNSET
    capacity: Int32 | UnsetType | None = UNSET
    pool_id: uuid.UUID | UnsetType | None = UNSET
    active: bool | UnsetType = UNSET


class RuleOut(Out, kw_only=True):
    id: uuid.UUID
    position: int
    name: str
    strategy: str
    region_id: uuid.UUID | None
    product_line: str | None
    partner_type_id: uuid.UUID | None
    tier_id: uuid.UUID | None
    capacity: int | None
    pool_id: uuid.UUID | None
    active: bool


class ExtensionOut(Out, kw_only=True):
    id: uuid.UUID
    lead_id: uuid.UUID
    company_name: str | UnsetType = UNSET
    enterprise_id: uuid.UUID
    requested_by: uuid.UUID
    days: int
    reason: str | None
    status: str
    decided_at: datetime | None
    created_at: datetime
