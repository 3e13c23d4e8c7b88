"""Field mapping, filters and conflict policies: checked when a rule is saved, applied to each record.

A mapping is a list of entries, each giving one target field its value from the upstream record:
- rename:   {"target": "name", "kind": "rename", "source": "name"}
- constant: {"target": "unit", "kind": "constant", "value": "box"}
- lookup:   {"target": "unit", "kind": "lookup", "source": "unit", "table": {"pcs": "ea"}, "default": "ea"}
  (no default: a value missing from the table passes through unchanged)
- unit:     {"target": "cost_price", "kind": "unit", "source": "price", "factor": "12", "decimals": 2}
  (a number times the factor, rounded half-up to `decimals`)
A filter is a list of conditions on upstream fields, all of which must hold:
{"field": "sku", "op": "eq" | "ne" | "prefix" | "contains" | "in", "value": "P-" | ["a", "b"]}.
Values travel as JSON: text, whole numbers, booleans, and decimal numbers as text."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from portal.errors import FieldError, ValidationFailed
from portal.i18n import N_
from sync.crosstenant.models import POLICIES

KINDS = ("rename", "constant", "lookup", "unit")
OPERATORS = ("eq", "ne", "prefix", "contains", "in")
MAX_ENTRIES = 50


def scalar(value: Any) -> bool:
    """Text, a whole number, a boolean or nothing: what a value of a mapping or a filter may be."""
    return value is None or isinstance(value, str | int | bool)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def check_mapping(
    entries: Any, source_fields: Sequence[str], target_fields: Mapping[str, str], required: frozenset[str]
) -> list[dict[str, Any]]:
    """The entries as stored; every fault as a field error (`mapping[2].source`)."""
    errors: list[FieldError] = []
    clean: list[dict[str, Any]] = []
    if not isinstance(entries, list) or not entries:
        raise ValidationFailed([FieldError("mapping", N_("Map at least one field"), "required")])
    if len(entries) > MAX_ENTRIES:
        raise ValidationFailed([FieldError("mapping", N_("Too many entries"), "too_many")])
    seen: set[str] = set()
    for number, entry in enumerate(entries):
        at = f"mapping[{number}]"
        if not isinstance(entry, Mapping):
            errors.append(FieldError(at, N_("is not a mapping entry"), "invalid"))
            continue
        target, kind, source = entry.get("target"), entry.get("kind"), entry.get("source")
        if target not in target_fields:
            errors.append(FieldError(f"{at}.target", N_("No such field"), "unknown"))
        elif target in seen:
            errors.append(FieldError(f"{at}.target", N_("is mapped twice"), "duplicate"))
        seen.add(str(target))
        if kind not in KINDS:
            errors.append(FieldError(f"{at}.kind", N_("is not a kind of mapping"), "invalid"))
            continue
        item: dict[str, Any] = {"target": target, "kind": kind}
        if kind != "constant":
            if source not in source_fields:
                errors.append(FieldError(f"{at}.source", N_("No such field"), "unknown"))
            item["source"] = source
        if kind == "constant":
            item["value"] = entry.get("value")
            if not scalar(item["value"]):
                errors.append(FieldError(f"{at}.value", N_("must be text, a whole number or a yes/no"), "invalid"))
        elif kind == "lookup":
            table = entry.get("table")
            if not isinstance(table, Mapping) or not table:
                errors.append(FieldError(f"{at}.table", N_("Give at least one pair"), "required"))
            elif not all(scalar(v) for v in table.values()):
                errors.append(FieldError(f"{at}.table", N_("must be text, a whole number or a yes/no"), "invalid"))
            else:
                item["table"] = {str(k): v for k, v in table.items()}
            if entry.get("default") is not None:
                item["default"] = entry["default"]
                if not scalar(item["default"]):
                    errors.append(
                        FieldError(f"{at}.default", N_("must be text, a whole number or a yes/no"), "invalid")
                    )
        elif kind == "unit":
            try:
                factor = Decimal(str(entry.get("factor")))
                if not factor.is_finite() or factor <= 0:
                    raise InvalidOperation
                item["factor"] = str(factor)
            except (InvalidOperation, ValueError):
                errors.append(FieldError(f"{at}.factor", N_("must be a number above zero"), "invalid"))
            decimals = entry.get("decimals", 2)
            if not isinstance(decimals, int) or isinstance(decimals, bool) or not 0 <= decimals <= 6:
                errors.append(FieldError(f"{at}.decimals", N_("must be a whole number from 0 to 6"), "invalid"))
            else:
                item["decimals"] = decimals
        clean.append(item)
    for name in sorted(required - seen):
        errors.append(FieldError("mapping", N_("The field %(field)s must be mapped"), "required", {"field": name}))
    if errors:
        raise ValidationFailed(errors)
    return clean


def check_filter(conditions: Any, source_fields: Sequence[str]) -> list[dict[str, Any]]:
    errors: list[FieldError] = []
    clean: list[dict[str, Any]] = []
    if conditions is None:
        return []
    if not isinstance(conditions, list):
        raise ValidationFailed([FieldError("filter", N_("is not a list of conditions"), "invalid")])
    for number, condition in enumerate(conditions):
        at = f"filter[{number}]"
        if not isinstance(condition, Mapping):
            errors.append(FieldError(at, N_("is not a condition"), "invalid"))
            continue
        if condition.get("field") not in source_fields:
            errors.append(FieldError(f"{at}.field", N_("No such field"), "unknown"))
        if condition.get("op") not in OPERATORS:
            errors.append(FieldError(f"{at}.op", N_("is not a comparison"), "invalid"))
        value = condition.get("value")
        if condition.get("op") == "in" and not (isinstance(value, list) and all(scalar(v) for v in value)):
            errors.append(FieldError(f"{at}.value", N_("must be a list"), "invalid"))
        elif condition.get("op") != "in" and not scalar(value):
            errors.append(FieldError(f"{at}.value", N_("must be text, a whole number or a yes/no"), "invalid"))
        clean.append({"field": condition.get("field"), "op": condition.get("op"), "value": value})
    if errors:
        raise ValidationFailed(errors)
    return clean


def check_policies(policies: Any, target_fields: Mapping[str, str]) -> dict[str, str]:
    if policies is None:
        return {}
    if not isinstance(policies, Mapping):
        raise ValidationFailed([FieldError("policies", N_("is not a policy per field"), "invalid")])
    errors = [
        FieldError(f"policies.{name}", N_("No such field"), "unknown") for name in policies if name not in target_fields
    ]
    errors += [
        FieldError(f"policies.{name}", N_("is not a conflict policy"), "invalid")
        for name, policy in policies.items()
        if policy not in POLICIES
    ]
    if errors:
        raise ValidationFailed(errors)
    return {str(k): str(v) for k, v in policies.items() if v != "upstream"}


def _number(value: Any) -> Decimal | None:
    try:
        found = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return found if found.is_finite() else None


def _value(entry: Mapping[str, Any], values: Mapping[str, Any]) -> Any:
    kind = entry["kind"]
    if kind == "constant":
        return entry.get("value")
    source = values.get(entry["source"])
    if kind == "rename":
        return source
    if kind == "lookup":
        table: Mapping[str, Any] = entry["table"]
        if _text(source) in table:
            return table[_text(source)]
        return entry.get("default", source)
    number = _number(source)  # unit
    if number is None:
        return None
    step = Decimal(1).scaleb(-int(entry.get("decimals", 2)))
    return str((number * Decimal(entry["factor"])).quantize(step, rounding=ROUND_HALF_UP))


def normalise(value: Any, kind: str) -> Any:
    """A value as the target field keeps it, in JSON: so what was written compares equal to what is read."""
    if value is None or value == "":
        return None
    if kind == "int":
        number = _number(value)
        return int(number) if number is not None and number == number.to_integral_value() else None
    if kind == "decimal":
        number = _number(value)
        return None if number is None else str(number.normalize() if number != 0 else Decimal(0))
    if kind == "bool":
        return value if isinstance(value, bool) else _text(value).lower() in ("1", "true", "yes", "y")
    return _text(value)


def apply_mapping(
    entries: Sequence[Mapping[str, Any]], values: Mapping[str, Any], target_fields: Mapping[str, str]
) -> dict[str, Any]:
    return {e["target"]: normalise(_value(e, values), target_fields[e["target"]]) for e in entries}


def passes(conditions: Sequence[Mapping[str, Any]], values: Mapping[str, Any]) -> bool:
    for condition in conditions:
        value, wanted, op = _text(values.get(condition["field"])), condition.get("value"), condition["op"]
        if op == "eq" and value != _text(wanted):
            return False
        if op == "ne" and value == _text(wanted):
            return False
        if op == "prefix" and not value.startswith(_text(wanted)):
            return False
        if op == "contains" and _text(wanted).lower() not in value.lower():
            return False
        if op == "in" and value not in {_text(w) for w in wanted or ()}:
            return False
    return True
