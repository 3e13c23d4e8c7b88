"""Deal registration (the agent app) through HTTP: function permissions and the app a role opens, every
data level, sub-enterprises, sharing rules, the external team of a deal, staff data scopes, field rules
(hidden and read-only) in JSON, the page and the export, and role changes on the very next request."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from httpx import Response
from litestar import Litestar
from litestar.testing import TestClient

from apps.agent.models import Deal
from apps.agent.objects import PARTNER_OBJECT, STAFF_OBJECT
from portal.config import Settings
from tests.integration.apps.support import Roles
from tests.integration.interconnect.support import accept, create_invitation, new_email, token_of
from tests.integration.web.test_pages import act_as, submit
from tests.spreadsheets import exported_values, shown, stored_text, write_directly
from tests.world import (
    Credential,
    Enterprise,
    World,
    add_enterprise,
    add_user,
    complete_setup,
    credential,
    partner_login,
    partner_type_id,
    partner_web_login,
    unique,
)

PARTNER = "/api/partner/deals"
STAFF = "/api/agent/deals"
ACTIONS = ("read", "create", "update", "delete", "export")
ROLE = "deal_agent"


# --- Helpers --------------------------------------------------------------------------------------


def grants(obj: str, actions: Iterable[str] = ACTIONS) -> list[tuple[str, str]]:
    return [(obj, action) for action in actions]


@pytest.fixture
def roles(app: Litestar, settings: Settings, client: TestClient, world: World) -> Roles:
    """Tenant A's role configuration; the deals the world made for other tests are taken away first,
    so a test sees exactly the deals it registers."""
    for deal_id in visible(client, world.a.admin, STAFF):
        assert client.delete(f"{STAFF}/{deal_id}", headers=world.a.admin.bearer).status_code == 204
    return Roles(app, settings, world.a)


def deal_partners(
    roles: Roles,
    world: World,
    level: str | None = "private",
    *,
    actions: Iterable[str] = ACTIONS,
    fields: dict[str, str] | None = None,
    subs: bool = False,
    people: Iterable[Credential] = (),
) -> None:
    """X's admin and colleague and Y's admin hold the deal role (the agent app open); dealers get `level`."""
    roles.define(ROLE, grants=grants(PARTNER_OBJECT, actions), apps=("agent",), fields={PARTNER_OBJECT: fields or {}})
    for person in (world.x.admin, world.x.people["colleague"], world.y.admin, *people):
        roles.assign(person.user_id, ROLE)
    dealers(roles, world, level, subs=subs)


def dealers(roles: Roles, world: World, level: str | None, *, subs: bool = False) -> None:
    """The data level of dealers (X and Y); None: no rule at all, which is no access."""
    roles.data_rule(PARTNER_OBJECT, level, partner_type_id=world.ids["partner_type"], include_sub_enterprises=subs)


def create(client: TestClient, who: Credential, expect: int = 201, **fields: Any) -> dict[str, Any]:
    body = {"customer_name": unique("Customer"), "amount": "1000", **fields}
    response = client.post(PARTNER, headers=who.bearer, json=body)
    assert response.status_code == expect, response.text
    return response.json()


def staff_create(client: TestClient, who: Credential, expect: int = 201, **fields: Any) -> dict[str, Any]:
    body = {"customer_name": unique("Upstream customer"), "amount": "5000", **fields}
    response = client.post(STAFF, headers=who.bearer, json=body)
    assert response.status_code == expect, response.text
    return response.json()


def visible(client: TestClient, who: Credential, base: str = PARTNER) -> set[str]:
    response = client.get(base, headers=who.bearer, params={"limit": 200})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == len(body["items"])
    return {d["id"] for d in body["items"]}


def status_of(client: TestClient, method: str, path: str, who: Credential, **kwargs: Any) -> int:
    return client.request(method, path, headers=who.bearer, **kwargs).status_code


def patch(client: TestClient, who: Credential, deal_id: str, base: str = PARTNER, **fields: Any) -> Response:
    return client.patch(f"{base}/{deal_id}", headers=who.bearer, json=fields)


def field_errors(response: Response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    return {e["field"]: e["code"] for e in response.json()["errors"]}


def new_staff(client: TestClient, world: World, role: str) -> Credential:
    email = f"{unique('desk')}@{world.a.slug}.example"
    return credential(client, world.a.slug, add_user(client, world.a.admin, email, role), email)


def enterprise_with(client: TestClient, world: World, label: str, **fields: Any) -> Enterprise:
    """A dealer of tenant A with its admin signed in; `fields` add a tier, a parent, …"""
    email = f"{unique(label.lower().replace(' ', '-'))}@partner.example"
    response = client.post(
        "/api/interconnect/enterprises",
        headers=world.a.admin.bearer,
        json={
            "name": unique(label),
            "partner_type_id": partner_type_id(client, world.a.admin),
            "admin": {"display_name": f"{label} admin", "email": email},
            **fields,
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    complete_setup(client, body["setup_url"])
    token, refresh = partner_login(client, world.a.slug, email)
    cookie = partner_web_login(client, world.a.slug, email)
    return Enterprise(
        body["enterprise"]["id"],
        body["enterprise"]["name"],
        Credential(body["admin_id"], email, token, refresh, cookie),
    )


def workbook(response: Response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True).active
    assert sheet is not None
    return [[cell if cell is not None else "" for cell in row] for row in sheet.iter_rows(values_only=True)]


def deals_page(client: TestClient, world: World, who: Credential) -> Response:
    act_as(client, who.cookie)
    return client.get(f"/p/{world.a.slug}/deals", follow_redirects=False)


def create_form(page: Response) -> str:
    """The registration form of the deal page (the page's filter has a stage select of its own)."""
    return page.text.split("<h2>Register a deal</h2>", 1)[1] if "<h2>Register a deal</h2>" in page.text else ""


# --- Function permissions and the app ----------------------------------------------------------------


def test_the_role_must_open_the_agent_app(client: TestClient, world: World, roles: Roles) -> None:
    roles.define(ROLE, grants=grants(PARTNER_OBJECT), apps=())
    roles.assign(world.x.admin.user_id, ROLE)
    dealers(roles, world, "private")
    assert status_of(client, "GET", PARTNER, world.x.admin) == 403
    assert status_of(client, "POST", PARTNER, world.x.admin, json={"customer_name": "C", "amount": "1"}) == 403
    assert deals_page(client, world, world.x.admin).status_code == 403

    roles.define(ROLE, grants=grants(PARTNER_OBJECT), apps=("agent",))
    assert status_of(client, "GET", PARTNER, world.x.admin) == 200
    create(client, world.x.admin)
    assert deals_page(client, world, world.x.admin).status_code == 200


def test_a_role_change_shows_on_the_very_next_request(client: TestClient, world: World, roles: Roles) -> None:
    deal_partners(roles, world)
    deal = create(client, world.x.admin)
    assert status_of(client, "GET", f"{PARTNER}/{deal['id']}", world.x.admin) == 200
    roles.assign(world.x.admin.user_id, "enterprise_admin")  # opens the agent app, grants nothing on deals
    assert status_of(client, "GET", PARTNER, world.x.admin) == 403
    assert status_of(client, "GET", f"{PARTNER}/{deal['id']}", world.x.admin) == 403
    assert deals_page(client, world, world.x.admin).status_code == 403
    roles.assign(world.x.admin.user_id, ROLE)
    assert visible(client, world.x.admin) == {deal["id"]}


def test_actions_are_granted_one_by_one(client: TestClient, world: World, roles: Roles) -> None:
    deal_partners(roles, world, actions=("read",))
    assert status_of(client, "GET", PARTNER, world.x.admin) == 200
    assert status_of(client, "POST", PARTNER, world.x.admin, json={"customer_name": "C", "amount": "1"}) == 403
    assert status_of(client, "GET", f"{PARTNER}/export.xlsx", world.x.admin) == 403
    page = deals_page(client, world, world.x.admin)
    assert page.status_code == 200 and not create_form(page)
    assert submit(client, f"/p/{world.a.slug}/deals", {"customer_name": "C", "amount": "1"}).status_code == 403
    # the staff side is another object: a partner role never reaches it, nor staff the partner side
    assert status_of(client, "GET", STAFF, world.x.admin) == 403
    assert status_of(client, "GET", PARTNER, world.a.admin) == 403


# --- Registering and changing a deal as a partner ----------------------------------------------------


def test_a_partner_registers_and_changes_own_deals(client: TestClient, world: World, roles: Roles) -> None:
    deal_partners(roles, world, "private")
    first = create(
        client,
        world.x.admin,
        customer_contact="Ms Li, +86 138 0000 0000",
        expected_close="2027-03-31",
        notes="Two pumps for the new plant",
        commission_rate="0.05",
    )
    assert first["owner_id"] == world.x.admin.user_id
    assert first["enterprise_id"] == world.x.link_id
    assert first["created_by"] == world.x.admin.user_id
    assert (first["stage"], first["currency"], Decimal(first["amount"])) == ("registered", "CNY", Decimal(1000))
    assert first["expected_close"] == "2027-03-31" and Decimal(first["commission_rate"]) == Decimal("0.05")
    assert "tenant_id" not in first
    second = create(client, world.x.admin, amount=250.5, currency="usd", stage="qualified")
    assert (Decimal(second["amount"]), second["currency"]) == (Decimal("250.5"), "USD")

    listed = client.get(PARTNER, headers=world.x.admin.bearer).json()
    assert [d["id"] for d in listed["items"]] == [second["id"], first["id"]]  # newest first
    page = client.get(PARTNER, headers=world.x.admin.bearer, params={"limit": 1, "offset": 1}).json()
    assert ([d["id"] for d in page["items"]], page["total"]) == ([first["id"]], 2)
    qualified = client.get(PARTNER, headers=world.x.admin.bearer, params={"stage": "qualified"}).json()
    assert [d["id"] for d in qualified["items"]] == [second["id"]]
    assert client.get(f"{PARTNER}/{first['id']}", headers=world.x.admin.bearer).json() == first

    changed = patch(client, world.x.admin, first["id"], stage="won", notes=None, expected_close=None)
    assert changed.status_code == 200, changed.text
    assert (changed.json()["stage"], changed.json()["notes"], changed.json()["expected_close"]) == ("won", None, None)
    assert changed.json()["customer_name"] == first["customer_name"]
    assert client.delete(f"{PARTNER}/{second['id']}", headers=world.x.admin.bearer).status_code == 204
    assert status_of(client, "GET", f"{PARTNER}/{second['id']}", world.x.admin) == 404
    assert visible(client, world.x.admin) == {first["id"]}


def test_registering_is_idempotent_with_a_key(client: TestClient, world: World, roles: Roles) -> None:
    deal_partners(roles, world)
    body = {"customer_name": unique("Retry"), "amount": "10"}
    headers = {**world.x.admin.bearer, "Idempotency-Key": unique("key")}
    first = client.post(PARTNER, headers=headers, json=body)
    again = client.post(PARTNER, headers=headers, json=body)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] == first.json()["id"] and again.headers.get("Idempotent-Replayed") == "true"
    assert client.post(PARTNER, headers=headers, json={**body, "amount": "11"}).status_code == 409
    assert visible(client, world.x.admin) == {first.json()["id"]}


