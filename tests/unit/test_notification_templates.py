"""Every registered kind of notification renders every part in both languages, the inbox never shows the
one-time link, HTML is escaped in the email's HTML part only, and the email and SMS settings refuse what
would not work or would leak in production."""

from __future__ import annotations

import pytest

from portal.components import load_components
from portal.config import Settings
from portal.errors import ConfigurationError
from portal.notifications.kinds import KERNEL_KINDS, Kinds
from portal.notifications.render import LANGUAGES, Renderer
from portal.services import NOTIFICATION_TEMPLATES

LINK = "https://portal.example/setup/secret-one-time-link"


def renderer_and_kinds() -> tuple[Renderer, Kinds]:
    components = load_components()
    kinds = Kinds((*KERNEL_KINDS, *(k for c in components for k in c.notification_kinds)))
    return Renderer([NOTIFICATION_TEMPLATES, *(c.template_dir for c in components if c.template_dir)]), kinds


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_kind_renders_every_part_and_the_inbox_never_shows_the_link(language: str) -> None:
    renderer, kinds = renderer_and_kinds()
    assert len(kinds.all()) >= 8
    for kind in kinds.all():
        rendered = renderer.render(kind, language, {**kind.sample, "link": LINK})
        for part in ("subject", "text", "html", "sms", "title", "body"):
            assert getattr(rendered, part), f"{kind.name} {language}: empty {part}"
        if kind.security:
            assert LINK in rendered.text and LINK in rendered.html and LINK in rendered.sms, kind.name
        title, body = renderer.inbox(kind, language, {**kind.sample, "link": LINK})
        assert LINK not in title + body and "secret" not in title + body, kind.name


def test_only_the_html_part_is_escaped() -> None:
    renderer, kinds = renderer_and_kinds()
    kind = kinds["interconnect.set_password"]
    rendered = renderer.render(kind, "en", {**kind.sample, "name": "<b>Tom & Jerry</b>", "link": LINK})
    assert "&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;" in rendered.html
    assert "<b>Tom & Jerry</b>" in rendered.text


def test_an_unknown_language_falls_back_to_the_default() -> None:
    renderer, kinds = renderer_and_kinds()
    kind = kinds["ordering.order_shipped"]
    assert renderer.render(kind, "fr", kind.sample).subject == renderer.render(kind, "en", kind.sample).subject


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"PORTAL_SMTP_TLS": "maybe"}, "PORTAL_SMTP_TLS"),
        ({"PORTAL_SMTP_HOST": "mail.example"}, "PORTAL_SMTP_FROM"),
        ({"PORTAL_SMS_URL": "ftp://sms.example"}, "PORTAL_SMS_URL"),
    ],
)
def test_bad_channel_settings_are_refused(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Settings.from_env(environ)


@pytest.mark.parametrize(
    "environ",
    [
        {"PORTAL_SMTP_HOST": "mail.example", "PORTAL_SMTP_FROM": "p@example.com", "PORTAL_SMTP_TLS": "none"},
        {"PORTAL_SMS_URL": "http://sms.example/send"},
    ],
)
def test_production_refuses_channels_in_clear_text(environ: dict[str, str]) -> None:
    production = {
        "PORTAL_ENV": "production",
        "PORTAL_SECRET_KEY": "Xq8#vL2!pR9@mZ4$wT7^kN1&hB6*cF3(",
        "PORTAL_BASE_URL": "https://portal.example",
    }
    with pytest.raises(ConfigurationError):
        Settings.from_env({**production, **environ})
