"""Paging a list page: the page asked for, the numbers to link and their addresses (kept filters)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

LAST_PAGE = 100_000  # a page number past this is a typo or a probe: the first page is shown


@dataclass(frozen=True, slots=True)
class Paging:
    """What the kit's `pagination` macro needs."""

    page: int
    pages: int
    links: list[int | None]
    url: Callable[[int], str]


def page_number(text: str | None) -> int:
    return int(text) if text and text.isdigit() and 0 < int(text) < LAST_PAGE else 1


def page_count(total: int, size: int) -> int:
    return max(1, math.ceil(total / size))


def page_links(page: int, pages: int) -> list[int | None]:
    """Page numbers to link: the first, the last and two either side of the current; None is a gap."""
    shown = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})
    links: list[int | None] = []
    for number in shown:
        if links and number - (links[-1] or 0) > 1:
            links.append(None)
        links.append(number)
    return links


def paging(
    path: str, query: Mapping[str, Any], page: int, total: int, size: int, *, bare_first: bool = False
) -> Paging:
    """The page's numbers and links, keeping the other query values (empty ones dropped). With
    `bare_first`, the first page's address carries no page number."""
    pages = page_count(total, size)
    kept = {k: str(v) for k, v in query.items() if v not in (None, "")}

    def url(n: int) -> str:
        values = kept if bare_first and n <= 1 else {**kept, "page": n}
        return f"{path}?{urlencode(values)}" if values else path

    return Paging(page, pages, page_links(page, pages), url)