def test_the_partner_input_has_no_tenant_owner_or_enterprise(client: TestClient, world: World, roles: Roles) -> None:
    deal_partners(roles, world)
    deal = create(client, world.x.admin)
    for name, value in (
        ("tenant_id", world.b.tenant_id),
        ("owner_id", world.y.admin.user_id),
        ("enterprise_id", world.y.link_id),
        ("created_by", world.y.admin.user_id),
    ):
        response = client.post(
            PARTNER, headers=world.x.admin.bearer, json={"customer_name": "C", "amount": "1", name: value}
        )
        assert field_errors(response) == {name: "unknown_field"}
        assert field_errors(patch(client, world.x.admin, deal["id"], **{name: value})) == {name: "unknown_field"}
    assert visible(client, world.x.admin) == {deal["id"]}
    assert visible(client, world.y.admin) == set()


def test_deal_values_are_checked(client: TestClient, world: World, roles: Roles) -> None:
    deal_partners(roles, world)
    post = lambda **body: client.post(PARTNER, headers=world.x.admin.bearer, json=body)  # noqa: E731
    assert field_errors(post(amount="1")) == {"customer_name": "required"}
    assert field_errors(post(customer_name="  ", amount="1")) == {"customer_name": "required"}
    assert field_errors(post(customer_name="C", amount="-1")) == {"amount": "out_of_range"}
    assert field_errors(post(customer_name="C", amount="1.23456")) == {"amount": "invalid"}
    assert field_errors(post(customer_name="C", amount="lots")) == {"amount": "invalid"}
    assert field_errors(post(customer_name="C", amount="1", stage="maybe")) == {"stage": "invalid"}
    assert field_errors(post(customer_name="C", amount="1", currency="yuan")) == {"currency": "invalid"}
    assert field_errors(post(customer_name="C", amount="1", commission_rate="1.5")) == {
        "commission_rate": "out_of_range"
    }
    assert field_errors(post(customer_name="C", amount="1", expected_close="soon")) == {"expected_close": "invalid"}
    deal = create(client, world.x.admin)
    assert field_errors(patch(client, world.x.admin, deal["id"], customer_name=None)) == {"customer_name": "invalid"}
    assert field_errors(patch(client, world.x.admin, deal["id"], customer_name="")) == {"customer_name": "required"}
    assert visible(client, world.x.admin) == {deal["id"]}


