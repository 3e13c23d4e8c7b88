"""Cross-tenant sync within one deployment, through the API and the "sync" subscriber (driven by the
workers' own engine): a rule for a partner that runs its own workspace brings the upstream's products
over once (backfill, changes, withdrawal), a replayed event changes nothing, a change made on both sides
is held for a person and resolved, and a workspace without a link gets nothing."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from tests.integration.ordering.support import price_list
from tests.integration.web.test_pages import REDIRECTS, act_as, assert_readable_page, submit
from tests.world import TenantWorld, World, background_jobs_ended, connect_workspace, unique


def product(client: TestClient, tenant: TenantWorld, sku: str) -> dict[str, Any] | None:
    found = client.get("/api/ordering/products", headers=tenant.admin.bearer, params={"q": sku}).json()["items"]
    matching = [p for p in found if p["sku"] == sku]
    assert len(matching) <= 1, matching
    return matching[0] if matching else None


def new_product(client: TestClient, tenant: TenantWorld, **values: Any) -> dict[str, Any]:
    sku = unique("P")
    response = client.post(
        "/api/ordering/products",
        headers=tenant.admin.bearer,
        json={"sku": sku, "name": f"Pump {sku}", "unit": "pcs", "pack_size": 2, **values},
    )
    assert response.status_code == 201, response.text
    return response.json()


def active_rule(client: TestClient, world: World, link_id: str, **body: Any) -> dict[str, Any]:
    created = client.post(
        "/api/sync/rules",
        headers=world.a.admin.bearer,
        json={"link_id": link_id, "object": "ordering.product", "name": "Catalog", **body},
    )
    assert created.status_code == 201, created.text
    rule = created.json()
    activated = client.post(f"/api/sync/rules/{rule['id']}/activate", headers=world.a.admin.bearer)
    assert activated.status_code == 202, activated.text
    assert background_jobs_ended(client)
    return rule


def test_products_reach_the_partners_workspace_once(client: TestClient, world: World) -> None:
    a = world.a
    before = new_product(client, a, description="Made before the rule")
    north, link_id = connect_workspace(client, a, "north")
    mapping = [
        {"target": "sku", "kind": "rename", "source": "sku"},
        {"target": "name", "kind": "rename", "source": "name"},
        {"target": "unit", "kind": "lookup", "source": "unit", "table": {"pcs": "ea"}},
        {"target": "pack_size", "kind": "rename", "source": "pack_size"},
        {"target": "description", "kind": "constant", "value": "From Alpha"},
    ]
    preview = client.post(
        "/api/sync/preview",
        headers=a.admin.bearer,
        json={"link_id": link_id, "object": "ordering.product", "mapping": mapping, "sample_id": before["id"]},
    )
    assert preview.status_code == 200, preview.text
    assert preview.json()["target"] == {
        "sku": before["sku"],
        "name": before["name"],
        "unit": "ea",
        "pack_size": 2,
        "description": "From Alpha",
    }
    assert preview.json()["passes"] is True
    rule = active_rule(client, world, link_id, mapping=mapping)
    detail = client.get(f"/api/sync/rules/{rule['id']}", headers=a.admin.bearer).json()
    assert detail["backfills"][0]["status"] == "done" and detail["backfills"][0]["percent"] == 100
    assert detail["mapped"] >= 1
    copied = product(client, north, before["sku"])
    assert copied is not None and copied["unit"] == "ea" and copied["description"] == "From Alpha"

    made = new_product(client, a)
    assert background_jobs_ended(client)
    assert product(client, north, made["sku"]) is not None
    changed = client.patch(f"/api/ordering/products/{made['id']}", headers=a.admin.bearer, json={"name": "Renamed"})
    assert changed.status_code == 200, changed.text
    assert background_jobs_ended(client)
    assert product(client, north, made["sku"])["name"] == "Renamed"

    # a replayed delivery of the same event changes nothing
    deliveries = client.get(
        "/api/deliveries", headers=a.admin.bearer, params={"subscriber": "sync", "aggregate_id": made["id"]}
    ).json()["items"]
    assert deliveries and all(d["status"] == "delivered" for d in deliveries)
    copy_id = product(client, north, made["sku"])["id"]
    audit_before = client.get("/api/audit", headers=north.admin.bearer, params={"object_id": copy_id}).json()
    assert {e["action"] for e in audit_before} >= {"sync.applied", "create", "update"}
    for delivery in deliveries:
        replayed = client.post(f"/api/deliveries/{delivery['id']}/replay", headers=a.admin.bearer)
        assert replayed.status_code == 200, replayed.text
    assert background_jobs_ended(client)
    assert client.get("/api/audit", headers=north.admin.bearer, params={"object_id": copy_id}).json() == audit_before
    assert product(client, north, made["sku"])["name"] == "Renamed"

    # withdrawn upstream: out of the partner's catalog (its orders keep the product)
    unlisted = client.patch(f"/api/ordering/products/{made['id']}", headers=a.admin.bearer, json={"listed": False})
    assert unlisted.status_code == 200, unlisted.text
    assert background_jobs_ended(client)
    assert product(client, north, made["sku"])["listed"] is False

    # the partner sees the rule feeding it; nobody else sees anything
    incoming = client.get("/api/sync/incoming", headers=north.admin.bearer).json()
    assert [r["id"] for r in incoming] == [rule["id"]] and incoming[0]["upstream"] == a.name
    assert client.get("/api/sync/incoming", headers=world.b.admin.bearer).json() == []
    assert client.get("/api/sync/rules", headers=world.b.admin.bearer).json() == []
    assert client.get(f"/api/sync/rules/{rule['id']}", headers=world.b.admin.bearer).status_code == 404
    assert product(client, world.b, made["sku"]) is None
    assert product(client, world.b, before["sku"]) is None


def test_a_change_on_both_sides_is_held_and_resolved(client: TestClient, world: World) -> None:
    a = world.a
    made = new_product(client, a, description="Upstream text")
    north, link_id = connect_workspace(client, a, "north")
    rule = active_rule(client, world, link_id, policies={"name": "hold", "description": "downstream"})
    mine = product(client, north, made["sku"])
    assert mine is not None
    edited = client.patch(
        f"/api/ordering/products/{mine['id']}",
        headers=north.admin.bearer,
        json={"name": "North's name", "description": "North's text"},
    )
    assert edited.status_code == 200, edited.text
    upstream = client.patch(
        f"/api/ordering/products/{made['id']}",
        headers=a.admin.bearer,
        json={"name": "Alpha's name", "description": "Alpha's text", "pack_size": 5},
    )
    assert upstream.status_code == 200, upstream.text
    assert background_jobs_ended(client)
    after = product(client, north, made["sku"])
    assert after["name"] == "North's name" and after["description"] == "North's text" and after["pack_size"] == 5
    held = client.get("/api/sync/conflicts", headers=a.admin.bearer).json()["items"]
    mine_held = [c for c in held if c["rule_id"] == rule["id"]]
    assert [(c["field"], c["upstream_value"], c["downstream_value"]) for c in mine_held] == [
        ("name", "Alpha's name", "North's name")
    ]
    assert client.get("/api/sync/conflicts", headers=world.b.admin.bearer).json()["total"] == 0
    other = client.post(
        f"/api/sync/conflicts/{mine_held[0]['id']}/resolve",
        headers=world.b.admin.bearer,
        json={"resolution": "upstream"},
    )
    assert other.status_code == 404
    resolved = client.post(
        f"/api/sync/conflicts/{mine_held[0]['id']}/resolve", headers=a.admin.bearer, json={"resolution": "upstream"}
    )
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "resolved"
    assert product(client, north, made["sku"])["name"] == "Alpha's name"
    again = client.post(
        f"/api/sync/conflicts/{mine_held[0]['id']}/resolve", headers=a.admin.bearer, json={"resolution": "upstream"}
    )
    assert again.status_code == 409


def test_rules_are_checked(client: TestClient, world: World) -> None:
    a = world.a
    _north, link_id = connect_workspace(client, a, "north")
    bad = client.post(
        "/api/sync/rules",
        headers=a.admin.bearer,
        json={
            "link_id": link_id,
            "object": "ordering.product",
            "name": "Bad",
            "mapping": [{"target": "name", "kind": "unit", "source": "nothing", "factor": "-1"}],
        },
    )
    assert bad.status_code == 422, bad.text
    fields = {e["field"] for e in bad.json()["errors"]}
    assert {"mapping[0].source", "mapping[0].factor", "mapping"} <= fields
    not_connected = client.post(
        "/api/sync/rules",
        headers=a.admin.bearer,
        json={"link_id": world.x.link_id, "object": "ordering.product", "name": "X"},
    )
    assert not_connected.status_code == 422
    assert not_connected.json()["errors"][0]["code"] == "not_connected"


def test_console_pages(client: TestClient, world: World) -> None:
    """The upstream's rule pages (new rule, mapping editor with preview, activation and progress), the
    held conflicts, and the partner's page of the rules feeding it; nothing of it for another tenant."""
    a = world.a
    made = new_product(client, a, unit="box")
    north, link_id = connect_workspace(client, a, "north")
    act_as(client, a.admin.cookie)
    listing = client.get("/console/sync")
    assert_readable_page(listing, 200, "Sync rules")
    assert north.name in listing.text
    created = submit(client, "/console/sync", {"link_id": link_id, "object": "ordering.product", "name": "To North"})
    assert created.status_code in REDIRECTS, created.text
    rule_path = created.headers["location"].split("?")[0]
    page = client.get(created.headers["location"])
    assert_readable_page(page, 200, "To North")
    form = {
        "name": "To North",
        "kind.sku": "rename",
        "source.sku": "sku",
        "kind.name": "rename",
        "source.name": "name",
        "kind.unit": "lookup",
        "source.unit": "unit",
        "value.unit": "box=ctn, pcs=ea",
        "kind.pack_size": "unit",
        "source.pack_size": "pack_size",
        "value.pack_size": "3",
        "policy.name": "hold",
        "filter_field.0": "sku",
        "filter_op.0": "eq",
        "filter_value.0": made["sku"],
    }
    preview = submit(client, rule_path, {**form, "action": "preview"})
    assert_readable_page(preview, 200, "Preview on a sample record")
    bad = submit(client, rule_path, {**form, "source.unit": "", "action": "save"})
    assert_readable_page(bad, 422, "Please correct the marked fields.")
    saved = submit(client, rule_path, {**form, "action": "save"})
    assert saved.status_code in REDIRECTS, saved.text
    activated = submit(client, f"{rule_path}/activate", {}, form_page=rule_path)
    assert activated.status_code in REDIRECTS, activated.text
    assert background_jobs_ended(client)
    progress = client.get(rule_path)
    assert_readable_page(progress, 200, "Backfills")
    dl = client.get("/api/deliveries", headers=a.admin.bearer, params={"subscriber": "sync"}).json()["items"]
    assert "Done" in progress.text, [d["last_error"] for d in dl if d["last_error"]]
    copied = product(client, north, made["sku"])
    assert copied is not None and copied["unit"] == "ctn" and copied["pack_size"] == 6
    held = client.get("/console/sync/conflicts")
    assert_readable_page(held, 200, "Harbour pump (North)")  # the world's held conflict
    conflict_id = world.ids["sync_conflict"]
    kept = submit(
        client,
        f"/console/sync/conflicts/{conflict_id}/resolve",
        {"resolution": "downstream"},
        form_page="/console/sync/conflicts",
    )
    assert kept.status_code in REDIRECTS, kept.text
    assert_readable_page(client.get("/console/sync/conflicts"), 200, "No conflicts.")
    assert_readable_page(client.get("/console/sync/conflicts?status=resolved"), 200, "kept")

    act_as(client, north.admin.cookie)
    incoming = client.get("/console/sync/incoming")
    assert_readable_page(incoming, 200, "To North")
    assert a.name in incoming.text

    act_as(client, world.b.admin.cookie)
    assert "To North" not in client.get("/console/sync").text
    assert "To North" not in client.get("/console/sync/incoming").text
    assert client.get(rule_path).status_code == 404


