"""Bar charts as pages draw them: inline SVG laid out on the server (no script, nothing fetched), each bar
optionally a link (to the list the figure counts), with the same figures as a table for screen readers
and copying. `bar_chart()` works out the geometry; the kit's `kit/charts.html` macro draws it.

The drawing is as wide as its card and HEIGHT pixels high, never scaled: bars are placed across in
percent of the width and up in pixels, so every chart's labels are the same size whatever its card's
width (a scaled drawing wrote them tiny in a narrow card and huge in a wide one). On a phone every other
label is left out (`Bar.minor`, decided here by the bar's place, so a bar that is a link, wrapped in its
own `<a>`, counts like any other); each label stays under its own bar."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# Across, in percent of the drawing's width; up, in pixels (TOP leaves room for the figure above a bar).
WIDTH, HEIGHT, TOP = 100, 180, 18


@dataclass(frozen=True, slots=True)
class Bar:
    label: str  # under the bar (short)
    value: float  # what the height is proportional to
    shown: str  # the figure written above the bar and in the table
    href: str | None  # where the bar leads: the list the figure counts
    title: str  # the bar's tooltip and table row: the full label
    x: float  # percent of the width
    y: float  # pixels
    width: float  # percent of the width
    height: float  # pixels
    middle: float  # percent of the width
    minor: bool = False  # every other bar's label, left out on a phone so the labels do not run together


@dataclass(frozen=True, slots=True)
class Chart:
    bars: list[Bar]
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def empty(self) -> bool:
        return not any(bar.value for bar in self.bars)


@dataclass(frozen=True, slots=True)
class Point:
    label: str
    value: float
    shown: str | None = None  # the figure as written (the value's whole number if not given)
    href: str | None = None
    title: str | None = None  # the full label (the label if not given)


def bar_chart(points: Sequence[Point], peak: float | None = None) -> Chart:
    """One slot per point, heights against the tallest (or `peak`, e.g. 100 for percentages)."""
    top = peak or max((p.value for p in points), default=0) or 1
    slot = WIDTH / max(1, len(points))
    bars = []
    for index, point in enumerate(points):
        height = round((HEIGHT - TOP) * max(0.0, min(point.value, top)) / top, 1)
        bars.append(
            Bar(
                label=point.label,
                value=point.value,
                shown=point.shown if point.shown is not None else f"{point.value:,.0f}",
                href=point.href,
                title=point.title or point.label,
                x=round(index * slot + slot * 0.15, 1),
                width=round(slot * 0.7, 1),
                y=round(HEIGHT - height, 1),
                height=height,
                middle=round(index * slot + slot / 2, 1),
                minor=index % 2 == 1,
            )
        )
    return Chart(bars)
