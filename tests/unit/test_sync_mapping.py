"""Sync rules' field mapping, filters and policy checks (sync.crosstenant.mapping), and how a change
made on both sides is settled field by field (sync.crosstenant.apply._changes)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from portal.errors import ValidationFailed
from sync.crosstenant.apply import _changes
from sync.crosstenant.mapping import apply_mapping, check_filter, check_mapping, check_policies, passes
from sync.crosstenant.models import SyncMapping, SyncRule

SOURCES = ("sku", "name", "unit", "pack_size", "price")
TARGETS = {"sku": "text", "name": "text", "unit": "text", "pack_size": "int", "cost_price": "decimal"}


def test_each_kind_of_entry_maps_a_record() -> None:
    entries = check_mapping(
        [
            {"target": "sku", "kind": "rename", "source": "sku"},
            {"target": "name", "kind": "constant", "value": "Pump"},
            {"target": "unit", "kind": "lookup", "source": "unit", "table": {"pcs": "ea"}, "default": "box"},
            {"target": "pack_size", "kind": "unit", "source": "pack_size", "factor": "12", "decimals": 0},
            {"target": "cost_price", "kind": "unit", "source": "price", "factor": "0.5", "decimals": 2},
        ],
        SOURCES,
        TARGETS,
        frozenset({"sku"}),
    )
    record = {"sku": "P-1", "name": "x", "unit": "pcs", "pack_size": 2, "price": "10.015"}
    assert apply_mapping(entries, record, TARGETS) == {
        "sku": "P-1",
        "name": "Pump",
        "unit": "ea",
        "pack_size": 24,
        "cost_price": "5.01",
    }
    assert apply_mapping(entries, {**record, "unit": "kg", "price": None}, TARGETS)["unit"] == "box"
    assert apply_mapping(entries, {**record, "price": None}, TARGETS)["cost_price"] is None
    no_default = [{"target": "unit", "kind": "lookup", "source": "unit", "table": {"pcs": "ea"}}]
    assert apply_mapping(no_default, {"unit": "kg"}, TARGETS) == {"unit": "kg"}


@pytest.mark.parametrize(
    ("entries", "fields"),
    [
        ([], {"mapping"}),
        ([{"target": "nope", "kind": "rename", "source": "sku"}], {"mapping[0].target", "mapping"}),
        ([{"target": "sku", "kind": "rename", "source": "nope"}], {"mapping[0].source"}),
        ([{"target": "sku", "kind": "magic", "source": "sku"}], {"mapping[0].kind"}),
        ([{"target": "sku", "kind": "constant", "value": {"a": 1}}], {"mapping[0].value"}),
        ([{"target": "sku", "kind": "lookup", "source": "sku", "table": {}}], {"mapping[0].table"}),
        ([{"target": "sku", "kind": "unit", "source": "sku", "factor": "0"}], {"mapping[0].factor"}),
        ([{"target": "sku", "kind": "unit", "source": "sku", "factor": "2", "decimals": 9}], {"mapping[0].decimals"}),
        ([{"target": "sku", "kind": "rename", "source": "sku"}] * 2, {"mapping[1].target"}),
    ],
)
def test_a_faulty_mapping_names_each_fault(entries: list[dict[str, object]], fields: set[str]) -> None:
    with pytest.raises(ValidationFailed) as refused:
        check_mapping(entries, SOURCES, TARGETS, frozenset({"sku"}))
    assert {e.field for e in refused.value.errors} == fields


def test_filters_and_policies() -> None:
    conditions = check_filter(
        [
            {"field": "sku", "op": "prefix", "value": "P-"},
            {"field": "unit", "op": "in", "value": ["pcs", "box"]},
            {"field": "name", "op": "contains", "value": "pump"},
        ],
        SOURCES,
    )
    assert passes(conditions, {"sku": "P-1", "unit": "box", "name": "Big Pump"})
    assert not passes(conditions, {"sku": "Q-1", "unit": "box", "name": "Big Pump"})
    assert not passes(conditions, {"sku": "P-1", "unit": "kg", "name": "Big Pump"})
    assert passes([{"field": "sku", "op": "ne", "value": "P-2"}], {"sku": "P-1"})
    with pytest.raises(ValidationFailed):
        check_filter([{"field": "sku", "op": "in", "value": "P-1"}], SOURCES)
    assert check_policies({"name": "hold", "sku": "upstream"}, TARGETS) == {"name": "hold"}
    with pytest.raises(ValidationFailed):
        check_policies({"name": "whoever"}, TARGETS)


def test_a_field_changed_on_both_sides_goes_by_its_policy() -> None:
    now = datetime(2026, 12, 4, 12, tzinfo=UTC)
    rule = SyncRule(policies={"name": "hold", "unit": "downstream", "pack_size": "newer"})
    mapping = SyncMapping(
        id=uuid.uuid4(),
        sent={"sku": "P-1", "name": "Old", "unit": "pcs", "pack_size": 1, "cost_price": "5"},
        written={"sku": "P-1", "name": "Old", "unit": "pcs", "pack_size": 1, "cost_price": "5"},
    )
    new = {"sku": "P-1", "name": "New up", "unit": "box", "pack_size": 2, "cost_price": "6"}
    partner = {"sku": "P-1", "name": "New down", "unit": "ctn", "pack_size": 3, "cost_price": "5"}
    held: list[tuple[str, object, object]] = []
    # the partner changed its record before the upstream's change: the upstream's is newer
    out = _changes(rule, mapping, new, partner, now - timedelta(minutes=1), now, held)
    assert out == {"pack_size": 2, "cost_price": "6"}
    assert held == [("name", "New up", "New down")]
    held.clear()
    # the partner's change came later: it stays under "newer"
    assert _changes(rule, mapping, new, partner, now + timedelta(minutes=1), now, held) == {"cost_price": "6"}
    # a field the upstream did not change is left as the partner has it, whatever the policy
    assert _changes(rule, mapping, {**new, "name": "Old"}, partner, now, now, []) == {"pack_size": 2, "cost_price": "6"}
