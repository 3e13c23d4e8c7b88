"""A manufacturer's partner domain in a real browser: Chromium is told that portal.acme.example is this
machine (--host-resolver-rules), as DNS would tell it once the manufacturer points the domain at the
platform. A dealer signs in there without /p/<workspace>, sees the manufacturer's colour and logo, and the
home of their role on a phone; the consent page of an application's sign-in is served there too.

The domain is written to the live server's database as verified: proving it with a TXT record is the
integration tests' business (tests/integration/channels/test_partner_domains.py), and the server here asks
real DNS. Screenshots go to /tmp/partner-domain-*.png."""

from __future__ import annotations

import io
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from playwright.sync_api import expect

from tests.e2e.support import (
    ACME,
    ACME_ADMIN,
    CHROMIUM_ARGS,
    EAST_DEALER_BUYER,
    PHONE,
    TIMEOUT_MS,
    Person,
    Server,
    fill_form,
    follow,
    go,
    horizontal_overflow,
    loaded_width,
    sign_in_as_staff,
    submit,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright

DOMAIN = "portal.acme.example"
BRAND = "#0a7d45"
BRAND_RGB = "rgb(10, 125, 69)"
LOGO_SIZE = 64


def logo_png() -> bytes:
    """The logo the manufacturer uploads: a white square on its colour."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (LOGO_SIZE, LOGO_SIZE), BRAND)
    ImageDraw.Draw(image).rectangle((20, 20, 43, 43), fill="white")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def acme_domain(live_server: Server) -> str:
    """The address of Acme's partner portal on its verified domain (the live server's port)."""
    with sqlite3.connect(live_server.data_dir / "portal.db") as db:
        db.execute("UPDATE tenants SET partner_domain = ? WHERE slug = ?", (DOMAIN, ACME))
    return f"http://{DOMAIN}:{urlsplit(live_server.url).port}"


@pytest.fixture(scope="module")
def domain_browser(playwright: Playwright, chromium: str) -> Iterator[Browser]:
    rules = f"--host-resolver-rules=MAP {DOMAIN} 127.0.0.1"
    launched = playwright.chromium.launch(executable_path=chromium, args=[*CHROMIUM_ARGS, rules], headless=True)
    yield launched
    launched.close()


@pytest.fixture
def on_domain(domain_browser: Browser, acme_domain: str) -> Iterator[Callable[..., Page]]:
    """A page of a fresh browser context (its own cookies) on the partner domain; `phone=True` for 390 px."""
    contexts = []

    def open_one(*, phone: bool = False, locale: str = "en-US") -> Page:
        settings: dict[str, object] = {"base_url": acme_domain, "locale": locale}
        if phone:
            settings.update(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=3)
        context = domain_browser.new_context(**settings)  # type: ignore[arg-type]
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_one
    for context in contexts:
        context.close()


def admin_bearer(page: Page) -> dict[str, str]:
    signed_in = page.request.post(
        "/api/auth/token", data={"workspace": ACME, "email": ACME_ADMIN.login, "password": ACME_ADMIN.password}
    )
    assert signed_in.ok, signed_in.text()
    return {"Authorization": f"Bearer {signed_in.json()['access_token']}"}


def test_a_dealer_signs_in_on_the_partner_domain_with_the_brand(
    on_domain: Callable[..., Page], open_page: Callable[..., Page]
) -> None:
    staff = open_page()
    bearer = admin_bearer(staff)
    assert staff.request.patch("/api/workspace", data={"brand_colour": BRAND}, headers=bearer).ok
    logo = {"file": {"name": "logo.png", "mimeType": "image/png", "buffer": logo_png()}}
    uploaded = staff.request.put("/api/workspace/logo", multipart=logo, headers=bearer)  # type: ignore[arg-type]
    assert uploaded.ok, uploaded.text()

    phone = on_domain(phone=True)
    answer = phone.goto("/ordering/orders")  # not signed in: the domain's own sign-in, then back here
    assert answer is not None and urlsplit(phone.url).path == "/login"
    expect(phone.locator("header .brand")).to_contain_text("Acme")
    form = phone.locator('form[action="/login"]')
    expect(form.locator("button[type=submit], button").first).to_have_css("background-color", BRAND_RGB)
    assert loaded_width(phone.locator("header .brand img")) == LOGO_SIZE
    phone.screenshot(path="/tmp/partner-domain-sign-in.png", full_page=True)
    fill_form(form, {"login": EAST_DEALER_BUYER.login, "password": EAST_DEALER_BUYER.password})
    submit(form)
    landed = urlsplit(phone.url)
    assert (landed.hostname, landed.path) == (DOMAIN, "/ordering/orders"), phone.url

    phone.goto("/")
    assert urlsplit(phone.url).path == "/"
    expect(phone.locator("main h1").first).to_be_visible()
    assert horizontal_overflow(phone) == 0, "the partner home is wider than the phone"
    links = phone.locator("a[href]").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert not [href for href in links if href.startswith(f"/p/{ACME}")], links
    phone.screenshot(path="/tmp/partner-domain-home.png", full_page=True)
    cookies = {c["name"]: c for c in phone.context.cookies()}
    assert cookies["portal_session"]["domain"] == DOMAIN  # host-only: the domain's alone

    chinese = on_domain(phone=True, locale="zh-CN")
    chinese.goto("/")
    assert urlsplit(chinese.url).path == "/login"
    expect(chinese.locator("main h1")).to_have_text("登录")
    assert horizontal_overflow(chinese) == 0
    chinese.screenshot(path="/tmp/partner-domain-sign-in-zh.png", full_page=True)


def test_the_consent_page_of_an_application_on_the_partner_domain(
    on_domain: Callable[..., Page], open_page: Callable[..., Page], live_server: Server
) -> None:
    staff = open_page()
    port = urlsplit(live_server.url).port
    redirect_uri = f"http://localhost:{port}/health"  # a phone app listening on the phone itself
    registration = {
        "name": f"Acme Partner {uuid.uuid4().hex[:4]}",
        "kind": "public",
        "redirect_uris": [redirect_uri],
        "scopes": ["profile", "ordering"],
    }
    made = staff.request.post("/api/channels/oauth-clients", data=registration, headers=admin_bearer(staff))
    assert made.status == 201, made.text()
    verifier, state = generate_token(48), generate_token(20)
    query = {
        "response_type": "code",
        "client_id": made.json()["client"]["id"],
        "redirect_uri": redirect_uri,
        "scope": "profile ordering",
        "state": state,
        "code_challenge": create_s256_code_challenge(verifier),
        "code_challenge_method": "S256",
    }
    phone = on_domain(phone=True)
    phone.goto(f"/oauth/authorize?{urlencode(query)}")
    form = phone.locator('form[action="/login"]')
    fill_form(form, {"login": EAST_DEALER_BUYER.login, "password": EAST_DEALER_BUYER.password})
    submit(form)
    assert urlsplit(phone.url).hostname == DOMAIN and urlsplit(phone.url).path == "/oauth/authorize"
    expect(phone.locator("h1")).to_contain_text(f"Allow {registration['name']} to act for you?")
    assert horizontal_overflow(phone) == 0, "the consent page is wider than the phone"
    phone.screenshot(path="/tmp/partner-domain-consent.png", full_page=True)
    submit(phone.locator('form[action^="/oauth/authorize?"]'), "Allow")
    landed = urlsplit(phone.url)
    assert f"{landed.scheme}://{landed.netloc}{landed.path}" == redirect_uri
    answer = {k: v[0] for k, v in parse_qs(landed.query).items()}
    assert answer["state"] == state and answer["code"] and answer["iss"].endswith(f"/p/{ACME}")


def test_an_admin_claims_a_domain_in_the_console(open_page: Callable[..., Page]) -> None:
    """A manufacturer of its own (signed up here, so Acme's domain stays as it is) claims a domain: the
    console shows the TXT record to publish, and the check says the record is not there yet (real DNS
    knows nothing of .example names)."""
    slug = f"newco-{uuid.uuid4().hex[:8]}"
    person = Person("Nora New", f"nora@{slug}.example", slug)
    page = open_page()
    signed_up = page.request.post(
        "/api/signup",
        data={
            "company_name": f"Newco {slug[-4:]}",
            "slug": slug,
            "admin_name": person.name,
            "email": person.login,
            "password": person.password,
        },
    )
    assert signed_up.status == 201, signed_up.text()
    sign_in_as_staff(page, person)
    go(page, "/console/channels/oauth-clients")
    follow(page, "Partner domain \u203a")
    form = page.locator('form[action="/console/channels/domain#edit"]')
    fill_form(form, {"domain": "portal.acme.example"})  # Acme's: refused, with the reason
    submit(form, expect_status=409)
    expect(page.locator('[role="alert"]').first).to_contain_text("another workspace's partner domain")
    form = page.locator('form[action="/console/channels/domain#edit"]')
    fill_form(form, {"domain": f"Partners.{slug}.example"})
    submit(form)
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text(f"_portal-verify.partners.{slug}.example")
    expect(facts).to_contain_text("Waiting for the record")
    page.screenshot(path="/tmp/partner-domain-console.png", full_page=True)
    submit(page.locator('form[action="/console/channels/domain/verify"]'))
    expect(page.locator('[role="alert"]').first).to_be_visible()
