"""Data permissions: which records of an object a viewer may read or change.

- `where()` compiles one tenant's rules for an object and the viewer into a single SQL boolean that the
  caller ANDs into its select, so lists, counts and pages are filtered by the database (default deny);
  the last few thousand it built are kept, so a viewer's next request under the same rules reuses one.
- `reasons()` answers the same question for one record in plain Python and says why: it is the "why can
  this user see this record" explainer and the reference the compiled SQL is tested against.
- `listed()` reads, in one indexed round trip, what `where()` compares with when listed beats asking
  inside the query: the viewer's enterprise subtree and their record-team rows for the object.
- `facts_for()` loads what `reasons()` needs besides the record (the viewer's enterprise subtree, their
  record-team rows, their staff-team peers).

External viewers get their level (the enterprise's override, else their partner type's), their record
teams and the sharing rules aimed at them; internal viewers get what their roles' scopes give together:
everything ("all"), or their own records plus their teams' ("team") and their teams' regions' ("region",
on objects whose records have a region_id; elsewhere it gives their own records only).
"""

from __future__ import annotations

import operator
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import (
    ARRAY,
    BindParameter,
    Boolean,
    ColumnElement,
    Select,
    Uuid,
    and_,
    bindparam,
    false,
    inspect,
    null,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeDecorator, TypeEngine

from interconnect.models import LinkClosure
from roles.models import DATA_LEVELS, RecordTeamMember, StaffTeamMember, StaffTeamRegion
from roles.records import ScopedRecord

Access = Literal["read", "write"]

GRANTING_LEVELS = frozenset(DATA_LEVELS) - {"none"}
# Which accesses each level grants on the viewer's enterprise (or subtree) and on every partner-facing
# record; every level but "none" also grants the viewer's own records, for both.
ENTERPRISE_ACCESS: Mapping[str, frozenset[str]] = {
    "enterprise_read": frozenset({"read"}),
    "enterprise_write": frozenset({"read", "write"}),
}
PUBLIC_ACCESS: Mapping[str, frozenset[str]] = {
    "public_read": frozenset({"read"}),
    "public_write": frozenset({"read", "write"}),
}
SCOPE_RANK: Mapping[str, int] = {"own": 1, "team": 2, "region": 2, "all": 3}
# Past this many enterprises the subtree is asked from the closure table inside the query rather than
# listed: each listed id is a bind parameter, and a subtree this wide holds so large a share of the
# records that reading in created_at order and filtering is the right plan anyway.
SUBTREE_LIST_LIMIT = 500
# Past this many record-team rows for one object the team is asked inside the query: a list is one array
# parameter, but one this long is a sizeable share of the request's traffic for a branch the index
# answers as well from the subquery.
TEAM_LIST_LIMIT = 500
# How many built conditions `where()` keeps for reuse (about 5 kB each with the viewer): loaded rules are
# never changed (a new policy version loads new ones, and the entry holds the rules it was built from, so
# their id cannot be reused while it lives), so a viewer's next list reuses the expression.
BUILT_LIMIT = 2048
# The team-members lookup is chunked so a long page of ids stays under every driver's parameter limit.
_ID_CHUNK = 500


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is looking, resolved once per request."""

    kind: Literal["internal", "external"]
    tenant_id: uuid.UUID
    user_id: uuid.UUID  # internal user id, or partner membership id
    enterprise_id: uuid.UUID | None = None  # external: their enterprise link (None for individuals)
    partner_type_id: uuid.UUID | None = None
    tier_id: uuid.UUID | None = None
    roles: frozenset[str] = frozenset()  # role keys held
    # The viewer's enterprise and everything under it, when known: from the session lookup for an
    # enterprise with nothing under it (its own subtree), else listed by the request (see listed()).
    # Listed ids let the planner estimate the subtree's rows and choose index ranges for a small one;
    # without them the closure table is asked inside the query, which it cannot estimate (a leaf
    # enterprise's page then scans the whole tenant in created_at order).
    sub_enterprises: frozenset[uuid.UUID] | None = None
    # The viewer's record-team rows for one object (object name, record id -> access), when the request
    # has listed them (see listed()): a listed team is a constant PostgreSQL hashes when it tests rows one
    # by one, and an empty one drops the branch; otherwise the team is asked inside the query.
    record_teams: tuple[str, Mapping[uuid.UUID, str]] | None = None


@dataclass(frozen=True, slots=True)
class LevelRule:
    level: str  # one of roles.models.DATA_LEVELS
    include_sub_enterprises: bool = False


@dataclass(frozen=True, slots=True)
class Sharing:
    id: uuid.UUID
    name: str
    field: str
    operator: str  # one of roles.models.SHARING_OPERATORS
    value: Any  # JSON: a list for "in"
    target_kind: str  # one of roles.models.SHARING_TARGETS
    target: str
    access: str  # "read" | "write"


@dataclass(frozen=True, slots=True)
class ObjectRules:
    """One tenant's rules for one object."""

    by_partner_type: Mapping[uuid.UUID, LevelRule] = field(default_factory=dict)
    by_enterprise: Mapping[uuid.UUID, LevelRule] = field(default_factory=dict)  # wins over the type's rule
    sharing: tuple[Sharing, ...] = ()
    internal: Mapping[str, str] = field(default_factory=dict)  # role key -> "own" | "team" | "all"


@dataclass(frozen=True, slots=True)
class Reason:
    """kind: owner, enterprise, sub_enterprise, public, external_team, sharing_rule (external viewers);
    staff_own, staff_team, staff_region, staff_all (internal viewers)."""

    kind: str
    detail: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Facts:
    """What `reasons()` needs besides the record."""

    sub_enterprises: frozenset[uuid.UUID]  # the viewer's enterprise and everything under it (closure)
    team_access: Mapping[uuid.UUID, str]  # record id -> "read" | "write", the viewer's record-team rows
    staff_team_peers: frozenset[uuid.UUID]  # internal: users sharing a staff team with the viewer, viewer included
    staff_regions: frozenset[uuid.UUID] = frozenset()  # internal: the regions of the viewer's staff teams


# --- shared rule resolution (which rules apply; not how a record is matched) ---


def level_of(rules: ObjectRules, viewer: Viewer) -> tuple[LevelRule, str] | None:
    """The external viewer's level and where it came from ("enterprise" override or "partner_type"); None
    when it grants nothing."""
    if viewer.kind != "external" or viewer.enterprise_id is None:
        return None  # individuals have no enterprise, hence no level
    if viewer.enterprise_id in rules.by_enterprise:
        found = rules.by_enterprise[viewer.enterprise_id], "enterprise"
    elif viewer.partner_type_id is not None and viewer.partner_type_id in rules.by_partner_type:
        found = rules.by_partner_type[viewer.partner_type_id], "partner_type"
    else:
        return None
    return found if found[0].level in GRANTING_LEVELS else None


def sharing_for(rules: ObjectRules, viewer: Viewer, access: Access) -> list[Sharing]:
    """The sharing rules aimed at this viewer that cover the access asked for (write covers read)."""
    if viewer.kind != "external":
        return []
    held: Mapping[str, Callable[[str], bool]] = {
        "enterprise": lambda target: viewer.enterprise_id is not None and target == str(viewer.enterprise_id),
        "partner_type": lambda target: viewer.partner_type_id is not None and target == str(viewer.partner_type_id),
        "tier": lambda target: viewer.tier_id is not None and target == str(viewer.tier_id),
        "role": lambda target: target in viewer.roles,
    }
    return [
        rule
        for rule in rules.sharing
        if rule.access in ("write", access) and rule.target_kind in held and held[rule.target_kind](rule.target)
    ]


def internal_scopes(rules: ObjectRules, viewer: Viewer) -> dict[str, str]:
    """Role key -> scope, for the viewer's roles that have one on this object."""
    if viewer.kind != "internal":
        return {}
    return {role: rules.internal[role] for role in sorted(viewer.roles) if rules.internal.get(role) in SCOPE_RANK}


def coerce(kind: type, value: Any) -> Any:
    """A sharing rule's JSON value as `kind`, the Python type of the field it compares; ValueError or
    TypeError when it cannot be one (such a rule matches nothing)."""
    if value is None:
        raise ValueError("a comparison with null matches nothing")
    if isinstance(value, bool) != (kind is bool):
        raise TypeError(f"{value!r} is not a {kind.__name__}")
    if kind is bool:
        return value
    if kind is Decimal:
        if not isinstance(value, int | float | str):
            raise TypeError(f"{value!r} is not a number")
        amount = Decimal(str(value))
        if not amount.is_finite():
            raise ValueError(f"{value!r} is not a finite number")
        return amount
    if kind is int:
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, int | str):
            return int(value)
        raise TypeError(f"{value!r} is not an integer")
    if kind is float:
        if not isinstance(value, int | float | str):
            raise TypeError(f"{value!r} is not a number")
        return float(value)
    if kind is uuid.UUID:
        return uuid.UUID(str(value))
    if kind is datetime:
        moment = datetime.fromisoformat(value)
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    if kind is date:
        return date.fromisoformat(value)
    if not isinstance(value, kind):
        raise TypeError(f"{value!r} is not a {kind.__name__}")
    return value