def test_the_enterprises_price_becomes_the_partners_cost(client: TestClient, world: World) -> None:
    """The price that applies to the linked enterprise (its own list before the base list) reaches the
    partner's cost price, and follows the lists as they change."""
    a = world.a
    made = new_product(client, a)
    north, link_id = connect_workspace(client, a, "north")
    base = price_list(client, a.admin, [{"product_id": made["id"], "unit_price": "100.00"}])
    active_rule(client, world, link_id)
    assert product(client, north, made["sku"])["cost_price"] == "100.0000"
    own = price_list(
        client, a.admin, [{"product_id": made["id"], "unit_price": "80.00"}], kind="enterprise", enterprise_id=link_id
    )
    assert background_jobs_ended(client)
    assert product(client, north, made["sku"])["cost_price"] == "80.0000"
    changed = client.put(
        f"/api/ordering/price-lists/{own}/items",
        headers=a.admin.bearer,
        json=[{"product_id": made["id"], "unit_price": "75.50"}],
    )
    assert changed.status_code == 200, changed.text
    assert background_jobs_ended(client)
    assert product(client, north, made["sku"])["cost_price"] == "75.5000"
    assert client.delete(f"/api/ordering/price-lists/{own}", headers=a.admin.bearer).status_code == 204
    assert background_jobs_ended(client)
    assert product(client, north, made["sku"])["cost_price"] == "100.0000"
    assert base


