"""What the pages call a subscriber: its label (translated where it is shown), else its name; for one
of a subscriber's own lines ("webhooks:<endpoint id>"), the subscriber's label and the line's key."""

from __future__ import annotations

from functools import cache

from portal.components import load_components
from portal.outbox import split_line


@cache
def _labels() -> dict[str, str]:
    return {s.name: s.label for c in load_components() for s in c.subscribers if s.label}


def subscriber_label(name: str) -> str:
    """The label's message id, to pass through `_()`; empty for a subscriber without one."""
    return _labels().get(split_line(name)[0], "")


def subscriber_line(name: str) -> str:
    """The key of the subscriber's own line the delivery belongs to (an endpoint's id); empty if none."""
    return split_line(name)[1] or ""
