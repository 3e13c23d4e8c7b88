"""Rendering a notification in one language: the email (subject, text, HTML), the SMS and the inbox
entry, from the kind's template file of that language (portal.notifications.kinds). Every text
parameter but the platform's own link is shown as portal.notifications.shown writes it: names people
chose never become links or carry control characters."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, Template

from portal.notifications.kinds import NotificationKind
from portal.notifications.shown import LINK_PARAM, shown_params

LANGUAGES = ("en", "zh_CN")


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str
    sms: str
    title: str
    body: str


class Renderer:
    def __init__(self, template_dirs: Iterable[Path], default_language: str = "en") -> None:
        loader = ChoiceLoader([FileSystemLoader(str(d)) for d in template_dirs])
        # Plain text (subject, text, SMS, inbox) is not HTML-escaped; the HTML block is.
        self._plain = Environment(loader=loader, autoescape=False, undefined=StrictUndefined)  # noqa: S701 (plain text, never HTML)
        self._html = Environment(loader=loader, autoescape=True, undefined=StrictUndefined)
        self.default_language = default_language

    def language(self, language: str | None) -> str:
        return language if language in LANGUAGES else self.default_language

    def _block(
        self, env: Environment, kind: NotificationKind, language: str, block: str, params: Mapping[str, Any]
    ) -> str:
        template: Template = env.get_template(f"{kind.template}.{self.language(language)}.jinja")
        render = template.blocks.get(block)
        if render is None:
            return ""
        return "".join(render(template.new_context(dict(params)))).strip()

    def render(self, kind: NotificationKind, language: str | None, params: Mapping[str, Any]) -> Rendered:
        lang = self.language(language)
        params = shown_params(params)
        plain = {
            b: self._block(self._plain, kind, lang, b, params) for b in ("subject", "text", "sms", "title", "body")
        }
        return Rendered(html=self._block(self._html, kind, lang, "html", params), **plain)

    def inbox(self, kind: NotificationKind, language: str | None, params: Mapping[str, Any]) -> tuple[str, str]:
        """The title and body of an inbox entry (never given the link)."""
        lang = self.language(language)
        safe = shown_params({k: v for k, v in params.items() if k != LINK_PARAM})
        return self._block(self._plain, kind, lang, "title", safe), self._block(self._plain, kind, lang, "body", safe)
