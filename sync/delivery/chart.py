"""The 24-hour chart of the delivery overview as geometry for a server-rendered SVG (no JavaScript):
one column per hour, delivered attempts stacked under failed ones, on a scale rounded up to a tidy
number, and an hour label every six hours in the tenant's time zone."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from portal.timezones import local
from sync.delivery.service import HourFigures

WIDTH, HEIGHT = 720, 180
LEFT, BOTTOM, TOP = 40, 22, 8


@dataclass(frozen=True)
class Bar:
    x: float
    width: float
    delivered_y: float
    delivered_height: float
    failed_y: float
    failed_height: float
    delivered: int
    failed: int
    hour: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    baseline: float
    top: int
    scale: int
    bars: list[Bar]
    labels: list[tuple[float, str]]


def tidy_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, … that is at least `value`."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def chart_of(hours: Sequence[HourFigures], time_zone: str) -> Chart:
    scale = tidy_ceiling(max([h.delivered + h.failed for h in hours] + [1]))
    plot = HEIGHT - BOTTOM - TOP
    baseline = HEIGHT - BOTTOM
    slot = (WIDTH - LEFT) / max(1, len(hours))
    bars, labels = [], []
    for i, h in enumerate(hours):
        x = LEFT + i * slot + 1
        ok = plot * h.delivered / scale
        bad = plot * h.failed / scale
        stamp = local(h.start, time_zone)
        bars.append(
            Bar(
                x, slot - 2, baseline - ok, ok, baseline - ok - bad, bad, h.delivered, h.failed, stamp.strftime("%H:00")
            )
        )
        if stamp.hour % 6 == 0:
            labels.append((x, stamp.strftime("%H:00")))
    return Chart(WIDTH, HEIGHT, LEFT, baseline, TOP, scale, bars, labels)
