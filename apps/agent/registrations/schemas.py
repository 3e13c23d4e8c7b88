"""Request and response bodies of the registration API. A registration is a deal: its answer is the
deal as the side may see it (hidden fields absent), with its customer links and its registration."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from msgspec import UNSET, UnsetType

from apps.agent.leads.schemas import FollowUpOut, LeadEventOut, LeadOut
from apps.agent.schemas import DealOut
from portal.http.inputs import Int32, Multiline
from portal.identity.schemas import Out, Strict


class RegistrationIn(Strict):
    """The deal and the customer's keys the duplicate check matches on (any of them may be left out)."""

    customer_name: str
    amount: Decimal
    tax_id: str | UnsetType | None = UNSET
    phone: str | UnsetType | None = UNSET
    email: str | UnsetType | None = UNSET
    contact_name: str | UnsetType | None = UNSET
    currency: str | UnsetType = UNSET
    expected_close: date | UnsetType | None = UNSET
    notes: Multiline | UnsetType | None = UNSET


class RegistrationOut(DealOut, kw_only=True):
    """`registration`: conflict (waiting for the channel manager), approved (protected until
    `protected_until`), rejected, or null for a deal entered without registration; `extension`: the one
    extension of the protection, pending, approved or rejected."""

    account_id: uuid.UUID | None
    contact_id: uuid.UUID | None
    lead_id: uuid.UUID | None
    registration: str | None
    protected_until: datetime | None
    extension: str | None


class HintOut(Out, kw_only=True):
    """An account what was typed meets, and on which keys (tax_id, name, phone, email). `blocking`:
    another partner protects it until `protected_until`, so the registration would be refused;
    `in_conflict` or `upstream_account`: it would wait for the channel manager."""

    account_name: str | None  # told only when met by the name typed, or the partner's own customer
    keys: list[str]
    protected_until: datetime | None
    blocking: bool
    in_conflict: bool
    upstream_account: bool
    yours: bool


class HintsOut(Out, kw_only=True):
    hints: list[HintOut]


class SideOut(RegistrationOut, kw_only=True):
    enterprise_name: str | None


class MatchOut(Out, kw_only=True):
    """What a registration in conflict met: another partner's registration (`deal`), or an account the
    upstream owns (`deal` null)."""

    key: str
    account_id: uuid.UUID
    account_name: str
    upstream_account: bool
    deal: SideOut | None


class ConflictOut(Out, kw_only=True):
    registration: SideOut
    matches: list[MatchOut]


class DecisionIn(Strict):
    outcome: str  # approve | reject | split


class SettingsIn(Strict):
    protection_days: Int32
    extension_days: Int32


class SettingsOut(Out, kw_only=True):
    protection_days: int
    extension_days: int


class DealHistoryOut(Out, kw_only=True):
    """The deal's follow-ups, newest first, and for a converted lead its timeline and follow-ups."""

    follow_ups: list[FollowUpOut]
    lead_id: uuid.UUID | None
    lead_company: str | None
    lead_events: list[LeadEventOut]
    lead_follow_ups: list[FollowUpOut]


class ConvertIn(Strict):
    """What the conversion adds to the lead's fields (all optional: the amount is 0 until known)."""

    amount: Decimal | UnsetType = UNSET
    currency: str | UnsetType = UNSET
    expected_close: date | UnsetType | None = UNSET
    tax_id: str | UnsetType | None = UNSET


class ConvertedLeadOut(LeadOut, kw_only=True):
    deal: RegistrationOut


class RegistrationPage(Out, kw_only=True):
    items: list[RegistrationOut]
    total: int
    limit: int
    offset: int


class SidePage(Out, kw_only=True):
    items: list[SideOut]
    total: int
    limit: int
    offset: int
