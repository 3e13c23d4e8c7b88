"""Request and response bodies of the sync rules API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

from portal.identity.schemas import Strict

Policy = Literal["upstream", "downstream", "newer", "hold"]
# a field's value as it travels: text, a whole number, a boolean; decimal numbers as text
Scalar = str | int | bool | None


class MappingEntry(msgspec.Struct, omit_defaults=True):
    """One target field's value: rename (`source`), constant (`value`), lookup (`source`, `table`,
    `default`) or unit (`source`, `factor`, `decimals`)."""

    target: str
    kind: str
    source: str | None = None
    value: Scalar = None
    table: dict[str, Scalar] | None = None
    default: Scalar = None
    factor: str | None = None
    decimals: int | None = None


class Condition(msgspec.Struct):
    field: str
    op: str
    value: Scalar | list[Scalar]


class RuleIn(Strict):
    link_id: uuid.UUID
    object: str
    name: str
    # entries {"target", "kind": rename | constant | lookup | unit, ...}; omitted: the object's default
    mapping: list[dict[str, Any]] | None = None
    filter: list[dict[str, Any]] | None = None
    policies: dict[str, Policy] | None = None


class RulePatch(Strict):
    name: str | UnsetType = UNSET
    mapping: list[dict[str, Any]] | UnsetType = UNSET
    filter: list[dict[str, Any]] | UnsetType = UNSET
    policies: dict[str, Policy] | UnsetType = UNSET


class PreviewIn(Strict):
    link_id: uuid.UUID
    object: str
    mapping: list[dict[str, Any]] | None = None
    filter: list[dict[str, Any]] | None = None
    sample_id: uuid.UUID | None = None


class PreviewOut(msgspec.Struct):
    sample_id: uuid.UUID
    source: dict[str, Scalar]
    target: dict[str, Scalar]
    # whether the sample passes the filter (and is in the partner's catalog at all)
    passes: bool


class SyncObjectOut(msgspec.Struct):
    name: str
    label: str
    direction: str  # down: from you to the partner's workspace; up: from the partner's workspace to you
    source_fields: list[str]
    target_fields: dict[str, str]
    required_targets: list[str]
    default_mapping: list[MappingEntry]


class SyncLinkOut(msgspec.Struct):
    id: uuid.UUID
    name: str


class RuleOut(msgspec.Struct):
    id: uuid.UUID
    link_id: uuid.UUID | None
    # None when the partner runs its workspace on a paired deployment (`pairing_id`)
    peer_tenant_id: uuid.UUID | None
    pairing_id: uuid.UUID | None
    object: str
    object_label: str
    direction: str
    name: str
    mapping: list[MappingEntry]
    filter: list[Condition]
    policies: dict[str, str]
    status: str
    paused_by_partner: bool  # the partner paused it for its workspace: nothing flows until it resumes
    activated_at: datetime | None
    created_at: datetime
    updated_at: datetime


class BackfillOut(msgspec.Struct):
    id: uuid.UUID
    rule_id: uuid.UUID
    status: str
    total: int
    done: int
    applied: int
    percent: int
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class RuleDetail(msgspec.Struct):
    rule: RuleOut
    mapped: int
    backfills: list[BackfillOut]


class ConflictOut(msgspec.Struct):
    id: uuid.UUID
    rule_id: uuid.UUID
    local_id: uuid.UUID
    peer_id: uuid.UUID
    field: str
    upstream_value: Scalar
    downstream_value: Scalar
    event_id: uuid.UUID | None
    status: str
    resolution: str | None
    resolved_at: datetime | None
    created_at: datetime


class ConflictPage(msgspec.Struct):
    items: list[ConflictOut]
    total: int
    limit: int
    offset: int


class ResolveIn(Strict):
    resolution: Literal["upstream", "downstream"]


class IncomingOut(msgspec.Struct):
    id: uuid.UUID
    upstream: str
    object: str
    object_label: str
    direction: str
    name: str
    mapping: list[MappingEntry]
    status: str
    paused_by_you: bool
    mapped: int


DriftKind = Literal["missing", "extra", "different"]


class ReconciliationOut(msgspec.Struct):
    """A comparison of every record a rule maps on both sides; `percent` while it runs. `missing`: sent
    but not at the partner; `extra`: at the partner but no longer sent; `different`: the digests of the
    mapped fields differ."""

    id: uuid.UUID
    rule_id: uuid.UUID
    trigger: str  # manual | scheduled
    status: str  # queued | running | done | failed
    phase: str
    total: int
    done: int
    percent: int
    compared: int
    missing: int
    extra: int
    different: int
    drift: int
    error: str | None
    # why it failed: peer_unreachable, peer_refused, not_paired (a paired deployment), not_comparable
    error_code: str | None
    repair_requested_at: datetime | None
    repaired: int  # records a repair has been asked for
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class DriftField(msgspec.Struct):
    field: str
    expected: Scalar  # what the rule's mapping gives
    actual: Scalar  # what the partner's record holds


class DriftOut(msgspec.Struct):
    id: uuid.UUID
    kind: str
    local_id: uuid.UUID  # your record
    peer_id: uuid.UUID | None  # the partner's record
    label: str | None  # the record's key (a SKU)
    fields: list[DriftField]
    source_digest: str | None
    peer_digest: str | None


class DriftPage(msgspec.Struct):
    reconciliation: ReconciliationOut
    items: list[DriftOut]
    total: int
    limit: int
    offset: int


class RepairIn(Strict):
    # only this kind of drift; omitted: all of it
    kind: DriftKind | None = None
