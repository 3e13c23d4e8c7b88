"""Every page a person reaches by following links, read as text: no stored code (a snake_case word) and,
on a Chinese page, no English message of the catalogs left untranslated.

Two people walk the site in both languages over HTTP: tenant A's admin from the console, and dealer X's
admin from the partner portal. Links are followed within the area they start in; query strings are dropped
(a filter or a page number shows the same words as the list itself)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from babel.messages.pofile import read_po
from litestar.testing import TestClient

from tests.integration.web.test_pages import act_as, submit
from tests.world import World

CATALOG = Path(__file__).resolve().parents[3] / "web" / "i18n" / "zh_CN" / "LC_MESSAGES" / "messages.po"
# A text that is nothing but lowercase words, e.g. action names "cancel / import / ship".
BARE_WORDS = re.compile(r"[a-z][a-z0-9]*(?:\s*[/,]\s*[a-z][a-z0-9]*)*")
SNAKE_CASE = re.compile(r"(?<![\w.@/-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w@/-])")
# Text in <code> is a code on purpose: keys and column names that people type into API calls and files.
# Words a person typed (or a default the manufacturer keeps), each for its reason:
TYPED = {
    "colleague",  # the test world's people are named after their email's local part
    "engineer",
    "staff",
    "disabled",
    "regional_manager",  # the role key field's hint shows what to type there
    "pcs",  # a product's unit is the manufacturer's own word (the test world keeps the default)
}
# Text a person typed or that names a thing in any language (the test world's data, brand words).
NOT_MESSAGES = {"API", "SKU", "XLSX", "CSV", "Email", "OAuth"}
MAX_PAGES = 250


class _Text(HTMLParser):
    """Text nodes outside scripts, styles and <code>, plus the links of the page."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self.links: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "code"):
            self._skip += 1
        for name, value in attrs:
            if tag == "a" and name == "href" and value:
                self.links.append(value)
            if name in ("placeholder", "title", "aria-label") and value:
                self.texts.append(value.strip())

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "code") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.texts.append(" ".join(data.split()))


def english_messages() -> set[str]:
    """Catalog messages whose Chinese differs from the English: seeing one on a Chinese page is a miss."""
    with CATALOG.open("rb") as fh:
        catalog = read_po(fh, locale="zh_CN")
    found = set()
    for message in catalog:
        if not message.id or isinstance(message.id, tuple) or "%(" in message.id:
            continue
        if message.string and message.string != message.id and message.id not in NOT_MESSAGES:
            found.add(message.id)
    return found


def crawl(client: TestClient, start: str, area: str) -> Iterator[tuple[str, list[str]]]:
    seen, queue = {start}, [start]
    while queue and len(seen) <= MAX_PAGES:
        path = queue.pop(0)
        response = client.get(path, follow_redirects=False)
        if response.status_code != 200 or not response.headers.get("content-type", "").startswith("text/html"):
            continue
        parser = _Text()
        parser.feed(response.text)
        yield path, parser.texts
        for href in parser.links:
            target = urlsplit(urljoin(f"http://testserver.local{path}", href))
            if target.netloc != "testserver.local" or not target.path.startswith(area):
                continue
            if target.path.endswith((".xlsx", ".csv", "/export", "/logout")) or target.path in seen:
                continue
            seen.add(target.path)
            queue.append(target.path)


def misses(client: TestClient, start: str, area: str, chinese: bool) -> tuple[int, dict[str, set[str]]]:
    english = english_messages() if chinese else set()
    found: dict[str, set[str]] = {}
    pages = 0
    for path, texts in crawl(client, start, area):
        pages += 1
        for text in texts:
            words = re.sub(r"\S+@\S+|https?://\S+|/\S*", " ", text)
            for code in SNAKE_CASE.findall(words):
                if code not in TYPED:
                    found.setdefault(path, set()).add(code)
            if (BARE_WORDS.fullmatch(text) and text not in TYPED) or text in english:
                found.setdefault(path, set()).add(text)
    return pages, found


@pytest.mark.parametrize("who", ["staff admin", "dealer admin"])
def test_pages_show_no_codes_and_no_untranslated_messages(client: TestClient, world: World, who: str) -> None:
    if who == "staff admin":
        cookie, start, area = world.a.admin.cookie, "/console", "/console"
    else:
        cookie, start, area = world.x.admin.cookie, f"/p/{world.a.slug}/", f"/p/{world.a.slug}/"
    act_as(client, cookie)
    report = []
    for language in ("en", "zh_CN"):
        response = submit(client, "/lang", {"language": language, "next": start}, form_page=start)
        assert response.status_code in (302, 303), response.text
        pages, found = misses(client, start, area, chinese=language == "zh_CN")
        assert pages > (20 if who == "staff admin" else 5), pages
        report += [f"{language} {p}: {sorted(w)}" for p, w in sorted(found.items())]
    assert not report, f"{who}:\n" + "\n".join(report)


def test_chinese_pages_name_things_and_people_apart(client: TestClient, world: World) -> None:
    """名称 is a thing's name, 姓名 a person's; an enterprise's creation is a time (创建时间), not "new" (新建)."""
    act_as(client, world.a.admin.cookie)
    switched = submit(client, "/lang", {"language": "zh_CN", "next": "/console"}, form_page="/console")
    assert switched.status_code in (302, 303), switched.text
    enterprises = client.get("/console/partners").text
    assert "<th>名称</th>" in enterprises and "姓名" not in enterprises
    enterprise = client.get(f"/console/partners/enterprises/{world.x.link_id}").text
    assert "<dt>创建时间</dt>" in enterprise and "<dt>新建</dt>" not in enterprise
    assert "<th>姓名</th>" in client.get("/console/users").text


def test_chinese_pages_give_each_sense_of_a_word_its_own_translation(client: TestClient, world: World) -> None:
    """One English word in two senses is two messages (a msgctxt each): a delivery waiting to go out is
    not "awaiting approval", a creation time is not an audit action, a finish time is not a status."""
    act_as(client, world.a.admin.cookie)
    switched = submit(client, "/lang", {"language": "zh_CN", "next": "/console"}, form_page="/console")
    assert switched.status_code in (302, 303), switched.text
    deliveries = client.get("/console/deliveries/list").text
    assert "等待投递" in deliveries and "待审批" not in deliveries
    endpoint = client.get(f"/console/webhooks/{world.ids['webhook_endpoint']}").text
    assert "<dt>创建时间</dt>" in endpoint and "<dt>新建</dt>" not in endpoint
    home = client.get("/console").text
    assert "<td>创建</td>" in home and "<td>新建</td>" not in home  # the audit log's action
    assert '<th class="num">价格条目</th>' in client.get("/console/ordering/price-lists").text
