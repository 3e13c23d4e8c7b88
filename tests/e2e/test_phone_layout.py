"""What only a browser shows at a phone's 390 px: the kit's bar charts label every other bar, linked or
not, each label under its own bar; the console's sessions and approvals and the dealer's opened tickets
fit the screen without a sideways scroll, with their columns and labels whole."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page

from tests.e2e.support import (
    ACME,
    ACME_ADMIN,
    EAST_DEALER_ADMIN,
    Person,
    go,
    horizontal_overflow,
    screenshot,
    sign_in_as_partner,
    sign_in_as_staff,
)

FIXIT_ADMIN = Person("Fay Fixit", "fay@fx.acme-pumps.example", ACME)

# Each chart's bars: where the bar is, and its label's box when the label shows (None when left out).
CHART_LABELS = """() => [...document.querySelectorAll('figure.chart svg')].map(svg => [...svg.querySelectorAll('g.bar')]
  .map(g => {
    const bar = g.querySelector('rect').getBoundingClientRect();
    const label = g.querySelector('text.day');
    const box = label && getComputedStyle(label).display !== 'none' ? label.getBoundingClientRect() : null;
    return {linked: !!g.closest('a'), middle: bar.left + bar.width / 2,
            label: box && {left: box.left, right: box.right, middle: box.left + box.width / 2}};
  }))"""


def check_charts(page: Page) -> list[list[dict[str, Any]]]:
    charts = page.evaluate(CHART_LABELS)
    assert charts, "no chart on the page"
    for bars in charts:
        shown = [b for b in bars if b["label"]]
        # every other label: the first, the third, …, whether the bar is a link or not
        assert [i for i, b in enumerate(bars) if b["label"]] == list(range(0, len(bars), 2)), bars
        for bar in shown:  # under its own bar
            assert abs(bar["label"]["middle"] - bar["middle"]) <= 2, bar
        for left, right in itertools.pairwise(shown):  # and not running into the next
            assert left["label"]["right"] <= right["label"]["left"], (left, right)
    return charts


def test_charts_label_every_other_bar_under_its_bar_on_a_phone(open_page: Callable[..., Page]) -> None:
    partner = open_page(phone=True)
    sign_in_as_partner(partner, FIXIT_ADMIN)
    go(partner, f"/p/{ACME}/service/dashboard")
    charts = check_charts(partner)
    assert any(b["linked"] for bars in charts for b in bars)  # the status and rating bars lead to their lists
    assert horizontal_overflow(partner) <= 0
    screenshot(partner, "partner-service-dashboard-390")


def no_sideways_scroll(page: Page) -> None:
    assert horizontal_overflow(page) <= 0, horizontal_overflow(page)
    hidden = page.evaluate(
        "() => [...document.querySelectorAll('main .table-wrap, main .card')]"
        ".map(w => w.scrollWidth - w.clientWidth).filter(d => d > 0)"
    )
    assert not hidden, hidden


def one_character_lines(page: Page, selector: str) -> list[str]:
    """Texts under `selector` broken into lines one or two characters wide (a label squeezed to nothing)."""
    return page.evaluate(
        """(selector) => [...document.querySelectorAll(selector)].filter(e => {
             const text = e.innerText.trim();
             if (text.length < 4 || !e.getClientRects().length) return false;
             const lines = e.getClientRects().length > 1 ? e.getClientRects().length
               : Math.round(e.getBoundingClientRect().height / parseFloat(getComputedStyle(e).lineHeight || '20'));
             return e.getBoundingClientRect().width < 24 && lines > 1;
           }).map(e => e.innerText)""",
        selector,
    )


def loose_text(page: Page) -> list[str]:
    """Stacked cells (a flex row beside their label) holding text beside elements: each piece becomes an
    item of its own, a " · " stranded between them and the rest squeezed a character wide."""
    return page.evaluate(
        "() => [...document.querySelectorAll('main table.list td')].filter(td => td.children.length"
        " && [...td.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())).map(td => td.innerText)"
    )


def test_sessions_and_approvals_fit_a_phone(open_page: Callable[..., Page]) -> None:
    admin = open_page(phone=True)
    sign_in_as_staff(admin, ACME_ADMIN)
    go(admin, "/console/sessions")
    no_sideways_scroll(admin)
    assert not loose_text(admin)
    address = admin.locator("main table.list td code").last  # the IP address, whole and in sight
    box = address.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    screenshot(admin, "console-sessions-390")

    go(admin, "/console/approvals")
    no_sideways_scroll(admin)
    assert not one_character_lines(admin, "main dt, main dd, main th, main td, main span, main label")
    assert not loose_text(admin)
    screenshot(admin, "console-approvals-390")


def test_the_dealers_opened_tickets_fit_a_phone(open_page: Callable[..., Page]) -> None:
    dealer = open_page(phone=True)
    sign_in_as_partner(dealer, EAST_DEALER_ADMIN)
    go(dealer, f"/p/{ACME}/service/opened")
    no_sideways_scroll(dealer)
    # every choice shows its chosen option whole (the status filter's "Open (not yet resolved)")
    clipped = dealer.evaluate(
        """() => { const pen = document.createElement('canvas').getContext('2d');
             return [...document.querySelectorAll('main select')].filter(s => {
               const style = getComputedStyle(s); pen.font = style.font;
               const room = s.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 16;
               return pen.measureText(s.options[s.selectedIndex].text).width > room;
             }).map(s => s.name); }"""
    )
    assert not clipped, clipped
    # serial and ticket numbers keep to one line ("FX-2026-0001", never "FX-/2026-/0001")
    numbers = dealer.evaluate(
        "() => [...document.querySelectorAll('main td code, main td a')]"
        ".filter(e => /^[A-Z]+-?\\d/.test(e.innerText.trim())).map(e => [e.innerText, e.getClientRects().length])"
    )
    assert numbers and all(lines == 1 for _, lines in numbers), numbers
    screenshot(dealer, "partner-opened-tickets-390")
