"""The role pages, driven through HTTP like a browser: the console's roles, role editor, role templates,
data permissions, sharing rules and staff teams; staff role assignment; partner people's roles on the
console's enterprise page and on the partner portal's colleagues page; the partner home's roles."""

from __future__ import annotations

import html
import re
import uuid

import pytest
from httpx import Response
from litestar import Litestar
from litestar.testing import TestClient

from tests.integration.web.test_pages import REDIRECTS, act_as, assert_readable_page, submit
from tests.world import World

ZH = {"Accept-Language": "zh-CN"}
ROLE_PAGES = (
    "/console/roles",
    "/console/roles/staff",
    "/console/roles/member",
    "/console/roles/templates",
    "/console/roles/data",
    "/console/roles/sharing",
    "/console/roles/teams",
)


def page(client: TestClient, path: str, **kwargs: object) -> Response:
    response = client.get(path, follow_redirects=False, **kwargs)  # type: ignore[arg-type]
    assert response.status_code == 200, f"{path}: {response.status_code} {response.text[:300]}"
    assert response.headers["content-type"].startswith("text/html")
    assert "Traceback" not in response.text
    return response


def text_of(response: Response) -> str:
    return html.unescape(response.text)


def api_roles(client: TestClient, world: World, user_id: str) -> list[str]:
    """A partner person's roles, as the upstream's API reports them."""
    response = client.get(f"/api/interconnect/users/{user_id}/roles", headers=world.a.admin.bearer)
    assert response.status_code == 200, response.text
    return sorted(response.json()["roles"])


def new_key() -> str:
    return f"r_{uuid.uuid4().hex[:10]}"


def create_role(client: TestClient, key: str, kind: str = "internal", name: str = "Regional manager") -> Response:
    return submit(client, "/console/roles", {"key": key, "name": name, "kind": kind})


# --- Every page opens, in both languages ----------------------------------------------------------


def test_admin_opens_every_role_page(client: TestClient, world: World) -> None:
    act_as(client, world.a.admin.cookie)
    for path in ROLE_PAGES:
        page(client, path)

    listing = text_of(page(client, "/console/roles"))
    for name in ("Administrator", "Staff member", "Channel manager", "Enterprise admin", "Member", "Dealer buyer"):
        assert name in listing
    assert 'href="/console/roles/dealer_buyer"' in listing
    assert 'href="/console/roles"' in listing  # the console navigation


def test_role_pages_in_chinese(client: TestClient, world: World) -> None:
    act_as(client, world.a.admin.cookie)
    in_chinese(client)
    for path in ROLE_PAGES:
        response = page(client, path, headers=ZH)
        assert '<html lang="zh-CN"' in response.text
    listing = text_of(page(client, "/console/roles", headers=ZH))
    assert "管理员" in listing  # "Administrator"
    assert "Administrator" not in listing
    assert "企业管理员" in listing  # "Enterprise admin"
    assert "角色" in listing  # "Roles"


def test_role_editor_shows_grid_for_the_roles_audience(client: TestClient, world: World) -> None:
    act_as(client, world.a.admin.cookie)
    staff_role = page(client, "/console/roles/channel_manager").text
    assert 'value="interconnect.enterprises:read"' in staff_role
    assert 'name="grant" value="*:read"' in staff_role  # the "everything" row of staff roles
    assert 'name="scope:*"' in staff_role  # staff data scope
    assert 'value="partner.colleagues:update"' not in staff_role

    partner_role = page(client, "/console/roles/enterprise_admin").text
    assert 'value="partner.colleagues:update"' in partner_role
    assert 'value="interconnect.enterprises:read"' not in partner_role
    assert 'name="grant" value="*:read"' not in partner_role
    assert 'name="apps" value="ordering"' in partner_role
    assert 'name="scope:*"' not in partner_role


def test_data_page_shows_the_matrix_or_explains_why_there_is_none(
    client: TestClient, world: World, app: Litestar
) -> None:
    act_as(client, world.a.admin.cookie)
    objects = app.state.services.objects.values()
    scoped = sorted(o.name for o in objects if o.model is not None and o.audience == "external")
    data = text_of(page(client, "/console/roles/data"))
    sharing = text_of(page(client, "/console/roles/sharing"))
    if scoped:
        assert f'name="level:{world.ids["partner_type"]}:{scoped[0]}"' in data
        assert 'action="/console/roles/sharing"' in sharing
    else:
        assert "No partner app keeps records with data permissions yet" in data
        assert "No partner app keeps records with data permissions yet" in sharing