# --- Data levels ------------------------------------------------------------------------------------


def test_without_a_level_or_at_none_a_partner_sees_nothing(client: TestClient, world: World, roles: Roles) -> None:
    deal_partners(roles, world, level=None)  # no data rule at all: default deny
    deal = create(client, world.x.admin)
    assert visible(client, world.x.admin) == set()
    assert status_of(client, "GET", f"{PARTNER}/{deal['id']}", world.x.admin) == 404
    dealers(roles, world, "private")
    assert visible(client, world.x.admin) == {deal["id"]}
    dealers(roles, world, "none")
    assert visible(client, world.x.admin) == set()
    assert status_of(client, "PATCH", f"{PARTNER}/{deal['id']}", world.x.admin, json={"notes": "n"}) == 404
    assert status_of(client, "DELETE", f"{PARTNER}/{deal['id']}", world.x.admin) == 404


def test_private_shows_only_ones_own_deals(client: TestClient, world: World, roles: Roles) -> None:
    deal_partners(roles, world, "private")
    colleague = world.x.people["colleague"]
    mine, theirs = create(client, world.x.admin), create(client, colleague)
    assert visible(client, world.x.admin) == {mine["id"]}
    assert visible(client, colleague) == {theirs["id"]}
    for who in (colleague, world.y.admin):
        assert status_of(client, "GET", f"{PARTNER}/{mine['id']}", who) == 404
        assert status_of(client, "PATCH", f"{PARTNER}/{mine['id']}", who, json={"notes": "n"}) == 404
        assert status_of(client, "DELETE", f"{PARTNER}/{mine['id']}", who) == 404


