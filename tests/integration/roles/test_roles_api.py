"""Roles through the API: presets, editing, assignment (by the upstream and by enterprise admins within
their template), changes visible on the very next request in every app instance, explanations and the
read-only preview."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import TestClient

from portal.config import Settings
from portal.http.app import create_app
from tests.conftest import BASE_URL
from tests.integration.web.test_pages import act_as, submit
from tests.world import World, add_colleague, add_user, api_login, unique, web_login


def roles_of(client: TestClient, world: World, user_id: str) -> list[str]:
    found = client.get(f"/api/users/{user_id}", headers=world.a.admin.bearer)
    assert found.status_code == 200, found.text
    return found.json()["roles"]


def test_every_tenant_starts_with_the_preset_roles_and_sees_only_its_own(client: TestClient, world: World) -> None:
    roles = client.get("/api/roles", headers=world.a.admin.bearer).json()
    keys = {r["key"] for r in roles}
    assert {"admin", "staff", "channel_manager", "order_desk", "dispatcher"} <= keys
    assert {"enterprise_admin", "member", "dealer_admin", "dealer_buyer", "service_engineer"} <= keys
    admin = next(r for r in roles if r["key"] == "admin")
    assert admin["grants"] == [["*", "*"]] and admin["holders"] == 1 and admin["preset"] is True
    client.post(
        "/api/roles", headers=world.a.admin.bearer, json={"key": "a_only", "name": "A only", "kind": "internal"}
    )
    b_keys = {r["key"] for r in client.get("/api/roles", headers=world.b.admin.bearer).json()}
    assert "a_only" not in b_keys and "harbour_sales" not in b_keys
    assert b_keys == keys - {"harbour_sales"}


def test_a_new_role_and_its_assignment_apply_on_the_very_next_request(client: TestClient, world: World) -> None:
    staff = world.a.others["staff"]
    assert client.get("/api/interconnect/partner-types", headers=staff.bearer).status_code == 200
    created = client.post(
        "/api/roles",
        headers=world.a.admin.bearer,
        json={
            "key": "programme_editor",
            "name": "Programme editor",
            "kind": "internal",
            "grants": [["interconnect.programme", "read"], ["interconnect.programme", "update"]],
        },
    )
    assert created.status_code == 201, created.text
    assert roles_of(client, world, staff.user_id) == ["staff"]
    refused = client.post("/api/interconnect/regions", headers=staff.bearer, json={"code": "east", "name": "East"})
    assert refused.status_code == 403
    changed = client.patch(
        f"/api/users/{staff.user_id}", headers=world.a.admin.bearer, json={"roles": ["programme_editor"]}
    )
    assert changed.status_code == 200 and changed.json()["roles"] == ["programme_editor"]
    allowed = client.post("/api/interconnect/regions", headers=staff.bearer, json={"code": "east", "name": "East"})
    assert allowed.status_code == 201, allowed.text
    # the role no longer grants reading enterprises (staff's "*: read" is gone)
    assert client.get("/api/interconnect/enterprises", headers=staff.bearer).status_code == 403
    client.patch("/api/roles/programme_editor", headers=world.a.admin.bearer, json={"grants": []})
    assert client.get("/api/interconnect/partner-types", headers=staff.bearer).status_code == 403


def test_a_policy_change_reaches_another_app_instance_on_its_next_request(
    client: TestClient, world: World, settings: Settings
) -> None:
    second: Litestar = create_app(settings)
    staff = world.a.others["staff"]
    with TestClient(second, base_url=BASE_URL) as other:
        assert other.get("/api/interconnect/partner-types", headers=staff.bearer).status_code == 200  # compiled there
        changed = client.patch("/api/roles/staff", headers=world.a.admin.bearer, json={"grants": [["console", "read"]]})
        assert changed.status_code == 200, changed.text
        assert other.get("/api/interconnect/partner-types", headers=staff.bearer).status_code == 403
        client.patch(
            "/api/roles/staff", headers=world.a.admin.bearer, json={"grants": [["*", "read"], ["*", "export"]]}
        )
        assert other.get("/api/interconnect/partner-types", headers=staff.bearer).status_code == 200


def test_role_definitions_are_validated_field_by_field(client: TestClient, world: World) -> None:
    admin = world.a.admin.bearer

    def refused(body: dict[str, object], field: str, method: str = "post", path: str = "/api/roles") -> None:
        response = client.request(method.upper(), path, headers=admin, json=body)
        assert response.status_code == 422, response.text
        assert field in {e["field"] for e in response.json()["errors"]}, response.text

    refused({"key": "x y", "name": "X", "kind": "internal"}, "key")
    refused({"key": "bad_grant", "name": "X", "kind": "internal", "grants": [["no.such", "read"]]}, "grants")
    refused({"key": "bad_action", "name": "X", "kind": "internal", "grants": [["console", "fly"]]}, "grants")
    refused(
        {"key": "leaky", "name": "X", "kind": "external", "grants": [["interconnect.enterprises", "read"]]}, "grants"
    )
    refused({"key": "wide", "name": "X", "kind": "external", "grants": [["*", "read"]]}, "grants")
    refused({"key": "apps", "name": "X", "kind": "external", "apps": ["casino"]}, "apps")
    client.post("/api/roles", headers=admin, json={"key": "ring_a", "name": "A", "kind": "internal"})
    client.post(
        "/api/roles", headers=admin, json={"key": "ring_b", "name": "B", "kind": "internal", "includes": ["ring_a"]}
    )
    refused({"includes": ["ring_b"]}, "includes", "patch", "/api/roles/ring_a")
    assert client.delete("/api/roles/admin", headers=admin).json()["code"] == "preset_role"
    assert client.patch("/api/roles/admin", headers=admin, json={"grants": [["console", "read"]]}).status_code == 409
    client.patch(f"/api/users/{world.a.others['staff'].user_id}", headers=admin, json={"roles": ["staff", "ring_b"]})
    assert client.delete("/api/roles/ring_b", headers=admin).json()["code"] == "role_in_use"
    assert client.delete("/api/roles/ring_a", headers=admin).status_code == 204  # included by ring_b: the link goes too
    assert client.get("/api/roles/ring_b", headers=admin).json()["includes"] == []
    assert (
        client.patch(f"/api/users/{world.a.admin.user_id}", headers=admin, json={"roles": ["staff"]}).status_code == 409
    )


def test_included_roles_grant_what_they_include(client: TestClient, world: World) -> None:
    admin, staff = world.a.admin.bearer, world.a.others["staff"]
    client.post(
        "/api/roles",
        headers=admin,
        json={
            "key": "regions",
            "name": "Regions",
            "kind": "internal",
            "grants": [["interconnect.programme", "update"]],
        },
    )
    client.post(
        "/api/roles", headers=admin, json={"key": "lead", "name": "Lead", "kind": "internal", "includes": ["regions"]}
    )
    client.patch(f"/api/users/{staff.user_id}", headers=admin, json={"roles": ["lead"]})
    response = client.post("/api/interconnect/regions", headers=staff.bearer, json={"code": "north", "name": "North"})
    assert response.status_code == 201, response.text


def test_new_partner_people_get_their_templates_defaults(client: TestClient, world: World) -> None:
    colleague = add_colleague(client, world.a.slug, world.x, "newcomer").user_id
    admin_roles = client.get(f"/api/interconnect/users/{world.x.admin.user_id}/roles", headers=world.a.admin.bearer)
    assert admin_roles.json()["roles"] == ["dealer_admin", "enterprise_admin", "member"]
    held = client.get(f"/api/interconnect/users/{colleague}/roles", headers=world.a.admin.bearer).json()["roles"]
    assert held == ["dealer_buyer", "member"]


def test_enterprise_admins_hand_out_only_the_roles_their_template_allows(client: TestClient, world: World) -> None:
    x_admin, colleague = world.x.admin, world.x.people["colleague"].user_id
    offered = {r["key"] for r in client.get("/api/partner/roles", headers=x_admin.bearer).json()}
    assert offered == {"enterprise_admin", "member", "dealer_admin", "dealer_buyer"}
    path = f"/api/partner/colleagues/{colleague}/roles"
    given = client.put(path, headers=x_admin.bearer, json={"roles": ["member", "dealer_admin"]})
    assert given.status_code == 200 and given.json()["roles"] == ["dealer_admin", "member"]
    refused = client.put(path, headers=x_admin.bearer, json={"roles": ["service_engineer"]})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "roles"
    # a role the upstream gave outside the template stays when the enterprise admin edits the others
    client.put(
        f"/api/interconnect/users/{colleague}/roles", headers=world.a.admin.bearer, json={"roles": ["service_engineer"]}
    )
    kept = client.put(path, headers=x_admin.bearer, json={"roles": ["member"]})
    assert kept.json()["roles"] == ["member", "service_engineer"]
    # another enterprise's admin finds no such colleague
    assert client.put(path, headers=world.y.admin.bearer, json={"roles": ["member"]}).status_code == 404


def test_a_partner_losing_a_role_is_refused_on_the_next_request(client: TestClient, world: World) -> None:
    x_admin = world.x.admin
    assert client.get("/api/partner/colleagues", headers=x_admin.bearer).status_code == 200
    client.put(
        f"/api/interconnect/users/{x_admin.user_id}/roles", headers=world.a.admin.bearer, json={"roles": ["member"]}
    )
    assert client.get("/api/partner/colleagues", headers=x_admin.bearer).status_code == 403
    assert client.get("/api/partner/me", headers=x_admin.bearer).status_code == 200


def test_the_catalogue_lists_objects_by_audience_and_the_partner_apps(client: TestClient, world: World) -> None:
    catalogue = client.get("/api/access/objects", headers=world.a.admin.bearer).json()
    assert "ordering" in catalogue["apps"]
    assert {"name": "partner.colleagues", "audience": "external"}.items() <= next(
        o for o in catalogue["objects"] if o["name"] == "partner.colleagues"
    ).items()


def test_explain_names_the_roles_that_grant_each_action(client: TestClient, world: World) -> None:
    found = client.get(
        "/api/access/explain",
        headers=world.a.admin.bearer,
        params={"user_id": world.x.admin.user_id, "object": "partner.colleagues"},
    )
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["kind"] == "external" and body["actions"]["update"] == ["enterprise_admin"]
    colleague = client.get(
        "/api/access/explain",
        headers=world.a.admin.bearer,
        params={"user_id": world.x.people["colleague"].user_id, "object": "partner.colleagues"},
    ).json()
    assert colleague["actions"] == {"read": [], "create": [], "update": []}
    staff = client.get(
        "/api/access/explain",
        headers=world.a.admin.bearer,
        params={"user_id": world.a.others["staff"].user_id, "object": "interconnect.enterprises"},
    ).json()
    assert staff["actions"]["read"] == ["staff"] and staff["actions"]["update"] == []
    wrong = client.get(
        "/api/access/explain",
        headers=world.a.admin.bearer,
        params={"user_id": world.a.others["staff"].user_id, "object": "partner.colleagues"},
    )
    assert wrong.status_code == 422
    other_tenant = client.get(
        "/api/access/explain",
        headers=world.b.admin.bearer,
        params={"user_id": world.x.admin.user_id, "object": "partner.colleagues"},
    )
    assert other_tenant.status_code == 404


def test_an_admin_previews_the_portal_as_a_partner_user_read_only(client: TestClient, world: World) -> None:
    act_as(client, world.a.admin.cookie)
    started = submit(client, "/console/roles/preview", {"membership_id": world.x.admin.user_id}, form_page="/console")
    assert started.status_code in (302, 303), started.text
    assert started.headers["location"] == f"/p/{world.a.slug}/"
    home = client.get(f"/p/{world.a.slug}/")
    assert home.status_code == 200 and "preview-banner" in home.text
    assert client.get(f"/p/{world.a.slug}/colleagues").status_code == 200
    refused = submit(
        client,
        f"/p/{world.a.slug}/colleagues",
        {"display_name": "Sneaky", "email": "sneaky@x.example"},
        form_page=f"/p/{world.a.slug}/colleagues",
    )
    assert refused.status_code == 403
    assert client.get("/console").status_code == 200  # the admin's own session is untouched
    ended = submit(client, f"/p/{world.a.slug}/preview/end", {}, form_page=f"/p/{world.a.slug}/")
    assert ended.status_code in (302, 303)
    assert "preview-banner" not in client.get("/console").text


def test_previewing_one_role_shows_only_what_that_role_opens(client: TestClient, world: World) -> None:
    act_as(client, world.a.admin.cookie)
    submit(
        client,
        "/console/roles/preview",
        {"membership_id": world.x.admin.user_id, "role": "member"},
        form_page="/console",
    )
    assert client.get(f"/p/{world.a.slug}/colleagues").status_code == 403
    token, _refresh = api_login(client, world.a.slug, world.a.others["staff"].email)
    assert client.post("/console/roles/preview", headers={"Authorization": f"Bearer {token}"}).status_code in (401, 403)


def staff_with_role(client: TestClient, world: World, role: str) -> tuple[dict[str, str], str]:
    """A new staff member of A holding only `role`: their API headers and their console cookie."""
    email = f"{unique(role)}@{world.a.slug}.example"
    add_user(client, world.a.admin, email, role=role)
    token, _refresh = api_login(client, world.a.slug, email)
    return {"Authorization": f"Bearer {token}"}, web_login(client, world.a.slug, email)


def preview_as_x_admin(client: TestClient, world: World, cookie: str) -> None:
    act_as(client, cookie)
    started = submit(client, "/console/roles/preview", {"membership_id": world.x.admin.user_id}, form_page="/console")
    assert started.status_code in (302, 303), started.text


def test_a_preview_shows_no_more_than_the_previewer_may_read(client: TestClient, world: World) -> None:
    slug = world.a.slug
    # a channel manager that may open previews but not read deals or payments (the credit line it may): the
    # preset without its deal and registration grants
    preset = client.get("/api/roles/channel_manager", headers=world.a.admin.bearer).json()
    previewer = {
        "key": "previewer",
        "name": "Previewer",
        "kind": "internal",
        "grants": [g for g in preset["grants"] if g[0] not in ("agent.deal", "agent.registration")],
    }
    assert client.post("/api/roles", headers=world.a.admin.bearer, json=previewer).status_code == 201
    bearer, cookie = staff_with_role(client, world, "previewer")
    assert client.get("/api/agent/deals", headers=bearer).status_code == 403
    assert client.get("/api/ordering/payments", headers=bearer).status_code == 403
    preview_as_x_admin(client, world, cookie)
    assert client.get(f"/p/{slug}/").status_code == 200
    assert client.get(f"/p/{slug}/deals").status_code == 403
    assert client.get(f"/p/{slug}/deals/export.xlsx").status_code == 403
    account = client.get(f"/p/{slug}/ordering/account")  # the credit line, balances and payments
    assert account.status_code == 403 and "Harbour" not in account.text
    assert client.get(f"/p/{slug}/ordering/orders").status_code == 200  # orders it may read

    # the tenant's admin previewing as X's admin sees X's deals with their commission rate, and the account...
    preview_as_x_admin(client, world, world.a.admin.cookie)
    deals = client.get(f"/p/{slug}/deals")
    assert deals.status_code == 200 and "Harbour Hotel" in deals.text and "Commission rate" in deals.text
    assert client.get(f"/p/{slug}/ordering/account").status_code == 200
    # ...but not a staff member whose own role hides it
    reader = {
        "key": "deal_reader",
        "name": "Deal reader",
        "kind": "internal",
        "grants": [["agent.deal", "read"], ["roles", "read"], ["console", "read"]],
        "fields": {"agent.deal": {"commission_rate": "hidden"}},
        "scopes": {"agent.deal": "all"},
    }
    assert client.post("/api/roles", headers=world.a.admin.bearer, json=reader).status_code == 201
    bearer, cookie = staff_with_role(client, world, "deal_reader")
    own = client.get(f"/api/agent/deals/{world.ids['deal']}", headers=bearer).json()
    assert "commission_rate" not in own and own["customer_name"] == "Harbour Hotel"
    preview_as_x_admin(client, world, cookie)
    deals = client.get(f"/p/{slug}/deals")
    assert deals.status_code == 200 and "Harbour Hotel" in deals.text and "Commission rate" not in deals.text


def test_explain_gives_every_reason_a_record_is_visible_and_the_page_shows_them(
    client: TestClient, world: World
) -> None:
    params = {"user_id": world.x.admin.user_id, "object": "partner.agent.deal", "record_id": world.ids["deal"]}
    found = client.get("/api/access/explain", headers=world.a.admin.bearer, params=params).json()
    assert [r["kind"] for r in found["read"]] == ["enterprise"] and found["read"][0]["detail"]["level"] == (
        "enterprise_write"
    )
    assert [r["kind"] for r in found["write"]] == ["enterprise"]
    other = client.get(
        "/api/access/explain", headers=world.a.admin.bearer, params={**params, "user_id": world.y.admin.user_id}
    ).json()
    assert other["read"] == [] and other["write"] == [] and other["actions"]["read"] == ["dealer_admin"]
    act_as(client, world.a.admin.cookie)
    page = client.get("/console/roles/explain", params=params)
    assert page.status_code == 200 and "It belongs to their enterprise" in page.text
    refused = client.get("/console/roles/explain", params={**params, "record_id": "not-an-id"})
    assert refused.status_code == 200 and 'role="alert"' in refused.text
