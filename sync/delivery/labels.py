"""What the pages call a subscriber: its label (translated where it is shown), else its name."""

from __future__ import annotations

from functools import cache

from portal.components import load_components


@cache
def _labels() -> dict[str, str]:
    return {s.name: s.label for c in load_components() for s in c.subscribers if s.label}


def subscriber_label(name: str) -> str:
    """The label's message id, to pass through `_()`; empty for a subscriber without one."""
    return _labels().get(name, "")
