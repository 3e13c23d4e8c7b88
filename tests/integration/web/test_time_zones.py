"""A tenant's time zone: chosen at sign-up, changed in the console's settings, and every time on the
console's and the partner portal's pages shown in it with the zone named; days are the tenant's days."""

from __future__ import annotations

import html
import io
import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from litestar.testing import TestClient
from openpyxl import load_workbook

from tests.integration.web.test_pages import REDIRECTS, act_as, assert_readable_page, signup_form, submit
from tests.world import PASSWORD, World


def signup_body(**extra: object) -> dict[str, object]:
    slug = f"tz-{uuid.uuid4().hex[:10]}"
    return {
        "company_name": f"Zone Works {slug}",
        "slug": slug,
        "admin_name": "Zoe Zone",
        "email": f"zoe@{slug}.example",
        "password": PASSWORD,
        **extra,
    }


def set_zone(client: TestClient, world: World, name: str) -> None:
    response = client.patch("/api/workspace", headers=world.a.admin.bearer, json={"time_zone": name})
    assert response.status_code == 200, response.text
    assert response.json()["time_zone"] == name


def shown(moment: str, zone: str, abbreviation: str) -> str:
    local = datetime.fromisoformat(moment.replace("Z", "+00:00")).astimezone(ZoneInfo(zone))
    return f"{local:%Y-%m-%d %H:%M} {abbreviation}"