def test_enterprise_levels(client: TestClient, world: World, roles: Roles) -> None:
    deal_partners(roles, world, "enterprise_read")
    colleague = world.x.people["colleague"]
    mine, theirs = create(client, world.x.admin), create(client, colleague)
    assert visible(client, world.x.admin) == visible(client, colleague) == {mine["id"], theirs["id"]}
    assert visible(client, world.y.admin) == set()
    refused = patch(client, colleague, mine["id"], notes="mine now")
    assert refused.status_code == 403 and refused.json()["code"] == "record_read_only"
    assert status_of(client, "DELETE", f"{PARTNER}/{mine['id']}", colleague) == 403
    assert patch(client, colleague, theirs["id"], notes="own deal").status_code == 200  # one's own: writable

    dealers(roles, world, "enterprise_write")
    assert patch(client, colleague, mine["id"], notes="ours").status_code == 200
    assert status_of(client, "PATCH", f"{PARTNER}/{mine['id']}", world.y.admin, json={"notes": "n"}) == 404
    assert client.delete(f"{PARTNER}/{mine['id']}", headers=colleague.bearer).status_code == 204
    assert visible(client, world.x.admin) == {theirs["id"]}


def test_public_levels_never_reach_the_upstreams_own_deals(client: TestClient, world: World, roles: Roles) -> None:
    deal_partners(roles, world, "public_read")
    upstream = staff_create(client, world.a.admin)  # no enterprise: the upstream's own
    of_x, of_y = create(client, world.x.admin), create(client, world.y.admin)
    assert visible(client, world.y.admin) == {of_x["id"], of_y["id"]}
    assert status_of(client, "GET", f"{PARTNER}/{upstream['id']}", world.y.admin) == 404
    assert patch(client, world.y.admin, of_x["id"], notes="n").status_code == 403
    assert patch(client, world.y.admin, of_y["id"], notes="n").status_code == 200

    dealers(roles, world, "public_write")
    assert patch(client, world.y.admin, of_x["id"], notes="n").status_code == 200
    assert visible(client, world.y.admin) == {of_x["id"], of_y["id"]}
    assert status_of(client, "PATCH", f"{PARTNER}/{upstream['id']}", world.y.admin, json={"notes": "n"}) == 404

    # one enterprise's override wins over its partner type's level
    roles.data_rule(PARTNER_OBJECT, "private", link_id=world.y.link_id)
    assert visible(client, world.y.admin) == {of_y["id"]}
    assert visible(client, world.x.admin) == {of_x["id"], of_y["id"]}
    roles.data_rule(PARTNER_OBJECT, None, link_id=world.y.link_id)
    assert visible(client, world.y.admin) == {of_x["id"], of_y["id"]}


def test_sub_enterprises_on_and_off(client: TestClient, world: World, roles: Roles) -> None:
    child = add_enterprise(client, world.a, "Sub dealer", parent_id=world.x.link_id)
    deal_partners(roles, world, "enterprise_read", people=(child.admin,))
    of_x, of_child = create(client, world.x.admin), create(client, child.admin)
    assert of_child["enterprise_id"] == child.link_id
    assert visible(client, world.x.admin) == {of_x["id"]}
    assert visible(client, child.admin) == {of_child["id"]}

    dealers(roles, world, "enterprise_read", subs=True)
    assert visible(client, world.x.admin) == {of_x["id"], of_child["id"]}
    assert visible(client, child.admin) == {of_child["id"]}  # the parent's deals are not below the child
    assert visible(client, world.y.admin) == set()
    assert patch(client, world.x.admin, of_child["id"], notes="n").status_code == 403

    dealers(roles, world, "enterprise_write", subs=True)
    assert patch(client, world.x.admin, of_child["id"], notes="n").status_code == 200
    assert patch(client, child.admin, of_x["id"], notes="n").status_code == 404


def test_an_enterprise_gaining_a_sub_enterprise_sees_its_records_on_the_next_request(
    client: TestClient, world: World, roles: Roles
) -> None:
    # with nothing under it, the session lookup knows the enterprise is its own subtree
    deal_partners(roles, world, "enterprise_read", subs=True)
    of_x = create(client, world.x.admin)
    assert visible(client, world.x.admin) == {of_x["id"]}

    child = add_enterprise(client, world.a, "New sub dealer", parent_id=world.x.link_id)
    roles.assign(child.admin.user_id, ROLE)
    of_child = create(client, child.admin)
    assert visible(client, world.x.admin) == {of_x["id"], of_child["id"]}
    assert visible(client, world.y.admin) == set()


