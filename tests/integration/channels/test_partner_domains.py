"""A workspace's admin claims a partner domain, proves it with a TXT record (tests.dns) and its partner portal
is then served at that host without /p/<slug>; another workspace can neither claim it nor reach anything of
the first through it. Tenant A of the world has a verified domain (tests.world.WORLD_PARTNER_DOMAIN)."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from litestar.testing import TestClient
from sqlalchemy import update

from channels.domains.models import DomainClaim
from portal.config import Settings
from portal.db.context import tenant_context
from portal.db.engine import Database
from portal.db.types import utcnow
from tests import dns
from tests.db import run_with_database
from tests.integration.channels.oauth import application, register
from tests.world import PASSWORD, WORLD_PARTNER_DOMAIN, World, csrf_token, partner_web_login, web_login

API = "/api/channels/domain"
A_HOST = f"http://{WORLD_PARTNER_DOMAIN}"
B_DOMAIN = "partners.beta-works.example"


@pytest.fixture
def fake_dns(client: TestClient) -> dns.FakeDns:
    return dns.install(client.app)  # type: ignore[arg-type]


def claimed(client: TestClient, world: World, domain: str) -> dict[str, str]:
    answer = client.put(API, headers=world.b.admin.bearer, json={"domain": domain})
    assert answer.status_code == 200, answer.text
    return answer.json()


def verify_b(client: TestClient, world: World, fake: dns.FakeDns, domain: str = B_DOMAIN) -> None:
    body = claimed(client, world, domain)
    fake.publish(body["record_name"], "v=unrelated", body["record_value"])
    answer = client.post(f"{API}/verify", headers=world.b.admin.bearer)
    assert answer.status_code == 200 and answer.json()["status"] == "verified", answer.text


def sign_in_on_domain(client: TestClient, host: str, login: str) -> str:
    """The partner's browser signs in on the domain's own sign-in page; the session cookie it got."""
    token = csrf_token(client, f"{host}/login")
    answer = client.post(
        f"{host}/login", data={"login": login, "password": PASSWORD, "_csrf_token": token}, follow_redirects=False
    )
    assert answer.status_code in (302, 303), answer.text
    assert answer.headers["location"] == "/", answer.headers["location"]
    cookies = answer.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("portal_session="))
    assert "domain=" not in session.lower()  # host-only: the domain's alone
    return session.split(";", 1)[0].split("=", 1)[1]


def test_a_domain_is_claimed_checked_and_verified(client: TestClient, world: World, fake_dns: dns.FakeDns) -> None:
    shown = client.get(API, headers=world.a.admin.bearer)
    assert shown.status_code == 200 and shown.json()["status"] == "verified", shown.text
    assert shown.json()["domain"] == WORLD_PARTNER_DOMAIN and shown.json()["expires_at"] is None
    # tenant B has none, sees nothing of A's, and cannot claim A's verified domain
    b_admin = world.b.admin.bearer
    missing = client.get(API, headers=b_admin)
    assert missing.status_code == 404 and WORLD_PARTNER_DOMAIN not in missing.text
    taken = client.put(API, headers=b_admin, json={"domain": WORLD_PARTNER_DOMAIN.upper() + "."})
    assert taken.status_code == 409 and taken.json()["code"] == "domain_taken", taken.text
    assert client.get(API, headers=b_admin).status_code == 404

    body = claimed(client, world, "Partners.Beta-Works.Example")
    assert body["domain"] == B_DOMAIN and body["status"] == "pending" and body["record_type"] == "TXT"
    assert body["record_name"] == f"_portal-verify.{B_DOMAIN}" and len(body["record_value"]) >= 32
    # the same domain again keeps its record
    assert claimed(client, world, B_DOMAIN)["record_value"] == body["record_value"]

    def check() -> dict[str, str]:
        answer = client.post(f"{API}/verify", headers=b_admin)
        assert answer.status_code == 200, answer.text
        return answer.json()

    assert check()["problem"] == "record_not_found"
    fake_dns.publish(body["record_name"], "someone-else's-token")
    assert check()["problem"] == "record_mismatch"
    fake_dns.fail()
    assert check()["problem"] == "dns_unavailable"
    fake_dns.publish(body["record_name"], body["record_value"])
    done = check()
    assert done["status"] == "verified" and done["problem"] is None and done["verified_at"]
    # A's stays A's
    assert client.get(API, headers=world.a.admin.bearer).json()["domain"] == WORLD_PARTNER_DOMAIN


@pytest.mark.parametrize(
    "domain",
    [
        "",
        "portal",
        "portal.acme.example/orders",
        "https://portal.acme.example",
        "portal.acme\x00.example",
        "portal.acme\n.example",
        "192.168.0.1",
        "-portal.acme.example",
        "portal.acme.localhost",
        "testserver.local",
        "a" * 64 + ".example",
        ("a" * 60 + ".") * 5 + "example",
        "9" * 5000,
    ],
)
def test_what_is_no_domain_is_refused_and_nothing_kept(client: TestClient, world: World, domain: str) -> None:
    answer = client.put(API, headers=world.b.admin.bearer, json={"domain": domain})
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == ["domain"]
    assert client.get(API, headers=world.b.admin.bearer).status_code == 404


def test_unverified_claims_expire_and_the_first_to_verify_keeps_the_domain(
    client: TestClient, world: World, settings: Settings, fake_dns: dns.FakeDns
) -> None:
    shared = "partners.shared.example"
    b_body = claimed(client, world, shared)
    # A moves to the same domain (A's verified one stops at once), and proves it first
    a_body = client.put(API, headers=world.a.admin.bearer, json={"domain": shared}).json()
    assert a_body["status"] == "pending" and a_body["record_value"] != b_body["record_value"]
    assert world.a.name not in client.get(f"{A_HOST}/login").text  # no longer A's portal
    fake_dns.publish(a_body["record_name"], a_body["record_value"], b_body["record_value"])
    assert client.post(f"{API}/verify", headers=world.a.admin.bearer).json()["status"] == "verified"
    late = client.post(f"{API}/verify", headers=world.b.admin.bearer)
    assert late.status_code == 409 and late.json()["code"] == "domain_taken", late.text

    # B's next claim is left to expire
    fresh = claimed(client, world, B_DOMAIN)

    async def age(db: Database) -> None:
        async with db.session(tenant_context(uuid.UUID(world.b.tenant_id))) as session:
            await session.execute(update(DomainClaim).values(expires_at=utcnow() - timedelta(seconds=1)))

    run_with_database(settings, age)
    assert client.get(API, headers=world.b.admin.bearer).json()["status"] == "expired"
    fake_dns.publish(fresh["record_name"], fresh["record_value"])
    expired = client.post(f"{API}/verify", headers=world.b.admin.bearer)
    assert expired.status_code == 409 and expired.json()["code"] == "claim_expired", expired.text
    renewed = claimed(client, world, B_DOMAIN)
    assert renewed["status"] == "pending" and renewed["record_value"] != fresh["record_value"]


def test_who_may_read_and_change_the_domain(client: TestClient, world: World) -> None:
    staff = world.a.others["staff"].bearer
    assert client.get(API, headers=staff).status_code == 200
    assert client.put(API, headers=staff, json={"domain": "partners.staff.example"}).status_code == 403
    assert client.post(f"{API}/verify", headers=staff).status_code == 403
    assert client.delete(API, headers=staff).status_code == 403
    assert client.get(API, headers=world.x.admin.bearer).status_code == 403
    assert client.delete(API, headers=world.b.admin.bearer).status_code == 404
    assert client.get(API, headers=world.a.admin.bearer).json()["domain"] == WORLD_PARTNER_DOMAIN


def test_the_portal_is_served_at_the_domain_without_its_prefix(client: TestClient, world: World) -> None:
    prefix = f"/p/{world.a.slug}"
    sign_in = client.get(f"{A_HOST}/login")
    assert sign_in.status_code == 200 and world.a.name in sign_in.text
    assert 'href="/brand.css"' in sign_in.text and 'src="/logo"' in sign_in.text
    assert f'href="{prefix}' not in sign_in.text and f'action="{prefix}' not in sign_in.text
    assert client.get(f"{A_HOST}/brand.css").status_code == 200
    head, platform_head = client.head(f"{A_HOST}/login"), client.head(f"{prefix}/login")
    assert head.status_code == platform_head.status_code and head.content == b""
    # the page as the domain renders it (its language switch comes back to "/login", not "<prefix>/login")
    assert int(head.headers["content-length"]) == int(platform_head.headers["content-length"]) - len(prefix)
    # an address of the portal before sign-in goes to the domain's sign-in and comes back
    away = client.get(f"{A_HOST}/ordering/orders", follow_redirects=False)
    assert away.status_code in (302, 303) and away.headers["location"].startswith("/login?next=")

    sign_in_on_domain(client, A_HOST, world.x.admin.email)
    jar = {(c.name, c.domain): c for c in client.cookies.jar}
    for name in ("portal_csrf", "portal_session"):  # host-only cookies of the domain
        assert not jar[(name, WORLD_PARTNER_DOMAIN)].domain_specified
    home = client.get(f"{A_HOST}/")
    assert home.status_code == 200 and world.x.name in home.text, home.text[:400]
    assert f'href="{prefix}' not in home.text and 'href="/ordering/orders"' in home.text
    orders = client.get(f"{A_HOST}/ordering/orders")
    assert orders.status_code == 200 and world.y.name not in orders.text
    # old links with the prefix still work on the domain
    assert client.get(f"{A_HOST}{prefix}/ordering/orders").status_code == 200
    # the session is the domain's: the platform's own address does not know it
    elsewhere = client.get(f"{prefix}/", follow_redirects=False)
    assert elsewhere.status_code in (302, 303) and "/login" in elsewhere.headers["location"]
    # the console is not on the partner domain
    assert client.get(f"{A_HOST}/console", follow_redirects=False).status_code in (302, 303, 404)
    # signing out stays on the domain
    token = re.search(r'name="_csrf_token" value="([^"]+)"', home.text)
    assert token
    out = client.post(f"{A_HOST}/logout", data={"_csrf_token": token.group(1)}, follow_redirects=False)
    assert out.status_code in (302, 303) and out.headers["location"] == "/login"


def test_an_unknown_or_unverified_host_is_the_platform(client: TestClient, world: World, fake_dns: dns.FakeDns) -> None:
    platform = client.get("/login")
    for host in ("http://unknown.example", f"http://{B_DOMAIN}"):
        answer = client.get(f"{host}/login")
        assert answer.status_code == platform.status_code and world.a.name not in answer.text
    claimed(client, world, B_DOMAIN)  # claimed, not verified
    assert world.b.name not in client.get(f"http://{B_DOMAIN}/login").text
    # once given up, A's domain is an unknown host again
    assert client.delete(API, headers=world.a.admin.bearer).status_code == 204
    gone = client.get(f"{A_HOST}/login")
    assert gone.status_code == platform.status_code and world.a.name not in gone.text


def test_another_tenants_domain_never_shows_this_tenants_data(
    client: TestClient, world: World, fake_dns: dns.FakeDns
) -> None:
    verify_b(client, world, fake_dns)
    b_host = f"http://{B_DOMAIN}"
    cookie = partner_web_login(client, world.a.slug, world.x.admin.email)
    client.cookies.clear()
    markers = world.a.markers() | world.x.markers()
    # A's partner session sent to B's domain (a Host header is the sender's to choose)
    for path in ("/", "/ordering/orders", f"/p/{world.a.slug}/", f"/p/{world.a.slug}/ordering/orders", "/brand.css"):
        answer = client.get(f"{b_host}{path}", headers={"Cookie": f"portal_session={cookie}"}, follow_redirects=False)
        shown = answer.text + answer.headers.get("location", "")
        leaked = sorted(m for m in markers if m in shown and m not in path)  # the sender's own path aside
        assert not leaked, (path, answer.status_code, leaked)
        assert answer.status_code in (200, 302, 303, 404), (path, answer.status_code)
    sign_in = client.get(f"{b_host}/login")
    assert world.b.name in sign_in.text and world.a.name not in sign_in.text
    # A's partner cannot sign in to B's portal on B's domain
    token = csrf_token(client, f"{b_host}/login")
    refused = client.post(
        f"{b_host}/login", data={"login": world.x.admin.email, "password": PASSWORD, "_csrf_token": token}
    )
    assert refused.status_code in (401, 403, 422) and world.a.name not in refused.text


def test_a_forwarded_host_is_ignored_unless_the_proxy_is_trusted(client: TestClient, world: World) -> None:
    spoofed = client.get("/login", headers={"X-Forwarded-Host": WORLD_PARTNER_DOMAIN})
    assert spoofed.status_code == 200 and world.a.name not in spoofed.text
    # and the Host decides, whatever the forwarded header claims
    real = client.get(f"{A_HOST}/login", headers={"X-Forwarded-Host": B_DOMAIN})
    assert world.a.name in real.text


def test_the_console_page_sets_and_checks_the_domain(client: TestClient, world: World, fake_dns: dns.FakeDns) -> None:
    client.cookies.set("portal_session", web_login(client, world.a.slug, world.a.admin.email))
    page = client.get("/console/channels/domain")
    assert page.status_code == 200 and WORLD_PARTNER_DOMAIN in page.text and "Verified" in page.text
    client.cookies.clear()
    client.cookies.set("portal_session", web_login(client, world.b.slug, world.b.admin.email))
    page = client.get("/console/channels/domain")
    assert page.status_code == 200 and WORLD_PARTNER_DOMAIN not in page.text
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert token
    csrf = token.group(1)
    taken = client.post("/console/channels/domain", data={"domain": WORLD_PARTNER_DOMAIN, "_csrf_token": csrf})
    assert taken.status_code == 409 and "another workspace" in taken.text
    bad = client.post("/console/channels/domain", data={"domain": "no domain", "_csrf_token": csrf})
    assert bad.status_code == 422 and "such as portal.example.com" in bad.text
    control = client.post("/console/channels/domain", data={"domain": "partners\x07.example", "_csrf_token": csrf})
    assert control.status_code == 422 and client.get(API, headers=world.b.admin.bearer).status_code == 404
    saved = client.post("/console/channels/domain", data={"domain": B_DOMAIN, "_csrf_token": csrf})
    assert saved.status_code == 200 and f"_portal-verify.{B_DOMAIN}" in saved.text
    value = re.search(r"Record value</dt><dd class=\"wrap\"><code>([^<]+)</code>", saved.text)
    assert value
    checked = client.post("/console/channels/domain/verify", data={"_csrf_token": csrf})
    assert checked.status_code == 200 and "No TXT record was found" in checked.text
    fake_dns.publish(f"_portal-verify.{B_DOMAIN}", value.group(1))
    verified = client.post("/console/channels/domain/verify", data={"_csrf_token": csrf})
    assert verified.status_code == 200 and "now served at it" in verified.text
    assert 'href="/brand.css"' in client.get(f"http://{B_DOMAIN}/login").text  # B's portal, unprefixed
    removed = client.post("/console/channels/domain/delete", data={"_csrf_token": csrf})
    assert removed.status_code == 200 and "was removed" in removed.text
    client.cookies.clear()  # the staff session (set for every host here) would name B on any page
    assert world.b.name not in client.get(f"http://{B_DOMAIN}/login").text


def test_oauth_sign_in_on_the_domain(client: TestClient, world: World, fake_dns: dns.FakeDns) -> None:
    callback = f"https://{WORLD_PARTNER_DOMAIN}/app/callback"
    client_id, _secret = register(client, world.a.admin, redirect_uris=(callback,))
    # another workspace's application may not send codes to A's domain
    foreign = client.post(
        "/api/channels/oauth-clients",
        headers=world.b.admin.bearer,
        json={"name": "Lookalike", "kind": "public", "redirect_uris": [callback], "scopes": ["profile"]},
    )
    assert foreign.status_code == 422 and foreign.json()["errors"][0]["code"] == "foreign", foreign.text
    sign_in_on_domain(client, A_HOST, world.x.admin.email)
    app = application(client, client_id, redirect_uri=callback, scope="profile")
    url, _state = app.create_authorization_url(f"{A_HOST}/oauth/authorize", code_verifier="v" * 48)
    page = client.get(url)
    assert page.status_code == 200 and "Acme partner app" in page.text and world.x.name in page.text
    action = re.search(r'<form method="post" action="(/oauth/authorize\?[^"]*)"', page.text)
    assert action, page.text
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert token
    allowed = client.post(
        f"{A_HOST}{action.group(1).replace('&amp;', '&')}",
        data={"_csrf_token": token.group(1), "decision": "allow"},
        follow_redirects=False,
    )
    assert allowed.status_code in (302, 303), allowed.text
    target = urlsplit(allowed.headers["location"])
    assert (target.scheme, target.hostname, target.path) == ("https", WORLD_PARTNER_DOMAIN, "/app/callback")
    assert "code=" in target.query and "iss=" in target.query


def test_signing_in_on_the_domain_lands_on_the_page_asked_for(
    client: TestClient, world: World, fake_dns: dns.FakeDns
) -> None:
    prefix = f"/p/{world.a.slug}"
    # the page asked for before sign-in: the sign-in's `next` is the domain's own path, without /p/<slug>
    away = client.get(f"{A_HOST}/ordering/orders?status=placed", follow_redirects=False)
    assert away.status_code in (302, 303)
    location = away.headers["location"]
    assert location == "/login?next=/ordering/orders%3Fstatus%3Dplaced", location
    form = client.get(f"{A_HOST}{location}")
    assert form.status_code == 200 and 'name="next" value="/ordering/orders?status=placed"' in form.text

    def sign_in(next_value: str) -> str:
        client.cookies.clear()
        data = {
            "login": world.x.admin.email,
            "password": PASSWORD,
            "_csrf_token": csrf_token(client, f"{A_HOST}/login"),
        }
        answer = client.post(f"{A_HOST}/login", data={**data, "next": next_value}, follow_redirects=False)
        assert answer.status_code in (302, 303), answer.text
        return answer.headers["location"]

    landed = sign_in("/ordering/orders?status=placed")
    assert landed == "/ordering/orders?status=placed"
    assert client.get(f"{A_HOST}{landed}").status_code == 200
    # dot segments and repeated slashes are resolved before the check: a path of the domain, never "//…"
    assert sign_in("/ordering/../..//evil.example/x") == "/evil.example/x"
    assert sign_in("/ordering/x/..//orders") == "/ordering/orders"
    # an old link's prefixed path still lands, on the domain
    assert sign_in(f"{prefix}/ordering/orders") == "/ordering/orders"
    # off-site, another workspace's portal, an address every host shares, the console: the portal's home instead
    verify_b(client, world, fake_dns)
    for refused in (
        "https://evil.example/phish",
        "//evil.example/phish",
        "/\\evil.example",
        f"/p/{world.b.slug}/ordering/orders",
        f"http://{B_DOMAIN}/ordering/orders",
        "/api/partner/me",
        "/join/abc",
    ):
        assert sign_in(refused) == "/", refused
    # on the platform's own address nothing changed: the prefixed path, and a bare one refused
    client.cookies.clear()
    away = client.get(f"{prefix}/ordering/orders", follow_redirects=False)
    assert away.headers["location"] == f"/login?next={prefix}/ordering/orders"
    data = {"login": world.x.admin.email, "password": PASSWORD, "_csrf_token": csrf_token(client, f"{prefix}/login")}
    bare = client.post(f"{prefix}/login", data={**data, "next": "/ordering/orders"}, follow_redirects=False)
    assert bare.headers["location"] == f"{prefix}/"


def test_switching_language_on_the_domain_comes_back_to_the_page_without_the_prefix(
    client: TestClient, world: World
) -> None:
    prefix = f"/p/{world.a.slug}"
    sign_in_on_domain(client, A_HOST, world.x.admin.email)
    page = client.get(f"{A_HOST}/ordering/orders?status=submitted")
    assert page.status_code == 200, page.text[:300]
    shown = re.search(r'<input type="hidden" name="next" value="([^"]+)">', page.text)
    assert shown and shown.group(1).replace("&amp;", "&") == "/ordering/orders?status=submitted", shown
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert token
    switched = client.post(
        f"{A_HOST}/lang",
        data={"language": "zh_CN", "next": shown.group(1).replace("&amp;", "&"), "_csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert switched.status_code in (302, 303) and switched.headers["location"] == "/ordering/orders?status=submitted"
    back = client.get(f"{A_HOST}{switched.headers['location']}")
    assert back.status_code == 200 and 'lang="zh-CN"' in back.text
    # on the platform's own address the portal keeps its prefix
    platform = client.get(f"{prefix}/login")
    shown = re.search(r'<input type="hidden" name="next" value="([^"]+)">', platform.text)
    assert shown and shown.group(1) == f"{prefix}/login", shown