def test_a_rule_is_paused_before_it_is_deleted(client: TestClient, world: World) -> None:
    a = world.a
    made = new_product(client, a)
    north, link_id = connect_workspace(client, a, "north")
    rule = active_rule(client, world, link_id)
    path = f"/api/sync/rules/{rule['id']}"
    assert client.delete(path, headers=a.admin.bearer).status_code == 409
    assert client.post(f"{path}/activate", headers=a.admin.bearer).status_code == 409
    assert client.post(f"{path}/pause", headers=a.admin.bearer).json()["status"] == "paused"
    renamed = client.patch(f"/api/ordering/products/{made['id']}", headers=a.admin.bearer, json={"name": "Paused"})
    assert renamed.status_code == 200
    assert background_jobs_ended(client)
    assert product(client, north, made["sku"])["name"] == made["name"]  # a paused rule sends nothing
    assert client.delete(path, headers=a.admin.bearer).status_code == 204
    assert client.get(path, headers=a.admin.bearer).status_code == 404
    assert product(client, north, made["sku"]) is not None  # what it brought over stays
    staff = client.post(f"{path}/activate", headers=a.others["staff"].bearer)
    assert staff.status_code in (403, 404)


def test_a_partners_own_product_with_the_same_sku_is_never_taken_over(client: TestClient, world: World) -> None:
    a = world.a
    north, link_id = connect_workspace(client, a, "north")
    active_rule(client, world, link_id)
    sku = unique("OWN")
    own = new_product(client, north, sku=sku, name="North's own gasket")
    clashing = new_product(client, a, sku=sku, name="Taken over by Alpha")
    assert background_jobs_ended(client)
    kept = product(client, north, sku)
    assert kept is not None and kept["id"] == own["id"] and kept["name"] == "North's own gasket"
    unlisted = client.patch(f"/api/ordering/products/{clashing['id']}", headers=a.admin.bearer, json={"listed": False})
    assert unlisted.status_code == 200, unlisted.text
    assert background_jobs_ended(client)
    assert product(client, north, sku)["listed"] is True  # the upstream cannot withdraw what it never sent
    # the clash is on the record, on both sides
    for tenant in (a, north):
        entries = client.get("/api/audit", headers=tenant.admin.bearer, params={"limit": 200}).json()
        assert any(e["action"] == "sync.key_clash" for e in entries), tenant.slug