# --- Creating and editing roles -------------------------------------------------------------------


def test_admin_creates_a_role_and_edits_its_grants_and_fields(client: TestClient, world: World) -> None:
    act_as(client, world.a.admin.cookie)
    key = new_key()

    created = create_role(client, key, "external", "Installer lead")
    assert created.status_code in REDIRECTS, created.text
    assert created.headers["location"].startswith(f"/console/roles/{key}")
    editor = text_of(page(client, f"/console/roles/{key}"))
    assert "Installer lead" in editor

    form = {
        "name": "Installer lead",
        "description": "Leads the installers",
        "apps": ["agent"],
        "grant": ["partner.profile:read", "partner.colleagues:read"],
        "includes": ["member"],
    }
    saved = submit(client, f"/console/roles/{key}", form)  # type: ignore[arg-type]
    assert saved.status_code in REDIRECTS, saved.text

    editor = page(client, f"/console/roles/{key}").text
    assert re.search(r'value="partner.colleagues:read"\s+aria-label="[^"]*"\s+checked', editor)
    assert re.search(r'name="apps" value="agent" checked', editor)
    assert 'value="academy"' not in editor and 'value="notices"' not in editor  # not built: not offered
    assert not re.search(r'name="apps" value="ordering" checked', editor)
    assert re.search(r'name="includes" value="member" checked', editor)
    assert "Leads the installers" in editor

    listing = text_of(page(client, "/console/roles"))
    assert "Installer lead" in listing


def test_staff_role_field_rules_and_scope_are_saved(client: TestClient, world: World, app: Litestar) -> None:
    act_as(client, world.a.admin.cookie)
    key = new_key()
    assert create_role(client, key).status_code in REDIRECTS
    objects = app.state.services.objects.values()
    with_fields = sorted((o for o in objects if o.audience == "internal" and o.fields), key=lambda o: o.name)
    form: dict[str, object] = {
        "name": "Regional manager",
        "grant": ["console:read", "interconnect.enterprises:read", "interconnect.enterprises:update"],
        "scope:*": "team",
    }
    if with_fields:
        obj, field_name = with_fields[0].name, with_fields[0].fields[0][0]
        form[f"field:{obj}:{field_name}"] = "read_only"
    saved = submit(client, f"/console/roles/{key}", form)  # type: ignore[arg-type]
    assert saved.status_code in REDIRECTS, saved.text

    editor = page(client, f"/console/roles/{key}").text
    assert re.search(r'value="interconnect.enterprises:update"\s+aria-label="[^"]*"\s+checked', editor)
    assert not re.search(r'value="interconnect.enterprises:create"\s+aria-label="[^"]*"\s+checked', editor)
    scope = editor[editor.index('name="scope:*"') :]
    assert '<option value="team" selected>' in scope[: scope.index("</select>")]
    if with_fields:
        select = editor[editor.index(f'name="field:{obj}:{field_name}"') :]
        assert '<option value="read_only" selected>' in select[: select.index("</select>")]


def test_refused_role_form_is_rerendered_naming_the_bad_field(client: TestClient, world: World) -> None:
    act_as(client, world.a.admin.cookie)

    bad_key = create_role(client, "Not A Key!", "internal", "Whatever")
    assert bad_key.status_code == 422
    assert re.search(r'id="key-error">must be 2 to 40 lowercase letters', html.unescape(bad_key.text))
    assert 'value="Whatever"' in bad_key.text  # what was typed is kept

    taken = create_role(client, "staff")
    assert taken.status_code == 422
    assert 'id="key-error">is already taken<' in taken.text

    key = new_key()
    assert create_role(client, key).status_code in REDIRECTS
    refused = submit(client, f"/console/roles/{key}", {"name": "", "grant": "interconnect.enterprises:fly"})
    assert refused.status_code == 422
    text = text_of(refused)
    assert 'id="name-error">is required<' in text
    assert 'id="grants-error"' in text
    assert "interconnect.enterprises:fly is not an action of this object" in text

    in_chinese(client)
    chinese = submit(client, f"/console/roles/{key}", {"name": ""})
    assert chinese.status_code == 422
    assert '<html lang="zh-CN"' in chinese.text
    assert 'id="name-error">为必填项<' in chinese.text