# --- Sharing rules and the external team ------------------------------------------------------------


def test_sharing_rules(client: TestClient, world: World, roles: Roles) -> None:
    tiered = enterprise_with(client, world, "Gold dealer", tier_id=world.ids["tier"])
    deal_partners(roles, world, "private", people=(tiered.admin,))
    won = staff_create(client, world.a.admin, stage="won")
    registered = staff_create(client, world.a.admin)
    everyone = (world.x.admin, world.y.admin, tiered.admin)
    assert all(visible(client, who) == set() for who in everyone)

    rule = roles.share(
        PARTNER_OBJECT,
        field="stage",
        operator="eq",
        value="won",
        target_kind="partner_type",
        target=world.ids["partner_type"],
    )
    assert all(visible(client, who) == {won["id"]} for who in everyone)
    assert status_of(client, "GET", f"{PARTNER}/{registered['id']}", world.x.admin) == 404
    assert patch(client, world.x.admin, won["id"], notes="n").status_code == 403  # shared to read only
    roles.unshare(rule)
    assert visible(client, world.x.admin) == set()

    targets = {
        "enterprise": (world.y.link_id, world.y.admin),
        "tier": (world.ids["tier"], tiered.admin),
        "role": ("deal_vip", world.x.admin),
    }
    roles.define("deal_vip", grants=grants(PARTNER_OBJECT, ("read",)), apps=("agent",))
    roles.assign(world.x.admin.user_id, ROLE, "deal_vip")
    for kind, (target, reached) in targets.items():
        rule = roles.share(
            PARTNER_OBJECT, field="stage", operator="in", value=["won", "lost"], target_kind=kind, target=target
        )
        for who in everyone:
            assert visible(client, who) == ({won["id"]} if who is reached else set()), (kind, who.email)
        roles.unshare(rule)

    roles.share(
        PARTNER_OBJECT,
        field="stage",
        operator="eq",
        value="won",
        target_kind="enterprise",
        target=world.y.link_id,
        access="write",
    )
    assert patch(client, world.y.admin, won["id"], notes="shared to change").status_code == 200
    # moved out of the rule's condition, the deal is out of reach again
    assert patch(client, world.y.admin, won["id"], stage="lost").status_code == 200
    assert visible(client, world.y.admin) == set()


def test_the_external_team_of_a_deal(client: TestClient, world: World, roles: Roles) -> None:
    deal_partners(roles, world, "private")
    colleague = world.x.people["colleague"]
    deal = create(client, world.x.admin)
    team = f"{STAFF}/{deal['id']}/team"
    assert visible(client, colleague) == set()

    response = client.post(team, headers=world.a.admin.bearer, json={"membership_id": colleague.user_id})
    assert response.status_code == 200, response.text
    assert [(m["membership_id"], m["access"]) for m in response.json()] == [(colleague.user_id, "read")]
    assert visible(client, colleague) == {deal["id"]}
    assert patch(client, colleague, deal["id"], notes="n").status_code == 403

    body = {"membership_id": colleague.user_id, "access": "write"}
    assert client.post(team, headers=world.a.admin.bearer, json=body).status_code == 200
    assert patch(client, colleague, deal["id"], notes="n").status_code == 200
    # a person of another enterprise, too, and whatever the level (even none)
    assert (
        client.post(team, headers=world.a.admin.bearer, json={"membership_id": world.y.admin.user_id}).status_code
        == 200
    )
    dealers(roles, world, "none")
    assert visible(client, world.y.admin) == visible(client, colleague) == {deal["id"]}
    assert visible(client, world.x.admin) == set()
    detail = client.get(f"{STAFF}/{deal['id']}", headers=world.a.admin.bearer).json()
    assert {(m["membership_id"], m["access"]) for m in detail["team"]} == {
        (colleague.user_id, "write"),
        (world.y.admin.user_id, "read"),
    }

    assert client.delete(f"{team}/{colleague.user_id}", headers=world.a.admin.bearer).status_code == 204
    assert status_of(client, "GET", f"{PARTNER}/{deal['id']}", colleague) == 404
    assert client.delete(f"{team}/{colleague.user_id}", headers=world.a.admin.bearer).status_code == 404

    for membership_id in (str(uuid.uuid4()), world.a.others["staff"].user_id):
        refused = client.post(team, headers=world.a.admin.bearer, json={"membership_id": membership_id})
        assert field_errors(refused) == {"membership_id": "not_found"}
    refused = client.post(
        team, headers=world.a.admin.bearer, json={"membership_id": colleague.user_id, "access": "own"}
    )
    assert field_errors(refused) == {"access": "invalid"}
    # the read-only staff member may read the team but not change it
    assert status_of(client, "POST", team, world.a.others["staff"], json=body) == 403