def test_changes_applied_together_name_one_product_twice_and_it_arrives_once(client: TestClient, world: World) -> None:
    """Two new products and a price list naming both, delivered together: each product is made once at
    the partner, with the list's price, and each event is recorded as applied."""
    a = world.a
    north, link_id = connect_workspace(client, a, "north")
    rule = active_rule(client, world, link_id)
    first, second = new_product(client, a), new_product(client, a)
    price_list(
        client,
        a.admin,
        [{"product_id": first["id"], "unit_price": "12.00"}, {"product_id": second["id"], "unit_price": "13.00"}],
    )
    assert background_jobs_ended(client)
    copies = [product(client, north, made["sku"]) for made in (first, second)]
    assert [c["cost_price"] for c in copies if c] == ["12.0000", "13.0000"]
    for copy in copies:
        audit = client.get("/api/audit", headers=north.admin.bearer, params={"object_id": copy["id"]}).json()
        assert [e["action"] for e in audit].count("create") == 1
    deliveries = client.get("/api/deliveries", headers=a.admin.bearer, params={"subscriber": "sync"}).json()["items"]
    assert deliveries and all(d["status"] == "delivered" for d in deliveries)
    assert client.get(f"/api/sync/rules/{rule['id']}", headers=a.admin.bearer).json()["mapped"] >= 2