def in_chinese(client: TestClient) -> None:
    """The signed-in staff member chooses Chinese (stored as their preference, which beats the browser)."""
    response = submit(client, "/lang", {"language": "zh_CN", "next": "/console"}, form_page="/console")
    assert response.status_code in REDIRECTS, response.text


def csrf_of(client: TestClient, path: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', client.get(path).text)
    assert match
    return match.group(1)


def test_the_administrator_role_keeps_every_permission(client: TestClient, world: World) -> None:
    act_as(client, world.a.admin.cookie)
    response = submit(client, "/console/roles/admin", {"name": "Administrator", "grant": "console:read"})
    assert_readable_page(response, 409, "The administrator role always keeps every permission")


def test_deleting_roles(client: TestClient, world: World) -> None:
    act_as(client, world.a.admin.cookie)
    preset = submit(client, "/console/roles/staff/delete", {}, form_page="/console/roles/staff")
    assert_readable_page(preset, 409, "Preset roles cannot be deleted")

    key = new_key()
    assert create_role(client, key).status_code in REDIRECTS
    holder = world.a.others["staff"].user_id
    given = submit(client, f"/console/users/{holder}/roles", {"roles": ["staff", key]}, form_page="/console/users")  # type: ignore[dict-item]
    assert given.status_code in REDIRECTS, given.text
    held = submit(client, f"/console/roles/{key}/delete", {}, form_page=f"/console/roles/{key}")
    assert_readable_page(held, 409, "1 people hold this role; take it from them first")

    taken = submit(client, f"/console/users/{holder}/roles", {"role": "staff"}, form_page="/console/users")
    assert taken.status_code in REDIRECTS, taken.text
    deleted = submit(client, f"/console/roles/{key}/delete", {}, form_page=f"/console/roles/{key}")
    assert deleted.status_code in REDIRECTS, deleted.text
    assert client.get(f"/console/roles/{key}", follow_redirects=False).status_code == 404


@pytest.mark.parametrize("key", ["templates", "teams", "preview"])
def test_page_names_cannot_be_role_keys(client: TestClient, world: World, key: str) -> None:
    act_as(client, world.a.admin.cookie)
    response = create_role(client, key)
    assert response.status_code == 422
    assert 'id="key-error">is reserved' in response.text


# --- Templates, teams, sharing --------------------------------------------------------------------


def test_role_template_is_saved_per_partner_type(client: TestClient, world: World) -> None:
    act_as(client, world.a.admin.cookie)
    type_id = world.ids["partner_type"]
    before = page(client, "/console/roles/templates").text
    assert f'id="type-{type_id}"' in before

    form = {
        "assignable": ["enterprise_admin", "member", "dealer_buyer", "service_engineer"],
        "member_default": ["member"],
        "admin_default": ["enterprise_admin", "member"],
    }
    saved = submit(client, f"/console/roles/templates/{type_id}", form, form_page="/console/roles/templates")  # type: ignore[arg-type]
    assert saved.status_code in REDIRECTS, saved.text
    after = page(client, f"/console/roles/templates?saved={type_id}").text
    section = after[after.index(f'id="type-{type_id}"') :]
    section = section[: section.index("</section>")]
    assert 'name="assignable" value="service_engineer"' in section
    assert re.search(r'name="assignable" value="service_engineer"[^>]*checked', section)
    assert not re.search(r'name="member_default" value="dealer_buyer"[^>]*checked', section)
    assert not re.search(r'name="assignable" value="dealer_admin"[^>]*checked', section)

    bad = submit(
        client, f"/console/roles/templates/{type_id}", {"assignable": "staff"}, form_page="/console/roles/templates"
    )
    assert bad.status_code == 422
    assert "staff is not a partner role" in text_of(bad)


def test_staff_team_is_created_and_gets_members(client: TestClient, world: World) -> None:
    act_as(client, world.a.admin.cookie)
    name = f"East {uuid.uuid4().hex[:6]}"
    created = submit(client, "/console/roles/teams", {"name": name})
    assert created.status_code in REDIRECTS, created.text
    team_id = created.headers["location"].rsplit("#team-", 1)[1]

    staff = world.a.others["staff"]
    members = submit(
        client,
        "/console/roles/teams/members",
        {"team_id": team_id, "user_ids": [staff.user_id, world.a.admin.user_id]},  # type: ignore[dict-item]
        form_page="/console/roles/teams",
    )
    assert members.status_code in REDIRECTS, members.text
    teams = text_of(page(client, "/console/roles/teams"))
    section = teams[teams.index(f'id="team-{team_id}"') :]
    assert "(2)" in section[: section.index("</h2>")]

    again = submit(client, "/console/roles/teams", {"name": name})
    assert again.status_code == 422
    assert 'id="name-error">is already taken<' in again.text


def test_sharing_form_refuses_an_unknown_object(client: TestClient, world: World) -> None:
    act_as(client, world.a.admin.cookie)
    response = submit(
        client,
        "/console/roles/sharing",
        {
            "name": "Shared",
            "object": "no.such",
            "field": "x",
            "operator": "eq",
            "value": "1",
            "target": "role:member",
            "access": "read",
            "active": "yes",
        },
    )
    assert response.status_code == 422
    assert "no.such has no data permissions" in text_of(response)


def scoped_partner_object(app: Litestar) -> str:
    objects = app.state.services.objects.values()
    found = sorted(o.name for o in objects if o.model is not None and o.audience == "external")
    if not found:
        pytest.skip("no data-scoped partner object is installed")
    return found[0]


def test_data_matrix_and_enterprise_exceptions(client: TestClient, world: World, app: Litestar) -> None:
    obj = scoped_partner_object(app)
    type_id = world.ids["partner_type"]
    act_as(client, world.a.admin.cookie)

    saved = submit(
        client, "/console/roles/data", {f"level:{type_id}:{obj}": "enterprise_read", f"sub:{type_id}:{obj}": "yes"}
    )
    assert saved.status_code in REDIRECTS, saved.text
    matrix = page(client, "/console/roles/data").text
    cell = matrix[matrix.index(f'name="level:{type_id}:{obj}"') :]
    assert '<option value="enterprise_read" selected>' in cell[: cell.index("</select>")]
    assert re.search(rf'name="sub:{type_id}:{re.escape(obj)}" value="yes" checked', matrix)

    bad = submit(client, "/console/roles/data", {f"level:{type_id}:{obj}": "everything"})
    assert bad.status_code == 422
    assert "must be one of" in text_of(bad)

    added = submit(
        client,
        "/console/roles/data/overrides",
        {"link_id": world.x.link_id, "object": obj, "level": "public_read"},
        form_page="/console/roles/data",
    )
    assert added.status_code in REDIRECTS, added.text
    listing = text_of(page(client, "/console/roles/data"))
    overrides = listing[listing.index('id="overrides"') :]
    assert world.x.name in overrides
    assert "All partners' records: view" in overrides

    missing = submit(
        client, "/console/roles/data/overrides", {"object": obj, "level": "none"}, form_page="/console/roles/data"
    )
    assert missing.status_code == 422
    assert 'id="link_id-error">is required<' in missing.text

    removed = submit(
        client,
        "/console/roles/data/overrides/remove",
        {"link_id": world.x.link_id, "object": obj},
        form_page="/console/roles/data",
    )
    assert removed.status_code in REDIRECTS, removed.text
    listing = text_of(page(client, "/console/roles/data"))
    assert "No exceptions." in listing[listing.index('id="overrides"') :]


def test_sharing_rule_is_added_switched_and_deleted(client: TestClient, world: World, app: Litestar) -> None:
    obj = scoped_partner_object(app)
    act_as(client, world.a.admin.cookie)
    name = f"Won deals {uuid.uuid4().hex[:6]}"
    form = {
        "name": name,
        "object": obj,
        "field": "stage",
        "operator": "in",
        "value": "won, lost",
        "target": f"partner_type:{world.ids['partner_type']}",
        "access": "read",
        "active": "yes",
    }
    bad = submit(client, "/console/roles/sharing", {**form, "field": "no_such_column"})
    assert bad.status_code == 422
    assert 'id="field-error">no_such_column is not a field of this object<' in bad.text
    assert f'value="{name}"' in bad.text

    added = submit(client, "/console/roles/sharing", form)
    assert added.status_code in REDIRECTS, added.text
    listing = text_of(page(client, "/console/roles/sharing"))
    row = listing[listing.index(name) :]
    row = row[: row.index("</tr>")]
    assert "won, lost" in row and "Dealer" in row and "Active" in row
    rule_id = re.search(r'name="rule_id" value="([^"]+)"', row)
    assert rule_id

    off = submit(
        client, "/console/roles/sharing/toggle", {"rule_id": rule_id.group(1)}, form_page="/console/roles/sharing"
    )
    assert off.status_code in REDIRECTS, off.text
    listing = text_of(page(client, "/console/roles/sharing"))
    row = listing[listing.index(name) :]
    assert "Off" in row[: row.index("</tr>")]

    gone = submit(
        client, "/console/roles/sharing/delete", {"rule_id": rule_id.group(1)}, form_page="/console/roles/sharing"
    )
    assert gone.status_code in REDIRECTS, gone.text
    assert name not in text_of(page(client, "/console/roles/sharing"))


# --- Who may change what --------------------------------------------------------------------------


ROLE_POSTS = (
    ("/console/roles", {"key": "sneaky_role", "name": "Sneaky", "kind": "internal"}),
    ("/console/roles/staff", {"name": "Sneaky", "grant": "*:*"}),
    ("/console/roles/channel_manager/delete", {}),
    ("/console/roles/data", {}),
    ("/console/roles/teams", {"name": "Sneaky team"}),
    ("/console/roles/sharing", {"name": "Sneaky"}),
)


def test_read_only_staff_sees_role_pages_but_cannot_change_them(client: TestClient, world: World) -> None:
    act_as(client, world.a.others["staff"].cookie)
    editor = page(client, "/console/roles/channel_manager").text
    assert '<fieldset class="plain" disabled>' in editor
    assert "/console/roles/channel_manager/delete" not in editor

    for path, form in ROLE_POSTS:
        response = submit(client, path, form, form_page="/console/roles")  # type: ignore[arg-type]
        assert_readable_page(response, 403, "You do not have permission to do this")
    type_id = world.ids["partner_type"]
    refused = submit(
        client, f"/console/roles/templates/{type_id}", {"assignable": "member"}, form_page="/console/roles"
    )
    assert refused.status_code == 403
    roles = submit(
        client, f"/console/users/{world.a.admin.user_id}/roles", {"role": "staff"}, form_page="/console/users"
    )
    assert roles.status_code == 403
    assert "sneaky_role" not in client.get("/console/roles", follow_redirects=False).text


def test_other_tenant_sees_none_of_a_s_roles(client: TestClient, world: World) -> None:
    act_as(client, world.a.admin.cookie)
    key = new_key()
    assert create_role(client, key, "external", f"Only in A {key}").status_code in REDIRECTS
    team = f"A team {uuid.uuid4().hex[:6]}"
    assert submit(client, "/console/roles/teams", {"name": team}).status_code in REDIRECTS

    act_as(client, world.b.admin.cookie)
    for path in ROLE_PAGES:
        response = page(client, path)
        assert key not in response.text
        assert team not in response.text
        assert world.a.admin.email not in response.text
        assert world.x.name not in text_of(response)
    assert client.get(f"/console/roles/{key}", follow_redirects=False).status_code == 404
    edited = submit(client, f"/console/roles/{key}", {"name": "Hijacked"}, form_page="/console/roles")
    assert edited.status_code == 404
    type_id = world.ids["partner_type"]
    templates = submit(
        client, f"/console/roles/templates/{type_id}", {"assignable": "member"}, form_page="/console/roles"
    )
    assert templates.status_code == 404


# --- Staff role assignment ------------------------------------------------------------------------


def test_users_page_shows_and_changes_staff_roles(client: TestClient, world: World) -> None:
    act_as(client, world.a.admin.cookie)
    users = text_of(page(client, "/console/users"))
    assert "Staff member" in users and "Administrator" in users
    staff = world.a.others["staff"]

    changed = submit(
        client,
        f"/console/users/{staff.user_id}/roles",
        {"roles": ["staff", "channel_manager"]},
        form_page="/console/users",  # type: ignore[dict-item]
    )
    assert changed.status_code in REDIRECTS, changed.text
    row = text_of(page(client, "/console/users"))
    row = row[row.index(f'id="user-{staff.user_id}"') :]
    assert "Channel manager" in row[: row.index("</tr>")]

    unknown = submit(
        client, f"/console/users/{staff.user_id}/roles", {"role": "no_such_role"}, form_page="/console/users"
    )
    assert unknown.status_code == 422
    assert "no_such_role is not a role for this kind of user" in text_of(unknown)

    own = submit(client, f"/console/users/{world.a.admin.user_id}/roles", {"role": "staff"}, form_page="/console/users")
    assert own.status_code == 409
    assert "You cannot remove your own admin role" in text_of(own)


def test_staff_member_is_added_with_chosen_roles(client: TestClient, world: World) -> None:
    act_as(client, world.a.admin.cookie)
    email = f"multi-{uuid.uuid4().hex[:8]}@{world.a.slug}.example"
    form = {"email": email, "display_name": "Multi Role", "password": "correct horse battery staple"}
    response = submit(client, "/console/users", {**form, "roles": ["order_desk", "dispatcher"]})  # type: ignore[dict-item]
    assert response.status_code in REDIRECTS, response.text
    listing = text_of(page(client, "/console/users"))
    row = listing[listing.index(email) :]
    row = row[: row.index("</tr>")]
    assert "Order desk" in row and "Dispatcher" in row

    refused = submit(client, "/console/users", {**form, "email": f"x{email}", "roles": "no_such_role"})
    assert refused.status_code == 422
    assert f"x{email}" not in client.get("/console/users").text


# --- Partner people's roles -----------------------------------------------------------------------


def test_console_changes_a_partner_persons_roles(client: TestClient, world: World) -> None:
    act_as(client, world.a.admin.cookie)
    colleague = world.x.people["colleague"]
    enterprise = page(client, f"/console/partners/enterprises/{world.x.link_id}").text
    action = f"/console/partners/{world.x.link_id}/members/{colleague.user_id}/roles"
    assert f'action="{action}"' in enterprise

    changed = submit(
        client,
        action,
        {"roles": ["member", "service_engineer"]},
        form_page=f"/console/partners/enterprises/{world.x.link_id}",  # type: ignore[dict-item]
    )
    assert changed.status_code in REDIRECTS, changed.text
    assert api_roles(client, world, colleague.user_id) == ["member", "service_engineer"]
    shown = text_of(page(client, f"/console/partners/enterprises/{world.x.link_id}"))
    assert "Service engineer" in shown

    elsewhere = submit(
        client,
        f"/console/partners/{world.y.link_id}/members/{colleague.user_id}/roles",
        {"role": "member"},
        form_page="/console/partners",
    )
    assert elsewhere.status_code == 404
    assert api_roles(client, world, colleague.user_id) == ["member", "service_engineer"]

    staff_role = submit(client, action, {"role": "staff"}, form_page="/console/partners")
    assert staff_role.status_code == 422
    assert "staff is not a role for this kind of user" in text_of(staff_role)


def test_partner_admin_changes_colleague_roles_within_the_template(client: TestClient, world: World) -> None:
    colleague = world.x.people["colleague"]
    act_as(client, world.x.admin.cookie)
    slug = world.a.slug
    colleagues = text_of(page(client, f"/p/{slug}/colleagues"))
    action = f"/p/{slug}/colleagues/{colleague.user_id}/roles"
    assert f'action="{action}"' in colleagues
    assert 'name="roles" value="dealer_buyer"' in colleagues  # in the dealer template
    assert 'name="roles" value="service_engineer"' not in colleagues  # not in it
    assert f'action="/p/{slug}/colleagues/{world.x.admin.user_id}/roles"' not in colleagues  # not oneself

    assert api_roles(client, world, colleague.user_id) == ["member"]  # the world keeps its colleague to the member role
    given = submit(client, action, {"roles": ["member", "dealer_admin"]}, form_page=f"/p/{slug}/colleagues")  # type: ignore[dict-item]
    assert given.status_code in REDIRECTS, given.text
    assert api_roles(client, world, colleague.user_id) == ["dealer_admin", "member"]
    shown = text_of(page(client, f"/p/{slug}/colleagues"))
    assert "Dealer admin" in shown

    refused = submit(client, action, {"roles": ["member", "service_engineer"]}, form_page=f"/p/{slug}/colleagues")
    assert_readable_page(refused, 422, "You cannot give the role Service engineer")
    assert api_roles(client, world, colleague.user_id) == ["dealer_admin", "member"]

    chinese = client.post(
        action,
        data={"roles": "service_engineer", "_csrf_token": csrf_of(client, f"/p/{slug}/colleagues")},
        headers=ZH,
        follow_redirects=False,
    )
    assert chinese.status_code == 422
    assert "服务工程师" in text_of(chinese)  # "Service engineer"

    own = submit(
        client,
        f"/p/{slug}/colleagues/{world.x.admin.user_id}/roles",
        {"role": "member"},
        form_page=f"/p/{slug}/colleagues",
    )
    assert own.status_code == 409
    assert "You cannot change your own roles" in text_of(own)


def test_roles_given_by_the_manufacturer_stay_when_the_enterprise_admin_changes_others(
    client: TestClient, world: World
) -> None:
    colleague = world.x.people["colleague"]
    act_as(client, world.a.admin.cookie)
    action = f"/console/partners/{world.x.link_id}/members/{colleague.user_id}/roles"
    outside = submit(client, action, {"roles": ["member", "service_engineer"]}, form_page="/console/partners")  # type: ignore[dict-item]
    assert outside.status_code in REDIRECTS, outside.text

    act_as(client, world.x.admin.cookie)
    slug = world.a.slug
    colleagues = text_of(page(client, f"/p/{slug}/colleagues"))
    assert "(given by the manufacturer)" in colleagues
    changed = submit(
        client,
        f"/p/{slug}/colleagues/{colleague.user_id}/roles",
        {"roles": ["member", "dealer_buyer"]},
        form_page=f"/p/{slug}/colleagues",  # type: ignore[dict-item]
    )
    assert changed.status_code in REDIRECTS, changed.text
    assert api_roles(client, world, colleague.user_id) == ["dealer_buyer", "member", "service_engineer"]


def test_partner_admin_cannot_reach_another_enterprises_people(client: TestClient, world: World) -> None:
    colleague = world.x.people["colleague"]
    act_as(client, world.y.admin.cookie)
    slug = world.a.slug
    response = submit(
        client, f"/p/{slug}/colleagues/{colleague.user_id}/roles", {"role": "member"}, form_page=f"/p/{slug}/colleagues"
    )
    assert response.status_code == 404
    assert colleague.email not in response.text


def test_member_without_admin_rights_cannot_change_roles(client: TestClient, world: World) -> None:
    colleague = world.x.people["colleague"]
    act_as(client, colleague.cookie)
    slug = world.a.slug
    response = submit(
        client, f"/p/{slug}/colleagues/{world.x.admin.user_id}/roles", {"role": "member"}, form_page=f"/p/{slug}/"
    )
    assert response.status_code == 403


def test_partner_home_lists_roles_and_the_apps_they_open(client: TestClient, world: World) -> None:
    act_as(client, world.x.admin.cookie)
    home = text_of(page(client, f"/p/{world.a.slug}/"))
    assert "Your roles" in home
    assert "Enterprise admin" in home
    assert f'href="/p/{world.a.slug}/ordering/catalog">Ordering</a>' in home
    assert f'href="/p/{world.a.slug}/service">Service</a>' in home  # the world's dealer admins have it
    assert "Academy" not in home  # apps that are not built are not advertised
    assert f'href="/p/{world.a.slug}/announcements"' in home  # announcements are built: the home shows them

    colleague = world.x.people["colleague"]
    given = client.put(
        f"/api/interconnect/users/{colleague.user_id}/roles",
        headers=world.a.admin.bearer,
        json={"roles": ["member", "dealer_buyer"]},
    )
    assert given.status_code == 200, given.text
    act_as(client, colleague.cookie)
    member_home = text_of(page(client, f"/p/{world.a.slug}/", headers=ZH))
    assert "您的角色" in member_home  # "Your roles"
    assert "经销商采购员" in member_home and "成员" in member_home  # "Dealer buyer", "Member"
    assert '/ordering/catalog">订货</a>' in member_home  # the app they open: "Ordering", as a link
    assert "商机报备" not in member_home  # "Deal registration": not opened by these roles
    assert "服务通" not in member_home  # "Service": nor the service app