def test_a_membership_of_another_tenant_cannot_join_a_team(client: TestClient, world: World, roles: Roles) -> None:
    foreign = add_enterprise(client, world.b, "Foreign dealer")
    deal = staff_create(client, world.a.admin, enterprise_id=world.x.link_id)
    refused = client.post(
        f"{STAFF}/{deal['id']}/team", headers=world.a.admin.bearer, json={"membership_id": foreign.admin.user_id}
    )
    assert field_errors(refused) == {"membership_id": "not_found"}
    # and tenant B cannot reach tenant A's deal at all
    assert status_of(client, "GET", f"{STAFF}/{deal['id']}", world.b.admin) == 404
    assert status_of(client, "PATCH", f"{STAFF}/{deal['id']}", world.b.admin, json={"notes": "n"}) == 404
    assert deal["id"] not in visible(client, world.b.admin, STAFF)


# --- Staff ---------------------------------------------------------------------------------------------


def test_staff_data_scopes(client: TestClient, world: World, roles: Roles) -> None:
    deal_partners(roles, world, "private")
    roles.define("deal_desk", "internal", grants=grants(STAFF_OBJECT), scopes={STAFF_OBJECT: "own"})
    first, second, third = (new_staff(client, world, "deal_desk") for _ in range(3))
    d1, d2, d3 = (staff_create(client, who) for who in (first, second, third))
    of_x = create(client, world.x.admin)
    assert d1["owner_id"] == first.user_id
    assert visible(client, first, STAFF) == {d1["id"]}
    assert status_of(client, "GET", f"{STAFF}/{d2['id']}", first) == 404
    assert patch(client, first, d2["id"], STAFF, notes="n").status_code == 404

    roles.define("deal_desk", "internal", grants=grants(STAFF_OBJECT), scopes={STAFF_OBJECT: "team"})
    roles.staff_team(unique("North desk"), [first.user_id, second.user_id])
    assert visible(client, first, STAFF) == visible(client, second, STAFF) == {d1["id"], d2["id"]}
    assert visible(client, third, STAFF) == {d3["id"]}
    assert patch(client, first, d2["id"], STAFF, notes="covering for a colleague").status_code == 200

    roles.define("deal_desk", "internal", grants=grants(STAFF_OBJECT), scopes={STAFF_OBJECT: "all"})
    assert visible(client, third, STAFF) >= {d1["id"], d2["id"], d3["id"], of_x["id"]}
    # the preset read-only staff role reads everything and changes nothing
    reader = world.a.others["staff"]
    assert visible(client, reader, STAFF) == visible(client, world.a.admin, STAFF)
    assert status_of(client, "POST", STAFF, reader, json={"customer_name": "C", "amount": "1"}) == 403
    assert patch(client, reader, d1["id"], STAFF, notes="n").status_code == 403


def test_a_staff_deal_reaches_partners_once_it_has_an_enterprise(
    client: TestClient, world: World, roles: Roles
) -> None:
    deal_partners(roles, world, "enterprise_read")
    deal = staff_create(client, world.a.admin)
    assert deal["enterprise_id"] is None and deal["owner_id"] == world.a.admin.user_id
    assert visible(client, world.x.admin) == set()
    assert status_of(client, "GET", f"{PARTNER}/{deal['id']}", world.x.admin) == 404

    moved = patch(client, world.a.admin, deal["id"], STAFF, enterprise_id=world.x.link_id)
    assert moved.status_code == 200 and moved.json()["enterprise_id"] == world.x.link_id
    assert visible(client, world.x.admin) == visible(client, world.x.people["colleague"]) == {deal["id"]}
    assert visible(client, world.y.admin) == set()

    unknown = patch(client, world.a.admin, deal["id"], STAFF, enterprise_id=str(uuid.uuid4()))
    assert field_errors(unknown) == {"enterprise_id": "not_found"}
    foreign = patch(
        client, world.a.admin, deal["id"], STAFF, enterprise_id=add_enterprise(client, world.b, "B dealer").link_id
    )
    assert field_errors(foreign) == {"enterprise_id": "not_found"}
    assert patch(client, world.a.admin, deal["id"], STAFF, enterprise_id=None).status_code == 200
    assert visible(client, world.x.admin) == set()

    for_y = staff_create(client, world.a.admin, enterprise_id=world.y.link_id, stage="qualified")
    assert visible(client, world.y.admin) == {for_y["id"]}
    assert field_errors(
        client.post(
            STAFF,
            headers=world.a.admin.bearer,
            json={"customer_name": "C", "amount": "1", "enterprise_id": str(uuid.uuid4())},
        )
    ) == {"enterprise_id": "not_found"}
    assert client.delete(f"{STAFF}/{for_y['id']}", headers=world.a.admin.bearer).status_code == 204
    assert visible(client, world.y.admin) == set()


