"""Translations: gettext catalogs (managed with Babel) loaded per language, and the request's language.

Catalogs are the .po files themselves, compiled in memory at start-up, so there is no build step and no
generated binary in the repository. The language of a request is chosen in this order: the signed-in
user's preference, the language cookie set by the switcher, the browser's Accept-Language, the default.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from contextvars import ContextVar
from gettext import NullTranslations
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGUAGE_COOKIE = "portal_lang"
_ALIASES = {"zh": "zh_CN", "zh_cn": "zh_CN", "zh_hans": "zh_CN", "zh_sg": "zh_CN", "en": "en"}

_NO_TRANSLATION = NullTranslations()
_translations: ContextVar[NullTranslations | None] = ContextVar("translations", default=None)
_language: ContextVar[str] = ContextVar("language", default="en")


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated where it is shown."""
    return message


class InContext(str):
    """A message id marked where it is written and translated where it is shown (like N_), in a context
    (a msgctxt): the same English word in another sense is another message with its own translation
    ("Waiting" for an approval step, 待审批, and for a delivery, 等待投递). `gettext` honours it."""

    context: str

    def __new__(cls, context: str, message: str) -> InContext:
        marked = super().__new__(cls, message)
        marked.context = context
        return marked


class lazy:  # read as a namespace: lazy.pgettext(...), which Babel extracts as pgettext
    """Markers for messages in a context, translated where they are shown. Babel's extraction finds
    `lazy.pgettext("context", "message")` with its default keywords (the extraction command needs no
    change)."""

    @staticmethod
    def pgettext(context: str, message: str) -> str:
        return InContext(context, message)


class Msgid(str):
    """A message parameter that is itself a message (e.g. a preset's name): translated with the
    message it fills, in the language of whoever reads it."""

    __slots__ = ()


class Catalogs:
    def __init__(self, directories: Iterable[Path], languages: Iterable[str], default: str) -> None:
        self.languages = tuple(languages)
        self.default = default
        self._by_language: dict[str, NullTranslations] = {}
        for language in self.languages:
            merged: NullTranslations = NullTranslations()
            for directory in directories:
                po = directory / language / "LC_MESSAGES" / "messages.po"
                if po.exists():
                    loaded = _compile(po, language)
                    if isinstance(merged, Translations):
                        merged.merge(loaded)
                    else:
                        merged = loaded
            self._by_language[language] = merged

    def translations(self, language: str) -> NullTranslations:
        return self._by_language.get(language) or self._by_language.get(self.default) or NullTranslations()

    def supported(self, language: str | None) -> str | None:
        if not language:
            return None
        key = language.replace("-", "_")
        key = _ALIASES.get(key.lower(), key)
        return key if key in self.languages else None

    def choose(self, preference: str | None, cookie: str | None, accept_language: str | None) -> str:
        for candidate in (preference, cookie):
            chosen = self.supported(candidate)
            if chosen:
                return chosen
        for tag in parse_accept_language(accept_language):
            chosen = self.supported(tag) or self.supported(tag.split("-")[0])
            if chosen:
                return chosen
        return self.default


def _compile(po_path: Path, language: str) -> Translations:
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def parse_accept_language(header: str | None) -> list[str]:
    """Language tags in the client's order of preference (q-values honoured, q=0 dropped)."""
    if not header:
        return []
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and tag != "*" and quality > 0:
            weighted.append((-quality, index, tag.strip()))
    return [tag for _, _, tag in sorted(weighted)]


def activate(language: str, translations: NullTranslations) -> None:
    _language.set(language)
    _translations.set(translations)


def current_language() -> str:
    return _language.get()


def _translate(translations: NullTranslations, message: str) -> str:
    if isinstance(message, InContext):
        return translations.pgettext(message.context, str(message))
    return translations.gettext(message)


def gettext(message: str, **params: object) -> str:
    translations = _translations.get() or _NO_TRANSLATION
    text = _translate(translations, message)
    if not params:
        return text
    return text % {k: _translate(translations, v) if isinstance(v, Msgid | InContext) else v for k, v in params.items()}


def pgettext(context: str, message: str, **params: object) -> str:
    """`message` in the sense `context` names (a msgctxt in the catalogs)."""
    return gettext(InContext(context, message), **params)


def ngettext(singular: str, plural: str, n: int, **params: object) -> str:
    text = (_translations.get() or _NO_TRANSLATION).ngettext(singular, plural, n)
    return text % {"num": n, **params}


def npgettext(context: str, singular: str, plural: str, n: int, **params: object) -> str:
    text = (_translations.get() or _NO_TRANSLATION).npgettext(context, singular, plural, n)
    return text % {"num": n, **params}
