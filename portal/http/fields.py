"""Which fields of a request schema (a msgspec struct, and the structs it holds) are declared a certain way:
the one walk the input checks share (dates, money, multi-line text)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, get_args, get_type_hints

import msgspec


def fields_where(annotation: Any, wanted: Callable[[Any], bool], seen: set[int] | None = None) -> set[str]:
    """The names of the fields whose type hint `wanted` accepts, in `annotation` and the schemas it holds."""
    seen = set() if seen is None else seen
    if id(annotation) in seen:
        return set()
    seen.add(id(annotation))
    found: set[str] = set()
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        for name, hint in get_type_hints(annotation, include_extras=True).items():
            if wanted(hint):
                found.add(name)
            found |= fields_where(hint, wanted, seen)
        return found
    for arg in get_args(annotation):
        found |= fields_where(arg, wanted, seen)
    return found
