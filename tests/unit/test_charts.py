"""The UI kit's bar chart: heights against the tallest bar or a given peak, each bar where its slot is,
its figure as written and its link kept."""

from __future__ import annotations

from portal.ui.charts import HEIGHT, TOP, WIDTH, Point, bar_chart


def test_bars_are_laid_out_against_the_tallest() -> None:
    chart = bar_chart([Point("a", 2, href="/x?a=1"), Point("b", 4), Point("c", 0)])
    a, b, c = chart.bars
    assert b.height == HEIGHT - TOP and a.height == (HEIGHT - TOP) / 2 and c.height == 0
    assert (a.y, c.y) == (HEIGHT - a.height, HEIGHT)
    assert a.middle == round(WIDTH / 6, 1) and a.href == "/x?a=1" and b.href is None
    assert (a.shown, b.title) == ("2", "b")
    assert not chart.empty and bar_chart([Point("z", 0)]).empty


def test_a_peak_caps_the_scale_and_figures_keep_their_wording() -> None:
    chart = bar_chart([Point("w1", 50, shown="50%"), Point("w2", 140, shown="140%")], peak=100)
    half, over = chart.bars
    assert half.height == (HEIGHT - TOP) / 2 and over.height == HEIGHT - TOP
    assert (half.shown, over.shown) == ("50%", "140%")
    assert bar_chart([]).bars == []