def _operand(kind: type, rule: Sharing) -> Any:
    if rule.operator == "in":
        if not isinstance(rule.value, list):
            raise TypeError("'in' compares with a list")
        return tuple(coerce(kind, item) for item in rule.value)
    return coerce(kind, rule.value)


_BAD_VALUE = (ValueError, TypeError, ArithmeticError)

# --- SQL ---


class _InSelect(ColumnElement[bool]):
    """`column IN (subquery)`, written for PostgreSQL as `column = ANY(ARRAY(subquery))`: the array is
    computed once up front and the comparison stays an index condition, so each branch of the scope's
    OR can be its own bitmap index scan instead of the whole OR turning into a filter over the table."""

    __visit_name__ = "in_select"
    inherit_cache = True
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("query", InternalTraversal.dp_clauseelement),
    ]
    type = Boolean()

    def __init__(self, column: ColumnElement[Any], query: Select[Any]) -> None:
        self.column = column
        self.query = query

    def self_group(self, against: Any = None) -> ColumnElement[Any]:
        return self  # a comparison already: no `= 1` on SQLite, which would keep it off the index


@compiles(_InSelect)
def _compile_in_select(element: _InSelect, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column.in_(element.query), **kw)


@compiles(_InSelect, "postgresql")
def _compile_any_array(element: _InSelect, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    return f"{column} = ANY(ARRAY{compiler.process(element.query.scalar_subquery(), **kw)})"


_UUID_ARRAY = ARRAY(Uuid())


class _InList(ColumnElement[bool]):
    """`column IN (listed ids)`, written for PostgreSQL as `column = ANY(:ids)`: one array parameter
    whatever the length, so the statement's text (and the driver's prepared statement) is the same for
    every viewer, and PostgreSQL, seeing a constant array, hashes it when it tests rows one by one."""

    __visit_name__ = "in_list"
    inherit_cache = True
    _traverse_internals = [
        ("expanding", InternalTraversal.dp_clauseelement),
        ("array", InternalTraversal.dp_clauseelement),
    ]
    type = Boolean()

    def __init__(self, column: ColumnElement[uuid.UUID], ids: Sequence[uuid.UUID]) -> None:
        # both forms carry the ids as parameters (never coerced one by one), so a cached compilation is
        # reused with each viewer's own
        self.column = column
        self.expanding = column.in_(bindparam(None, ids, expanding=True, type_=column.type))
        self.array: BindParameter[Sequence[uuid.UUID]] = bindparam(None, ids, type_=_UUID_ARRAY)

    def self_group(self, against: Any = None) -> ColumnElement[Any]:
        return self  # a comparison already, as _InSelect


@compiles(_InList)
def _compile_in_list(element: _InList, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.expanding, **kw)


@compiles(_InList, "postgresql")
def _compile_any_list(element: _InList, compiler: SQLCompiler, **kw: Any) -> str:
    return f"{compiler.process(element.column, **kw)} = ANY({compiler.process(element.array, **kw)})"


def _in(column: Any, ids: Sequence[uuid.UUID]) -> ColumnElement[bool]:
    if not ids:
        return false()
    return column == ids[0] if len(ids) == 1 else _InList(column, ids)


def subtree_query(viewer: Viewer) -> Select[uuid.UUID]:
    return select(LinkClosure.descendant_id).where(
        LinkClosure.tenant_id == viewer.tenant_id, LinkClosure.ancestor_id == viewer.enterprise_id
    )


_TEAM = RecordTeamMember.__table__.c


def team_query(viewer: Viewer, object_name: str, access: Access) -> Select[uuid.UUID]:
    # on the table's columns: it names its tenant itself, and without an ORM entity in it the session's
    # tenant criteria have one entity fewer to visit in every scoped statement
    query = select(_TEAM.record_id).where(
        _TEAM.tenant_id == viewer.tenant_id, _TEAM.membership_id == viewer.user_id, _TEAM.object == object_name
    )
    return query.where(_TEAM.access == "write") if access == "write" else query


def peers_query(viewer: Viewer) -> Select[uuid.UUID]:
    mine, peer = aliased(StaffTeamMember), aliased(StaffTeamMember)
    return (
        select(peer.user_id)
        .join_from(mine, peer, and_(peer.tenant_id == mine.tenant_id, peer.team_id == mine.team_id))
        .where(mine.tenant_id == viewer.tenant_id, mine.user_id == viewer.user_id)
    )


def regions_query(viewer: Viewer) -> Select[uuid.UUID]:
    """The regions of the staff teams the viewer is on."""
    mine = aliased(StaffTeamMember)
    return (
        select(StaffTeamRegion.region_id)
        .join_from(
            mine,
            StaffTeamRegion,
            and_(StaffTeamRegion.tenant_id == mine.tenant_id, StaffTeamRegion.team_id == mine.team_id),
        )
        .where(mine.tenant_id == viewer.tenant_id, mine.user_id == viewer.user_id)
    )


def _python_type(column_type: TypeEngine[Any]) -> type:
    """The Python type of a column's values, looking through type decorators (money, UTC timestamps)."""
    while isinstance(column_type, TypeDecorator):
        column_type = column_type.impl_instance
    kind = column_type.python_type
    if kind is object:
        raise NotImplementedError(f"no Python type known for {column_type!r}")
    return kind


def _sharing_condition(model: type[ScopedRecord], rule: Sharing) -> ColumnElement[bool] | None:
    columns = inspect(model).column_attrs
    if rule.field not in columns:
        return None  # the rule names a field this model lacks
    try:
        value = _operand(_python_type(columns[rule.field].columns[0].type), rule)
    except (NotImplementedError, *_BAD_VALUE):
        return None
    column = getattr(model, rule.field)
    if rule.operator == "in":
        return column.in_(value) if value else None
    compare = SQL_OPERATORS.get(rule.operator)
    return compare(column, value) if compare else None


SQL_OPERATORS: Mapping[str, Callable[[Any, Any], ColumnElement[bool]]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}


def where(
    model: type[ScopedRecord], object_name: str, rules: ObjectRules, viewer: Viewer, access: Access
) -> ColumnElement[bool]:
    """The records of `model` the viewer may `access`, as one boolean to AND into a select."""
    if viewer.record_teams is not None:
        return _where(model, object_name, rules, viewer, access)  # listed teams are rarely the same twice
    key = (id(rules), model, object_name, viewer, access)
    entry = _BUILT.pop(key, None)  # popped and put back: the first entry is the least recently used
    if entry is None or entry[0] is not rules:
        entry = (rules, _where(model, object_name, rules, viewer, access))
        if len(_BUILT) >= BUILT_LIMIT:
            del _BUILT[next(iter(_BUILT))]
    _BUILT[key] = entry
    return entry[1]


# (rules id, model, object, viewer, access) -> (the rules, their condition), least recently used first
_BUILT: dict[tuple[Any, ...], tuple[ObjectRules, ColumnElement[bool]]] = {}


def _where(
    model: type[ScopedRecord], object_name: str, rules: ObjectRules, viewer: Viewer, access: Access
) -> ColumnElement[bool]:
    if viewer.kind == "internal":
        return _internal_where(model, rules, viewer)
    branches: list[ColumnElement[bool]] = []
    found = level_of(rules, viewer)
    if found is not None:
        rule = found[0]
        branches.append(model.owner_id == viewer.user_id)
        if access in ENTERPRISE_ACCESS.get(rule.level, ()):
            if rule.include_sub_enterprises:
                branches.append(_in_subtree(model, viewer))
            else:
                branches.append(model.enterprise_id == viewer.enterprise_id)
        elif access in PUBLIC_ACCESS.get(rule.level, ()):
            branches.append(model.enterprise_id.is_not(None))
    team = _team(model, object_name, viewer, access)
    if team is not None:
        branches.append(team)
    for sharing in sharing_for(rules, viewer, access):
        condition = _sharing_condition(model, sharing)
        if condition is not None:
            branches.append(condition)
    return or_(*branches) if branches else false()


def _team(model: type[ScopedRecord], object_name: str, viewer: Viewer, access: Access) -> ColumnElement[bool] | None:
    """The record-team branch: the listed ids (none when the viewer has no team row granting `access`),
    or the subquery when the request has not listed this object's team."""
    if viewer.record_teams is None or viewer.record_teams[0] != object_name:
        return _InSelect(model.id, team_query(viewer, object_name, access))
    ids = sorted(r for r, granted in viewer.record_teams[1].items() if granted == "write" or access == "read")
    return _in(model.id, ids) if ids else None


def _in_subtree(model: type[ScopedRecord], viewer: Viewer) -> ColumnElement[bool]:
    listed = viewer.sub_enterprises
    if listed is None or len(listed) > SUBTREE_LIST_LIMIT:
        return _InSelect(model.enterprise_id, subtree_query(viewer))
    return _in(model.enterprise_id, sorted(listed))


def _internal_where(model: type[ScopedRecord], rules: ObjectRules, viewer: Viewer) -> ColumnElement[bool]:
    scopes = set(internal_scopes(rules, viewer).values())
    if "all" in scopes:
        return true()
    if not scopes:
        return false()
    # "team" and "region" are not wider than one another: each adds its branch to the viewer's own records
    branches: list[ColumnElement[bool]] = [model.owner_id == viewer.user_id]
    if "team" in scopes:
        branches.append(_InSelect(model.owner_id, peers_query(viewer)))
    region = region_column(model)
    if "region" in scopes and region is not None:
        branches.append(_InSelect(region, regions_query(viewer)))
    return or_(*branches)


def region_column(model: type[ScopedRecord]) -> Any:
    """The records' region, for the "region" scope; None for an object whose records have none."""
    return getattr(model, "region_id", None)


# --- plain Python: the explainer and the reference ---

PY_OPERATORS: Mapping[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
    "in": lambda value, listed: value in listed,
}


def reasons(
    object_name: str,
    rules: ObjectRules,
    viewer: Viewer,
    access: Access,
    record: Mapping[str, Any],
    facts: Facts,
) -> list[Reason]:
    """Every reason the viewer may `access` the record (a mapping of its fields); empty means denied."""
    if viewer.kind == "internal":
        return _internal_reasons(rules, viewer, record, facts)
    found: list[Reason] = []
    level = level_of(rules, viewer)
    if level is not None:
        rule, source = level
        about = {"level": rule.level, "source": source}
        enterprise = record["enterprise_id"]
        if record["owner_id"] == viewer.user_id:
            found.append(Reason("owner", about))
        if access in ENTERPRISE_ACCESS.get(rule.level, ()):
            inside = (
                enterprise in facts.sub_enterprises
                if rule.include_sub_enterprises
                else enterprise is not None and enterprise == viewer.enterprise_id
            )
            if inside:
                kind = "enterprise" if enterprise == viewer.enterprise_id else "sub_enterprise"
                found.append(Reason(kind, {**about, "enterprise_id": enterprise}))
        elif access in PUBLIC_ACCESS.get(rule.level, ()) and enterprise is not None:
            found.append(Reason("public", about))
    team = facts.team_access.get(record["id"])
    if team == "write" or (team == "read" and access == "read"):
        found.append(Reason("external_team", {"object": object_name, "access": team}))
    for sharing in sharing_for(rules, viewer, access):
        if _matches(sharing, record):
            detail = {
                "rule_id": sharing.id,
                "name": sharing.name,
                "access": sharing.access,
                "target_kind": sharing.target_kind,
                "target": sharing.target,
            }
            found.append(Reason("sharing_rule", detail))
    return found


def _matches(rule: Sharing, record: Mapping[str, Any]) -> bool:
    if rule.field not in record or rule.operator not in PY_OPERATORS:
        return False
    current = record[rule.field]
    if current is None:
        return False  # as in SQL, a comparison with a missing value is never true
    try:
        value = _operand(type(current), rule)
        return bool(PY_OPERATORS[rule.operator](current, value))
    except _BAD_VALUE:
        return False


def _internal_reasons(rules: ObjectRules, viewer: Viewer, record: Mapping[str, Any], facts: Facts) -> list[Reason]:
    found: list[Reason] = []
    owner = record["owner_id"]
    region = record.get("region_id")
    for role, scope in internal_scopes(rules, viewer).items():
        detail = {"role": role, "scope": scope}
        if scope == "all":
            found.append(Reason("staff_all", detail))
        elif owner == viewer.user_id:
            found.append(Reason("staff_own", detail))
        elif scope == "team" and owner in facts.staff_team_peers:
            found.append(Reason("staff_team", detail))
        elif scope == "region" and region is not None and region in facts.staff_regions:
            found.append(Reason("staff_region", {**detail, "region_id": region}))
    return found


# --- facts ---


async def with_sub_enterprises(session: AsyncSession, viewer: Viewer) -> Viewer:
    """The viewer with their enterprise subtree listed, for `where()` to compare with: one indexed lookup,
    worth it for a request that lists records of an object whose level includes sub-enterprises."""
    if viewer.kind != "external" or viewer.enterprise_id is None:
        return viewer
    return replace(viewer, sub_enterprises=frozenset(await session.scalars(subtree_query(viewer))))


async def listed(session: AsyncSession, viewer: Viewer, object_name: str, *, sub_enterprises: bool) -> Viewer:
    """The viewer with their record-team rows for the object listed and, when asked, their enterprise
    subtree: both in one round trip of index-only lookups, each read up to one past its limit (past it,
    `where()` asks inside the query instead)."""
    if viewer.kind != "external":
        return viewer
    subtree = sub_enterprises and viewer.enterprise_id is not None
    team = (
        team_query(viewer, object_name, "read")
        .with_only_columns(_TEAM.record_id, _TEAM.access)
        .limit(TEAM_LIST_LIMIT + 1)
        .subquery()
    )
    parts = [select(team.c.record_id, team.c.access)]
    if subtree:
        tree = subtree_query(viewer).add_columns(null().label("access")).limit(SUBTREE_LIST_LIMIT + 1).subquery()
        parts.append(select(*tree.c))
    # Core on the session's connection: every part names its tenant, and row-level security still applies
    rows = (await (await session.connection()).execute(union_all(*parts) if subtree else parts[0])).all()
    teams = {record: access for record, access in rows if access is not None}
    found = replace(viewer, record_teams=None if len(teams) > TEAM_LIST_LIMIT else (object_name, teams))
    if subtree:
        found = replace(found, sub_enterprises=frozenset(record for record, access in rows if access is None))
    return found


async def scope_condition(
    session: AsyncSession,
    model: type[ScopedRecord],
    object_name: str,
    rules: ObjectRules,
    viewer: Viewer,
    access: Access,
) -> ColumnElement[bool]:
    """What a request runs to scope its select: `where()`, after one lookup when the viewer's level opens
    their sub-enterprises for this access and the session lookup did not already know the subtree (the
    planner estimates a listed subtree, not a subquery on the closure table). The record team rides along
    in that round trip, so its branch compares with a hashed constant or disappears. For every other
    viewer the team stays a subquery: a round trip of its own would cost the request more than PostgreSQL
    spends answering it inside the query."""
    level = level_of(rules, viewer)
    if (
        level is not None
        and level[0].include_sub_enterprises
        and access in ENTERPRISE_ACCESS.get(level[0].level, ())
        and viewer.sub_enterprises is None  # a leaf enterprise's session lookup knew it is its own subtree
    ):
        viewer = await listed(session, viewer, object_name, sub_enterprises=True)
    return where(model, object_name, rules, viewer, access)


async def facts_for(session: AsyncSession, viewer: Viewer, object_name: str, record_ids: Sequence[uuid.UUID]) -> Facts:
    """What `reasons()` needs for these records, in at most a few indexed lookups."""
    if viewer.kind == "internal":
        peers = await session.scalars(peers_query(viewer))
        regions = await session.scalars(regions_query(viewer))
        return Facts(frozenset(), {}, frozenset({viewer.user_id, *peers}), frozenset(regions))
    subtree: frozenset[uuid.UUID] = frozenset()
    if viewer.enterprise_id is not None:
        subtree = frozenset(await session.scalars(subtree_query(viewer)))
    team: dict[uuid.UUID, str] = {}
    ids = list(dict.fromkeys(record_ids))
    base = team_query(viewer, object_name, "read").with_only_columns(_TEAM.record_id, _TEAM.access)
    for start in range(0, len(ids), _ID_CHUNK):
        rows = await session.execute(base.where(_TEAM.record_id.in_(ids[start : start + _ID_CHUNK])))
        team.update((record, access) for record, access in rows)
    return Facts(subtree, team, frozenset())
