"""What only a browser shows of the console at a laptop's 1280 px: the conflict queue and the deal list
fit their cards without a sideways scroll, the header's bell is a drawing (no emoji font needed) with a
name, and every chart on the service dashboards writes its labels at one size."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.e2e.support import ACME_CHANNEL_MANAGER, go, screenshot, sign_in_as_staff

LAPTOP = {"width": 1280, "height": 800}


def hidden_columns(page: Page) -> list[int]:
    """How far each table's wrapper scrolls sideways (0: every column in sight)."""
    return page.evaluate(
        "() => [...document.querySelectorAll('main .table-wrap')].map(w => w.scrollWidth - w.clientWidth)"
    )


def test_the_conflict_queue_and_the_deal_list_fit_a_laptop(open_page: Callable[..., Page]) -> None:
    manager = open_page(viewport=LAPTOP)
    sign_in_as_staff(manager, ACME_CHANNEL_MANAGER)
    go(manager, "/console/agent/registrations")
    expect(manager.locator("div.conflict").first).to_be_visible()  # the demo's conflicts
    expect(manager.locator("form.rename.one-line").first).to_be_visible()  # the channel manager moves stages
    assert hidden_columns(manager) and max(hidden_columns(manager)) <= 0, hidden_columns(manager)
    screenshot(manager, "console-registrations-1280")

    bell = manager.get_by_role("link", name="Notifications")
    expect(bell).to_have_count(1)
    drawing = bell.locator("svg")
    box = drawing.bounding_box()
    assert box is not None and box["width"] >= 16 and box["height"] >= 16, box
    assert "\U0001f514" not in bell.inner_text()


def test_every_chart_labels_at_one_size(open_page: Callable[..., Page]) -> None:
    manager = open_page(viewport=LAPTOP)
    sign_in_as_staff(manager, ACME_CHANNEL_MANAGER)
    go(manager, "/console/service/dashboards")
    heights = manager.evaluate(
        "() => [...document.querySelectorAll('figure.chart text')]"
        ".map(t => Math.round(t.getBoundingClientRect().height))"
    )
    assert len(heights) > 10 and max(heights) - min(heights) <= 1, heights
    screenshot(manager, "console-dashboards-1280")
