"""`where()` reuses what it built for a viewer and the rules in force, and never across rules or viewers."""

from __future__ import annotations

import uuid
from dataclasses import replace

from sqlalchemy import MetaData, Uuid
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from roles import scopes
from roles.records import ScopedRecord
from roles.scopes import LevelRule, ObjectRules, Viewer, where

DEALER = uuid.uuid4()


class ProbeBase(DeclarativeBase):
    metadata = MetaData()


class Probe(ScopedRecord, ProbeBase):
    __tablename__ = "scope_reuse_probes"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True)


def dealer(enterprise: uuid.UUID | None = None) -> Viewer:
    return Viewer("external", uuid.uuid4(), uuid.uuid4(), enterprise or uuid.uuid4(), DEALER)


def sql(model: type[ScopedRecord], rules: ObjectRules, viewer: Viewer) -> str:
    compiled = where(model, "probe", rules, viewer, "read").compile(dialect=postgresql.dialect())
    return f"{compiled} {sorted(map(str, compiled.params.values()))}"


def test_the_same_viewer_under_the_same_rules_gets_the_built_condition_again() -> None:
    rules = ObjectRules(by_partner_type={DEALER: LevelRule("enterprise_write")})
    viewer = dealer()
    first = where(Probe, "probe", rules, viewer, "read")
    assert where(Probe, "probe", rules, viewer, "read") is first
    assert where(Probe, "probe", rules, replace(viewer), "read") is first  # an equal viewer of the next request
    assert where(Probe, "probe", rules, viewer, "write") is not first


def test_new_rules_or_another_viewer_build_their_own() -> None:
    rules = ObjectRules(by_partner_type={DEALER: LevelRule("enterprise_write")})
    viewer = dealer()
    before = sql(Probe, rules, viewer)
    private = ObjectRules(by_partner_type={DEALER: LevelRule("private")})  # the next policy version's
    assert sql(Probe, private, viewer) != before
    assert "enterprise_id" not in sql(Probe, private, viewer)
    other = dealer()
    assert str(other.enterprise_id) in sql(Probe, rules, other)
    assert str(other.enterprise_id) not in before


def test_what_is_kept_is_bounded() -> None:
    rules = ObjectRules(by_partner_type={DEALER: LevelRule("enterprise_write")})
    for _ in range(scopes.BUILT_LIMIT + 50):
        where(Probe, "probe", rules, dealer(), "read")
    assert len(scopes._BUILT) <= scopes.BUILT_LIMIT
