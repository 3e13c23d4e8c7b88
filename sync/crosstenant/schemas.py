"""Request and response bodies of the sync rules API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

from portal.identity.schemas import Strict

Policy = Literal["upstream", "downstream", "newer", "hold"]


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
    source: dict[str, Any]
    target: dict[str, Any]
    # whether the sample passes the filter (and is in the partner's catalog at all)
    passes: bool


class ObjectOut(msgspec.Struct):
    name: str
    label: str
    source_fields: list[str]
    target_fields: dict[str, str]
    required_targets: list[str]
    default_mapping: list[dict[str, Any]]


class LinkOut(msgspec.Struct):
    id: uuid.UUID
    name: str


class RuleOut(msgspec.Struct):
    id: uuid.UUID
    link_id: uuid.UUID
    peer_tenant_id: uuid.UUID
    object: str
    object_label: str
    direction: str
    name: str
    mapping: list[dict[str, Any]]
    filter: list[dict[str, Any]]
    policies: dict[str, str]
    status: str
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
    upstream_value: Any
    downstream_value: Any
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
    mapping: list[dict[str, Any]]
    status: str
    mapped: int