# --- Field rules --------------------------------------------------------------------------------------


def test_a_hidden_field_never_leaves_the_server(client: TestClient, world: World, roles: Roles) -> None:
    deal_partners(roles, world, "enterprise_read", fields={"commission_rate": "hidden"})
    deal = staff_create(
        client, world.a.admin, enterprise_id=world.x.link_id, commission_rate="0.0725", notes="Rate agreed"
    )
    own = create(client, world.x.admin)
    assert Decimal(deal["commission_rate"]) == Decimal("0.0725")  # staff see it

    listed = client.get(PARTNER, headers=world.x.admin.bearer).json()["items"]
    assert listed and all("commission_rate" not in d for d in listed)
    detail = client.get(f"{PARTNER}/{deal['id']}", headers=world.x.admin.bearer).json()
    assert "commission_rate" not in detail and detail["notes"] == "Rate agreed"
    assert "commission_rate" not in own

    rows = workbook(client.get(f"{PARTNER}/export.xlsx", headers=world.x.admin.bearer))
    assert "commission_rate" not in rows[0] and "notes" in rows[0]
    assert not any("0.0725" in str(cell) for row in rows for cell in row)
    assert len(rows) == 3

    page = deals_page(client, world, world.x.admin)
    assert page.status_code == 200 and deal["customer_name"] in page.text
    assert (
        "Commission rate" not in page.text and 'name="commission_rate"' not in page.text and "0.0725" not in page.text
    )

    post = client.post(
        PARTNER, headers=world.x.admin.bearer, json={"customer_name": "C", "amount": "1", "commission_rate": "0.5"}
    )
    assert field_errors(post) == {"commission_rate": "field_read_only"}
    assert field_errors(patch(client, world.x.admin, own["id"], commission_rate="0.5")) == {
        "commission_rate": "field_read_only"
    }
    assert field_errors(patch(client, world.x.admin, own["id"], commission_rate=None)) == {
        "commission_rate": "field_read_only"
    }
    form = submit(
        client, f"/p/{world.a.slug}/deals", {"customer_name": "Sneaky", "amount": "1", "commission_rate": "0.9"}
    )
    assert form.status_code == 422 and "0.9" not in form.text
    assert visible(client, world.x.admin) == {deal["id"], own["id"]}
    again = client.get(f"{STAFF}/{deal['id']}", headers=world.a.admin.bearer).json()
    assert Decimal(again["commission_rate"]) == Decimal("0.0725")


def test_a_read_only_field_is_shown_but_not_written(client: TestClient, world: World, roles: Roles) -> None:
    deal_partners(roles, world, "private", fields={"stage": "read_only"})
    refused = client.post(
        PARTNER, headers=world.x.admin.bearer, json={"customer_name": "C", "amount": "1", "stage": "won"}
    )
    assert field_errors(refused) == {"stage": "field_read_only"}
    deal = create(client, world.x.admin)
    assert deal["stage"] == "registered"
    assert field_errors(patch(client, world.x.admin, deal["id"], stage="won")) == {"stage": "field_read_only"}
    assert patch(client, world.x.admin, deal["id"], notes="still changeable").status_code == 200
    # the upstream moves the stage; the partner sees it
    assert patch(client, world.a.admin, deal["id"], STAFF, stage="won").json()["stage"] == "won"
    assert client.get(f"{PARTNER}/{deal['id']}", headers=world.x.admin.bearer).json()["stage"] == "won"

    page = deals_page(client, world, world.x.admin)
    assert "<th>Stage</th>" in page.text and '<td data-label="Stage">Won</td>' in page.text
    form = create_form(page)
    assert form and 'name="customer_name"' in form and 'name="stage"' not in form


# --- The page and the export ---------------------------------------------------------------------------


def test_the_deal_page(client: TestClient, world: World, roles: Roles) -> None:
    deal_partners(roles, world, "private")
    theirs = create(client, world.x.people["colleague"])
    page = deals_page(client, world, world.x.admin)
    assert page.status_code == 200 and "No deals to show." in page.text
    assert theirs["customer_name"] not in page.text
    form = create_form(page)
    for name in (
        "customer_name",
        "customer_contact",
        "amount",
        "currency",
        "stage",
        "expected_close",
        "notes",
        "commission_rate",
    ):
        assert f'name="{name}"' in form, name

    name = unique("Page customer")
    path = f"/p/{world.a.slug}/deals"
    done = submit(
        client, path, {"customer_name": name, "amount": "1200.50", "expected_close": "2027-01-15", "stage": "qualified"}
    )
    assert done.status_code in (302, 303) and done.headers["location"] == f"{path}?created=1"
    listed = client.get(f"{path}?created=1")
    assert name in listed.text and "The deal is registered." in listed.text and "1200.5 CNY" in listed.text
    [made] = client.get(PARTNER, headers=world.x.admin.bearer).json()["items"]
    assert (made["customer_name"], made["stage"], made["expected_close"]) == (name, "qualified", "2027-01-15")

    invalid = submit(client, path, {"customer_name": "", "amount": "many"})
    assert invalid.status_code == 422 and "Please correct the marked fields." in invalid.text
    assert visible(client, world.x.admin) == {made["id"]}
    # another tenant's session is not signed in to this portal
    act_as(client, world.b.admin.cookie)
    assert client.get(path, follow_redirects=False).status_code in (302, 303, 401, 403)