def test_sign_up_takes_a_time_zone_and_refuses_an_unknown_one(client: TestClient) -> None:
    refused = client.post("/api/signup", json=signup_body(time_zone="Mars/Olympus_Mons"))
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["time_zone"]

    body = signup_body(time_zone="Europe/Berlin")
    created = client.post("/api/signup", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["tenant"]["time_zone"] == "Europe/Berlin"
    # without one: the usual zone of the chosen language
    chinese = client.post("/api/signup", json=signup_body(locale="zh_CN"))
    assert chinese.json()["tenant"]["time_zone"] == "Asia/Shanghai"
    english = client.post("/api/signup", json=signup_body())
    assert english.json()["tenant"]["time_zone"] == "UTC"


def test_sign_up_page_offers_the_zones_and_keeps_a_refused_one_out(client: TestClient) -> None:
    form_page = client.get("/signup", headers={"Accept-Language": "zh-CN"})
    assert '<option value="Asia/Shanghai" selected>' in form_page.text
    assert '<option value="Europe/Berlin" >' in form_page.text or '<option value="Europe/Berlin">' in form_page.text

    slug = f"t-{uuid.uuid4().hex[:10]}"
    refused = submit(client, "/signup", signup_form(slug, time_zone="Nowhere/Special"))
    assert_readable_page(refused, 422, "is not a known time zone")
    assert client.post("/api/auth/token", json={"workspace": slug, "email": f"sam@{slug}.example",
                                                 "password": PASSWORD}).status_code == 401  # fmt: skip
    made = submit(client, "/signup", signup_form(slug, time_zone="Asia/Tokyo"), form_page="/signup")
    assert made.status_code in REDIRECTS, made.text
    assert 'value="Asia/Tokyo" selected' in client.get("/console/settings").text


def test_console_settings_change_the_zone_every_page_shows(client: TestClient, world: World) -> None:
    link = client.get(f"/api/interconnect/enterprises/{world.x.link_id}", headers=world.a.admin.bearer).json()[
        "enterprise"
    ]
    act_as(client, world.a.admin.cookie)
    before = html.unescape(client.get(f"/console/partners/enterprises/{world.x.link_id}").text)
    assert shown(link["created_at"], "UTC", "UTC") in before

    refused = submit(client, "/console/settings", {"time_zone": "Asia/Atlantis"})
    assert_readable_page(refused, 422, "is not a known time zone")
    assert 'value="UTC" selected' in client.get("/console/settings").text  # nothing changed

    saved = submit(client, "/console/settings", {"time_zone": "Asia/Shanghai"})
    assert saved.status_code in REDIRECTS, saved.text
    after = html.unescape(client.get(f"/console/partners/enterprises/{world.x.link_id}").text)
    assert shown(link["created_at"], "Asia/Shanghai", "CST") in after
    assert " UTC" not in after
    home = client.get("/console").text
    assert 'title="Asia/Shanghai"' in home and " CST</time>" in home and " UTC<" not in home

    # the partner portal of the tenant shows its times in the same zone, named
    order = client.get(
        f"/api/partner/ordering/orders/{world.ids['ordering_order']}", headers=world.x.admin.bearer
    ).json()
    act_as(client, world.x.admin.cookie)
    order_page = html.unescape(client.get(f"/p/{world.a.slug}/ordering/orders/{order['id']}").text)
    assert shown(order["created_at"], "Asia/Shanghai", "CST") in order_page

    # only an administrator changes it
    act_as(client, world.a.others["staff"].cookie)
    assert submit(client, "/console/settings", {"time_zone": "UTC"}).status_code == 403
    staff = client.patch("/api/workspace", headers=world.a.others["staff"].bearer, json={"time_zone": "UTC"})
    assert staff.status_code == 403
    bad = client.patch("/api/workspace", headers=world.a.admin.bearer, json={"time_zone": "Etc/Nowhere"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "time_zone"


def test_days_are_the_tenants_days(client: TestClient, world: World) -> None:
    """An order date and a statement's period are days where the tenant is, not UTC days."""
    now = datetime.now(UTC)
    # a zone whose date differs from UTC's date now: 11 hours behind early in the UTC day, 14 ahead later
    zone = "Pacific/Pago_Pago" if now.hour < 10 else "Pacific/Kiritimati"
    set_zone(client, world, zone)
    order = client.get(
        f"/api/partner/ordering/orders/{world.ids['ordering_order']}", headers=world.x.admin.bearer
    ).json()
    placed = datetime.fromisoformat(order["created_at"].replace("Z", "+00:00"))
    local_day = placed.astimezone(ZoneInfo(zone)).date().isoformat()
    assert local_day != placed.date().isoformat()

    act_as(client, world.x.admin.cookie)
    listing = client.get(f"/p/{world.a.slug}/ordering/orders").text
    assert f">{local_day}</td>" in listing

    statement = client.get(
        "/api/partner/ordering/account/statement",
        params={"start": local_day, "end": local_day},
        headers=world.x.admin.bearer,
    )
    assert statement.status_code == 200, statement.text
    assert statement.json()["lines"], "the world's order and payment were booked on the tenant's day"
    utc_day = client.get(
        "/api/partner/ordering/account/statement",
        params={"start": placed.date().isoformat(), "end": placed.date().isoformat()},
        headers=world.x.admin.bearer,
    )
    assert utc_day.json()["lines"] == []
    # by default a statement is the tenant's month so far, and a payment is reported for the tenant's today
    default = client.get("/api/partner/ordering/account/statement", headers=world.x.admin.bearer).json()
    assert default["end"] == local_day and default["start"] == local_day[:8] + "01"
    account_page = client.get(f"/p/{world.a.slug}/ordering/account").text
    assert f'name="received_on" value="{local_day}"' in account_page


def test_exports_write_times_in_the_tenants_zone_named(client: TestClient, world: World) -> None:
    saved = client.patch("/api/workspace", headers=world.a.admin.bearer, json={"time_zone": "Asia/Shanghai"})
    assert saved.status_code == 200, saved.text
    link = client.get(f"/api/interconnect/enterprises/{world.x.link_id}", headers=world.a.admin.bearer).json()
    order = client.get(f"/api/partner/ordering/orders/{world.ids['ordering_order']}", headers=world.x.admin.bearer)
    # a token carries its tenant's zone from the session lookup: new sign-ins are not needed
    for path, who, created in (
        ("/api/interconnect/enterprises/export", world.a.admin, link["enterprise"]["created_at"]),
        ("/api/partner/ordering/orders/export.xlsx", world.x.admin, order.json()["created_at"]),
    ):
        response = client.get(path, headers=who.bearer)
        assert response.status_code == 200, response.text
        sheet = load_workbook(io.BytesIO(response.content)).active
        cells = {str(c) for row in sheet.iter_rows(values_only=True) for c in row if c}
        assert shown(created, "Asia/Shanghai", "CST") in cells, (path, sorted(cells)[:20])
