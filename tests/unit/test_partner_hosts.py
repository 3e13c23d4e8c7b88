"""How a request's host is read and how a partner domain's paths map into the portal and back
(portal.http.hosts); the requests themselves are tested in tests/integration/channels/test_partner_domains.py."""

from __future__ import annotations

import pytest
from litestar.datastructures import Headers

from portal.config import Settings
from portal.db.engine import Database
from portal.http.hosts import PartnerHosts, host_name, outward_location, portal_path, prefixed_links

BASE = "https://portal.platform.example"


def hosts(trusted: bool) -> PartnerHosts:
    settings = Settings(base_url=BASE, trust_forwarded_host=trusted)
    return PartnerHosts(Database.__new__(Database), settings)  # no lookup here: no database needed


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("Portal.Acme.Example", "portal.acme.example"),
        ("portal.acme.example:8443", "portal.acme.example"),
        ("portal.acme.example.", "portal.acme.example"),
        ("[::1]:8000", None),
        ("portal acme.example", None),
        ("portal.acme.example/x", None),
        ("", None),
        ("a" * 300 + ".example", None),
    ],
)
def test_a_host_header_is_read_as_a_name_or_not_at_all(header: str, name: str | None) -> None:
    assert host_name(header) == name


def test_a_forwarded_host_counts_only_behind_a_trusted_proxy() -> None:
    headers = Headers({"host": "portal.platform.example", "x-forwarded-host": "spoofed.example, partners.acme.example"})
    assert hosts(False).requested_host(headers) == "portal.platform.example"
    # the proxy appends what it received: the last value is its own
    assert hosts(True).requested_host(headers) == "partners.acme.example"
    assert hosts(True).requested_host(Headers({"host": "portal.acme.example"})) == "portal.acme.example"


def test_paths_map_into_the_portal_and_back() -> None:
    assert portal_path("/", "acme") == "/p/acme/"
    assert portal_path("/ordering/orders", "acme") == "/p/acme/ordering/orders"
    assert portal_path("/p/acme/ordering", "acme") == "/p/acme/ordering"
    assert portal_path("/p/other/", "acme") == "/p/acme/p/other/"  # another portal is not on this host
    for shared in ("/api/partner/me", "/static/css/portal.css", "/health", "/lang", "/join/x", "/setup/y"):
        assert portal_path(shared, "acme") == shared
    assert outward_location("/p/acme/login?next=%2Fp%2Facme%2F", "acme", BASE) == "/login?next=%2Fp%2Facme%2F"
    assert outward_location("/p/acme", "acme", BASE) == "/"
    assert outward_location("/p/acme?welcome=1", "acme", BASE) == "/?welcome=1"
    assert outward_location("/p/acmeother/", "acme", BASE) == f"{BASE}/p/acmeother/"
    assert outward_location("https://app.example/cb?code=1", "acme", BASE) == "https://app.example/cb?code=1"
    page = b'<a href="/p/acme/orders">o</a><a href="/p/acme">h</a><form action="/p/acme?x=1"><a href="/p/acmes/">'
    assert prefixed_links("acme").sub(rb"\1/", page) == (
        b'<a href="/orders">o</a><a href="/">h</a><form action="/?x=1"><a href="/p/acmes/">'
    )