def test_the_export_is_the_scoped_list(client: TestClient, world: World, roles: Roles) -> None:
    deal_partners(roles, world, "enterprise_read")
    of_x = create(client, world.x.admin, customer_name='=HYPERLINK("http://evil.example")', amount="99.5")
    of_colleague = create(client, world.x.people["colleague"])
    of_y = create(client, world.y.admin)
    rows = workbook(client.get(f"{PARTNER}/export.xlsx", headers=world.x.admin.bearer))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["customer_name", "customer_contact", "amount"] and "commission_rate" in header
    names = {row[0] for row in body}
    assert names == {of_x["customer_name"], of_colleague["customer_name"]} and of_y["customer_name"] not in names
    formula = next(row for row in body if row[0] == of_x["customer_name"])
    assert formula[2] == "99.5"  # text cells: the formula stays text
    staff_rows = workbook(client.get(f"{STAFF}/export.xlsx", headers=world.a.others["staff"].bearer))
    assert {of_x["customer_name"], of_y["customer_name"]} <= {row[0] for row in staff_rows[1:]}


def test_the_page_downloads_the_same_export(client: TestClient, world: World, roles: Roles) -> None:
    deal_partners(roles, world, "enterprise_read")
    of_x = create(client, world.x.admin)
    page = deals_page(client, world, world.x.admin)
    link = f"/p/{world.a.slug}/deals/export.xlsx"
    assert f'href="{link}"' in page.text
    act_as(client, world.x.admin.cookie)
    rows = workbook(client.get(link))
    assert of_x["customer_name"] in {row[0] for row in rows[1:]}
    act_as(client, world.y.admin.cookie)
    assert of_x["customer_name"] not in {row[0] for row in workbook(client.get(link))[1:]}


def test_stored_control_characters_and_formula_text_come_out_of_the_exports(
    client: TestClient, world: World, roles: Roles, settings: Settings
) -> None:
    deal_partners(roles, world, "enterprise_read")
    made = create(client, world.x.admin)
    customer, contact = stored_text(settings, "Cust"), "-1+1\x02"
    deal_id = uuid.UUID(made["id"])
    write_directly(
        settings, world.a.tenant_id, Deal, Deal.id == deal_id, customer_name=customer, customer_contact=contact
    )
    answers = [
        client.get(f"{PARTNER}/export.xlsx", headers=world.x.admin.bearer),
        client.get(f"{STAFF}/export.xlsx", headers=world.a.others["staff"].bearer),
    ]
    act_as(client, world.x.admin.cookie)
    answers.append(client.get(f"/p/{world.a.slug}/deals/export.xlsx"))
    for response in answers:
        rows = exported_values(response)
        assert [shown(customer), shown(contact)] in [row[:2] for row in rows[1:]]


# --- The presets a new programme starts with ---------------------------------------------------------


def test_an_agent_joining_by_invitation_registers_deals_but_not_their_stage_or_commission(
    client: TestClient, world: World
) -> None:
    link = create_invitation(client, world.a, type_code="agent")
    email = new_email("agent-admin")
    joined = accept(client, token=token_of(link), email=email)
    assert joined.status_code == 201, joined.text
    agent = Credential(joined.json()["membership_id"], email, *partner_login(client, world.a.slug, email))

    deal = create(client, agent, customer_name="Agent's customer")
    assert deal["stage"] == "registered" and deal["commission_rate"] is None
    assert deal["enterprise_id"] == joined.json()["enterprise_id"]
    assert visible(client, agent) == {deal["id"]}

    # what the manufacturer decides is shown to the agent, and refused when the agent sends it
    refused = create(client, agent, 422, customer_name="Self-won", stage="won", commission_rate="0.95")
    assert {e["field"]: e["code"] for e in refused["errors"]} == {
        "stage": "field_read_only",
        "commission_rate": "field_read_only",
    }
    assert field_errors(patch(client, agent, deal["id"], commission_rate="0.95")) == {
        "commission_rate": "field_read_only"
    }
    assert patch(client, agent, deal["id"], notes="Met twice").status_code == 200
    won = patch(client, world.a.admin, deal["id"], STAFF, stage="won", commission_rate="0.05")
    assert won.status_code == 200, won.text
    seen = client.get(f"{PARTNER}/{deal['id']}", headers=agent.bearer).json()
    assert (seen["stage"], seen["commission_rate"], seen["notes"]) == ("won", "0.0500", "Met twice")
    assert visible(client, agent) == {deal["id"]}  # the refused registration saved nothing
