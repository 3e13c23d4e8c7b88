"""Language choice and the completeness of the Chinese catalog (no database)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from portal.i18n import Catalogs, parse_accept_language

ROOT = Path(__file__).resolve().parents[2]
WEB_CATALOGS = ROOT / "web" / "i18n"
ZH_CN_PO = WEB_CATALOGS / "zh_CN" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None, "_": None, "gettext": None, "ngettext": (1, 2)}
PLACEHOLDER = re.compile(r"%\((\w+)\)")


@pytest.fixture(scope="module")
def catalogs() -> Catalogs:
    return Catalogs([WEB_CATALOGS], ("en", "zh_CN"), "en")


# --- Accept-Language -------------------------------------------------------------------------------


def test_accept_language_is_ordered_by_quality() -> None:
    header = "en;q=0.5, zh-CN, fr;q=0.7, zh;q=0.9"
    assert parse_accept_language(header) == ["zh-CN", "zh", "fr", "en"]


def test_accept_language_keeps_the_client_order_for_equal_quality() -> None:
    assert parse_accept_language("de, en, ja") == ["de", "en", "ja"]


def test_accept_language_drops_q_zero_and_wildcard() -> None:
    assert parse_accept_language("fr;q=0, en;q=0.8, *;q=0.5, de;q=0.0") == ["en"]


@pytest.mark.parametrize("header", [None, "", "   "])
def test_accept_language_empty(header: str | None) -> None:
    assert parse_accept_language(header) == []


# --- Catalogs.choose -------------------------------------------------------------------------------


def test_default_when_nothing_is_known(catalogs: Catalogs) -> None:
    assert catalogs.choose(None, None, None) == "en"


def test_user_preference_beats_cookie_and_browser(catalogs: Catalogs) -> None:
    assert catalogs.choose("zh_CN", "en", "en-GB,en") == "zh_CN"
    assert catalogs.choose("en", "zh_CN", "zh-CN,zh;q=0.9") == "en"


def test_cookie_beats_browser(catalogs: Catalogs) -> None:
    assert catalogs.choose(None, "zh_CN", "en-US,en") == "zh_CN"
    assert catalogs.choose(None, "en", "zh-CN") == "en"


def test_browser_beats_default(catalogs: Catalogs) -> None:
    assert catalogs.choose(None, None, "zh-CN,zh;q=0.9,en;q=0.8") == "zh_CN"


def test_unsupported_choices_fall_through_to_the_next_source(catalogs: Catalogs) -> None:
    assert catalogs.choose("fr", "zh_CN", "en") == "zh_CN"
    assert catalogs.choose("fr", "de", "ja, zh;q=0.5") == "zh_CN"
    assert catalogs.choose("fr", "de", "ja, ko") == "en"


@pytest.mark.parametrize("tag", ["zh", "zh-CN", "zh_CN", "zh-Hans", "zh-hans", "ZH-cn"])
def test_chinese_aliases(catalogs: Catalogs, tag: str) -> None:
    assert catalogs.supported(tag) == "zh_CN"
    assert catalogs.choose(None, None, tag) == "zh_CN"
    assert catalogs.choose(tag, None, None) == "zh_CN"


@pytest.mark.parametrize("tag", ["fr", "fr-FR", "de-DE", "ja", "xx"])
def test_unsupported_language_gives_default(catalogs: Catalogs, tag: str) -> None:
    assert catalogs.supported(tag) is None
    assert catalogs.choose(tag, tag, tag) == "en"


def test_catalogs_translate(catalogs: Catalogs) -> None:
    assert catalogs.translations("zh_CN").gettext("Sign in") == "登录"
    assert catalogs.translations("en").gettext("Sign in") == "Sign in"
    assert catalogs.translations("xx").gettext("Sign in") == "Sign in"  # unknown language: the default


# --- Completeness of the zh_CN catalog -------------------------------------------------------------


def extracted_messages() -> dict[tuple[str | None, str], tuple[str, ...]]:
    """Every message id in the code and templates, as Babel extracts it with babel.cfg's mapping.

    Maps (context, singular msgid) to all its ids (singular and plural) so plural entries are checked
    too, and a message in a context (pgettext, lazy.pgettext) is checked apart from the same words
    without one."""
    with (ROOT / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh, "babel.cfg")
    found: dict[tuple[str | None, str], tuple[str, ...]] = {}
    for _filename, _lineno, message, _comments, context in extract_from_dir(
        ROOT, method_map, options_map, keywords=KEYWORDS
    ):
        ids = (message,) if isinstance(message, str) else tuple(m for m in message if m)
        if ids and ids[0]:
            found[(context, ids[0])] = ids
    return found


def test_extraction_finds_messages_in_code_and_templates() -> None:
    messages = extracted_messages()
    assert len(messages) > 50, sorted(messages)
    assert (None, "Sign in") in messages  # from the templates
    assert (None, "The workspace, email or password is not correct") in messages  # from portal/errors.py (N_)
    assert (None, "is not a valid email address") in messages  # from portal/identity (N_)
    assert ("delivery state", "Waiting") in messages  # pgettext in a template
    assert ("approval step", "Waiting") in messages  # lazy.pgettext in code


def test_every_message_has_a_chinese_translation() -> None:
    with ZH_CN_PO.open("rb") as fh:
        catalog = read_po(fh, locale="zh_CN")
    problems = []
    for (context, msgid), ids in sorted(extracted_messages().items(), key=lambda item: (item[0][1], item[0][0] or "")):
        entry = catalog.get(msgid, context=context)
        shown = f"{msgid!r} in {context!r}" if context else repr(msgid)
        if entry is None:
            problems.append(f"missing: {shown}")
            continue
        if entry.fuzzy:
            problems.append(f"fuzzy (not used at run time): {shown}")
        translations = (entry.string,) if isinstance(entry.string, str) else tuple(entry.string)
        if not translations or not all(t.strip() for t in translations):
            problems.append(f"empty translation: {shown}")
            continue
        expected = sorted({p for i in ids for p in PLACEHOLDER.findall(i)})
        for text in translations:
            if sorted(set(PLACEHOLDER.findall(text))) != expected:
                problems.append(f"placeholders differ: {shown} -> {text!r}")
    assert problems == [], "zh_CN catalog incomplete:\n" + "\n".join(problems)


# --- One English word, several senses: a message context each ----------------------------------


def test_a_word_in_another_sense_is_another_message(catalogs: Catalogs) -> None:
    """pgettext in templates and code, and lazy.pgettext in label tables (translated where shown), pick
    the translation of their sense; plain gettext is unchanged."""
    from portal.http.app import template_environment
    from portal.i18n import activate, gettext, lazy, pgettext
    from portal.ui.labels import label

    activate("zh_CN", catalogs.translations("zh_CN"))
    try:
        assert pgettext("approval step", "Waiting") == "待审批"
        assert pgettext("delivery state", "Waiting") == "等待投递"
        assert gettext(lazy.pgettext("finish time", "Finished")) == "结束时间"
        assert gettext(label("action", "create")) == "创建"
        assert gettext("Sign in") == "登录"
        page = template_environment([]).from_string(
            '{{ pgettext("creation time", "Created") }}|{{ _(marked) }}|{{ pgettext("job status", "Finished") }}'
        )
        assert page.render(marked=lazy.pgettext("price list", "Items")) == "创建时间|价格条目|已完成"
    finally:
        activate("en", catalogs.translations("en"))
    assert pgettext("delivery state", "Waiting") == "Waiting"
