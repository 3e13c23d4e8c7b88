"""Every registered kind of notification renders every part in both languages, the inbox never shows the
one-time link, HTML is escaped in the email's HTML part only, and the email and SMS settings refuse what
would not work or would leak in production."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal.components import load_components
from portal.config import Settings
from portal.errors import ConfigurationError
from portal.i18n import Catalogs
from portal.notifications.kinds import KERNEL_KINDS, Kinds
from portal.notifications.render import LANGUAGES, Renderer
from portal.notifications.shown import shown_name
from portal.services import NOTIFICATION_TEMPLATES

LINK = "https://portal.example/setup/secret-one-time-link"
WEB_CATALOGS = Path(__file__).resolve().parents[2] / "web" / "i18n"


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


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_kind_has_a_label_of_its_own_in_every_language(language: str) -> None:
    """The preferences and the template preview list the kinds by label: two alike could not be told apart."""
    _renderer, kinds = renderer_and_kinds()
    translations = Catalogs([WEB_CATALOGS], LANGUAGES, "en").translations(language)
    labels = [translations.gettext(k.label) for k in kinds.all()]
    assert len(set(labels)) == len(labels), sorted(labels)


def test_only_the_html_part_is_escaped() -> None:
    renderer, kinds = renderer_and_kinds()
    kind = kinds["interconnect.set_password"]
    rendered = renderer.render(kind, "en", {**kind.sample, "name": "<b>Tom & Jerry</b>", "link": LINK})
    assert "&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;" in rendered.html
    assert "<b>Tom & Jerry</b>" in rendered.text


@pytest.mark.parametrize(
    ("chosen", "shown"),
    [
        ("Click http://evil.example/login now", "Click http[:]//evil[.]example/login now"),
        ("HTTPS://EVIL.EXAMPLE", "HTTPS[:]//EVIL[.]EXAMPLE"),
        ("visit www.evil.example", "visit www[.]evil[.]example"),
        ("evil.example", "evil[.]example"),
        ("evil\uff0eexample", "evil[.]example"),
        ("write to bob@evil.cn", "write to bob@evil[.]cn"),
        ("mailto:bob@evil.cn", "mailto[:]bob@evil[.]cn"),
        ("javascript:alert(1)", "javascript[:]alert(1)"),
        ("Li\nWei\r\n\tSales", "Li Wei Sales"),
        ("Acme\u202egnp.exe", "Acme gnp[.]exe"),
        ("Zero\u200bwidth\x00\x1b[31m", "Zero width [31m"),
        ("Li Wei", "Li Wei"),
        ("李伟 销售部", "李伟 销售部"),
        ("J.R. Smith", "J.R. Smith"),
        ("12,800.00", "12,800.00"),
        ("Note: urgent", "Note: urgent"),
    ],
)
def test_names_people_chose_never_become_links_nor_carry_control_characters(chosen: str, shown: str) -> None:
    assert shown_name(chosen) == shown


def test_every_part_of_a_notification_shows_names_neutralised_but_the_link_as_it_is() -> None:
    renderer, kinds = renderer_and_kinds()
    kind = kinds["interconnect.invitation"]
    hostile = {"name": "Click http://evil.example/x", "workspace": "Acme\nwww.evil.example", "days": 7}
    for language in LANGUAGES:
        rendered = renderer.render(kind, language, {**hostile, "link": LINK})
        for part in ("subject", "text", "html", "sms", "title", "body"):
            text = getattr(rendered, part)
            assert "evil.example" not in text and "http://evil" not in text, (language, part, text)
        assert "http[:]//evil[.]example/x" in rendered.text and LINK in rendered.text and LINK in rendered.html
        assert "\n" not in rendered.subject
        title, body = renderer.inbox(kind, language, hostile)
        assert "evil.example" not in title + body


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
