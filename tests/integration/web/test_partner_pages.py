"""The partner programme's pages, driven through HTTP like a browser: the upstream's console pages
(programme, enterprises, invitations, bulk import) and the partner portal (sign-in, home, workspace
switcher, invitations, set-password links, colleagues)."""

from __future__ import annotations

import html
import re
import uuid

from httpx import Response
from litestar.testing import TestClient

from portal.config import Settings
from tests.integration.interconnect.support import expire_invitation
from tests.integration.web.test_pages import REDIRECTS, act_as, assert_readable_page, submit
from tests.world import (
    PASSWORD,
    World,
    add_user,
    background_jobs_ended,
    complete_setup,
    partner_type_id,
    partner_web_login,
    web_login,
)

SESSION = "portal_session"


# --- Helpers --------------------------------------------------------------------------------------


def page(client: TestClient, path: str, **kwargs: object) -> Response:
    response = client.get(path, follow_redirects=False, **kwargs)  # type: ignore[arg-type]
    assert response.status_code == 200, f"{path}: {response.status_code} {response.text[:300]}"
    assert response.headers["content-type"].startswith("text/html")
    return response


def text_of(response: Response) -> str:
    """The page's text with entities decoded (names with apostrophes are escaped in HTML)."""
    return html.unescape(response.text)


def session_cookie_of(response: Response) -> str:
    cookie = response.cookies.get(SESSION)
    assert cookie, response.headers.get_list("set-cookie")
    return cookie


def create_invitation(client: TestClient, world: World, kind: str = "link", **extra: object) -> dict[str, object]:
    response = client.post(
        "/api/interconnect/invitations",
        headers=world.a.admin.bearer,
        json={"kind": kind, "partner_type_id": partner_type_id(client, world.a.admin), **extra},
    )
    assert response.status_code == 201, response.text
    return response.json()


def token_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


def join_form(**overrides: str) -> dict[str, str]:
    suffix = uuid.uuid4().hex[:6]
    return {
        "enterprise_name": f"Joiner {suffix}",
        "display_name": f"Jo {suffix}",
        "email": f"jo-{suffix}@joiner.example",
        "mobile": "",
        "password": PASSWORD,
        **overrides,
    }


def new_enterprise(client: TestClient, world: World, tenant: str = "a", admin_email: str | None = None) -> dict:
    owner = world.a if tenant == "a" else world.b
    body: dict[str, object] = {
        "name": f"Made {uuid.uuid4().hex[:6]}",
        "partner_type_id": partner_type_id(client, owner.admin),
    }
    if admin_email:
        body["admin"] = {"display_name": "Made admin", "email": admin_email}
    response = client.post("/api/interconnect/enterprises", headers=owner.admin.bearer, json=body)
    assert response.status_code == 201, response.text
    return response.json()


# --- Console: partner programme -------------------------------------------------------------------


def test_console_partner_pages_show_own_tenant_only(client: TestClient, world: World) -> None:
    act_as(client, world.a.admin.cookie)
    for path in (
        "/console/partners",
        "/console/partners/programme",
        "/console/partners/invitations",
        "/console/partners/new",
        "/console/partners/import",
        f"/console/partners/enterprises/{world.x.link_id}",
    ):
        response = page(client, path)
        for marker in (world.b.name, world.b.slug, world.b.admin.email):
            assert marker not in response.text, (path, marker)
    listing = text_of(page(client, "/console/partners"))
    assert world.x.name in listing and world.y.name in listing
    detail = text_of(page(client, f"/console/partners/enterprises/{world.x.link_id}"))
    assert world.x.admin.email in detail and world.x.people["colleague"].email in detail
    assert world.y.admin.email not in detail


def test_another_tenants_admin_sees_none_of_a_on_console_pages(client: TestClient, world: World) -> None:
    act_as(client, world.b.admin.cookie)
    listing = page(client, "/console/partners").text
    for marker in (world.x.name, world.y.name, world.a.name):
        assert marker not in listing
    response = client.get(f"/console/partners/enterprises/{world.x.link_id}", follow_redirects=False)
    assert_readable_page(response, 404, "No such enterprise")
    assert world.x.name not in response.text


def test_console_home_shows_quota_usage(client: TestClient, world: World) -> None:
    act_as(client, world.a.admin.cookie)
    home = page(client, "/console").text
    assert "Interconnect quota" in home
    assert "5 of 50" in home  # X and Y, the service partners FixIt and Other, North (its own workspace)
    assert "6 of 500" in home  # X's admin and colleague, Y's admin, FixIt's admin and engineer, Other's admin
    assert 'role="progressbar"' in home


def test_read_only_staff_sees_lists_without_forms_and_cannot_create(client: TestClient, world: World) -> None:
    act_as(client, world.a.others["staff"].cookie)
    listing = page(client, "/console/partners").text
    assert "/console/partners/new" not in listing
    detail = page(client, f"/console/partners/enterprises/{world.x.link_id}").text
    assert "/status" not in detail
    response = submit(
        client,
        "/console/partners/programme/regions",
        {"code": "north", "name": "North"},
        form_page="/console/partners/programme",
    )
    assert_readable_page(response, 403, "You do not have permission to do this")


def test_programme_types_tiers_and_regions(client: TestClient, world: World) -> None:
    act_as(client, world.a.admin.cookie)
    programme = "/console/partners/programme"
    response = submit(client, f"{programme}/types", {"code": "installer", "name": "Installer"}, form_page=programme)
    assert response.status_code in REDIRECTS, response.text
    response = submit(
        client, f"{programme}/tiers", {"code": "platinum", "name": "Platinum", "rank": "40"}, form_page=programme
    )
    assert response.status_code in REDIRECTS, response.text
    response = submit(client, f"{programme}/regions", {"code": "north-east", "name": "North-East"}, form_page=programme)
    assert response.status_code in REDIRECTS, response.text
    text = page(client, programme).text
    for expected in ("installer", "Installer", "platinum", "Platinum", "north-east", "North-East"):
        assert expected in text

    duplicate = submit(client, f"{programme}/regions", {"code": "north-east", "name": "Again"}, form_page=programme)
    assert duplicate.status_code == 409
    assert "This code is already used" in duplicate.text
    bad = submit(client, f"{programme}/types", {"code": "Not A Code!", "name": "X"}, form_page=programme)
    assert bad.status_code == 422
    assert "must be 1 to 40 lowercase letters" in bad.text

    types = client.get("/api/interconnect/partner-types", headers=world.a.admin.bearer).json()
    installer = next(t for t in types if t["code"] == "installer")
    response = submit(
        client, f"{programme}/types/{installer['id']}", {"name": "Certified installer"}, form_page=programme
    )
    assert response.status_code in REDIRECTS, response.text
    response = submit(client, f"{programme}/types/{installer['id']}", {"active": "0"}, form_page=programme)
    assert response.status_code in REDIRECTS, response.text
    types = client.get("/api/interconnect/partner-types", headers=world.a.admin.bearer).json()
    installer = next(t for t in types if t["code"] == "installer")
    assert installer["name"] == "Certified installer" and installer["active"] is False
    # a deactivated type is not offered for new enterprises
    assert "Certified installer" not in page(client, "/console/partners/new").text

    tier = client.get("/api/interconnect/tiers", headers=world.a.admin.bearer).json()[-1]
    response = submit(client, f"{programme}/tiers/{tier['id']}", {"name": "Copper", "rank": "5"}, form_page=programme)
    assert response.status_code in REDIRECTS, response.text
    tiers = {t["id"]: t for t in client.get("/api/interconnect/tiers", headers=world.a.admin.bearer).json()}
    assert tiers[tier["id"]]["name"] == "Copper" and tiers[tier["id"]]["rank"] == 5

    # B cannot rename A's type
    act_as(client, world.b.admin.cookie)
    response = submit(client, f"{programme}/types/{installer['id']}", {"name": "Hijacked"}, form_page=programme)
    assert response.status_code == 404


# --- Console: enterprises -------------------------------------------------------------------------


def test_enterprise_list_search_filters_and_pages(client: TestClient, world: World) -> None:
    names = []
    for index in range(21):
        names.append(f"Paged {index:02d} {uuid.uuid4().hex[:4]}")
        response = client.post(
            "/api/interconnect/enterprises",
            headers=world.a.admin.bearer,
            json={"name": names[-1], "partner_type_id": partner_type_id(client, world.a.admin, "store")},
        )
        assert response.status_code == 201, response.text
    act_as(client, world.a.admin.cookie)

    found = text_of(page(client, "/console/partners", params={"q": world.x.name}))
    assert world.x.name in found and world.y.name not in found
    assert "(1)" in found

    stores = page(client, "/console/partners", params={"type": partner_type_id(client, world.a.admin, "store")})
    assert "(21)" in stores.text
    assert 'rel="next"' in stores.text and "page=2" in stores.text
    store_type = partner_type_id(client, world.a.admin, "store")
    second = text_of(page(client, "/console/partners", params={"type": store_type, "page": "2"}))
    assert names[20] in second and names[0] not in second
    assert world.x.name not in second

    none = page(client, "/console/partners", params={"status": "suspended"})
    assert "No enterprise matches these filters." in none.text
    # unreadable filter values are ignored, not errors
    assert page(client, "/console/partners", params={"type": "nonsense", "page": "-3"}).status_code == 200


def test_create_enterprise_shows_a_working_set_password_link(client: TestClient, world: World) -> None:
    act_as(client, world.a.admin.cookie)
    email = f"first-{uuid.uuid4().hex[:6]}@east.example"
    name = f"East Dealer {uuid.uuid4().hex[:6]}"
    response = submit(
        client,
        "/console/partners/new",
        {
            "name": name,
            "partner_type": partner_type_id(client, world.a.admin),
            "tier": "",
            "region": "",
            "parent": world.x.link_id,
            "admin_name": "Eve East",
            "admin_email": email,
        },
    )
    assert response.status_code == 201, response.text
    match = re.search(r'value="(http://testserver\.local/setup/[^"]+)"', response.text)
    assert match, response.text
    setup_path = match.group(1).removeprefix("http://testserver.local")
    assert "data-copy" in response.text

    act_as(client, None)
    form = page(client, setup_path)
    assert "Eve East" in form.text and world.a.name in text_of(form)
    mismatch = submit(client, setup_path, {"password": PASSWORD, "password_confirm": "something else entirely"})
    assert mismatch.status_code == 422 and "The two passwords are not the same" in mismatch.text
    weak = submit(client, setup_path, {"password": "short", "password_confirm": "short"})
    assert weak.status_code == 422 and "must be at least" in weak.text
    done = submit(client, setup_path, {"password": PASSWORD, "password_confirm": PASSWORD})
    assert done.status_code in REDIRECTS, done.text
    assert done.headers["location"] == f"/p/{world.a.slug}/login?password_set=1"
    assert "Your password is set" in page(client, done.headers["location"]).text

    again = client.get(setup_path)
    assert_readable_page(again, 410, "This link was already used; sign in instead")

    act_as(client, partner_web_login(client, world.a.slug, email))
    home = text_of(page(client, f"/p/{world.a.slug}/"))
    assert name in home and "Enterprise admin" in home

    act_as(client, world.a.admin.cookie)
    parent = text_of(page(client, f"/console/partners/enterprises/{world.x.link_id}"))
    assert name in parent  # listed as X's sub-enterprise


def test_create_enterprise_form_errors_keep_input(client: TestClient, world: World) -> None:
    act_as(client, world.a.admin.cookie)
    response = submit(
        client,
        "/console/partners/new",
        {"name": "", "partner_type": partner_type_id(client, world.a.admin), "admin_name": "No Contact"},
    )
    assert response.status_code == 422
    assert re.search(r'id="name-error">is required<', response.text)
    assert re.search(r'id="admin_email-error">an email or a mobile number is required<', response.text)
    assert 'value="No Contact"' in response.text

    foreign_type = partner_type_id(client, world.b.admin)
    response = submit(client, "/console/partners/new", {"name": "Sneaky", "partner_type": foreign_type})
    assert response.status_code == 422
    assert "is not an active partner type of this programme" in response.text


def test_partner_type_is_chosen_by_the_person_and_required_fields_are_marked(client: TestClient, world: World) -> None:
    act_as(client, world.a.admin.cookie)
    for path in ("/console/partners/new", "/console/partners/invitations"):
        form = page(client, path).text
        select = re.search(
            r'<label class="field([^"]*)">\s*<span>Partner type</span>\s*'
            r'<select name="partner_type"([^>]*)>\s*(<option[^>]*>[^<]*</option>)',
            form,
        )
        assert select, path
        assert "required" in select.group(1).split() and "required" in select.group(2), select.group(0)
        assert select.group(3) == '<option value="">Choose…</option>', select.group(0)
        assert "selected" not in form.split('name="partner_type"', 1)[1].split("</select>", 1)[0]
    new = page(client, "/console/partners/new").text
    assert re.search(r'<label class="field required">\s*<span>Name</span>', new)
    assert re.search(r'<label class="field">\s*<span>Code</span>', new)  # optional: not marked

    refused = submit(client, "/console/partners/new", {"name": "No Type", "partner_type": ""})
    assert refused.status_code == 422 and re.search(r'id="partner_type-error">is required<', refused.text)
    refused = submit(client, "/console/partners/invitations", {"kind": "link", "partner_type": ""})
    assert refused.status_code == 422 and re.search(r'id="partner_type-error">is required<', refused.text)


def test_an_invitation_form_with_wrong_uses_and_days_names_both(client: TestClient, world: World) -> None:
    act_as(client, world.a.admin.cookie)
    type_id = partner_type_id(client, world.a.admin)
    form = {"kind": "link", "partner_type": type_id, "max_uses": "-1", "days": "999"}
    refused = submit(client, "/console/partners/invitations", form)
    assert refused.status_code == 422
    assert re.search(r'id="max_uses-error">must be at least 1<', refused.text)
    assert re.search(r'id="days-error">must be between 1 and 365<', refused.text)
    body = {"kind": "link", "partner_type_id": type_id, "max_uses": -1, "expires_in_days": 999}
    api = client.post("/api/interconnect/invitations", headers=world.a.admin.bearer, json=body)
    assert api.status_code == 422
    assert [e["field"] for e in api.json()["errors"]] == ["max_uses", "expires_in_days"]


def test_invalid_setup_links_are_readable(client: TestClient) -> None:
    assert_readable_page(client.get("/setup/not-a-link"), 404, "This link is not valid")
    forged = f"/setup/{uuid.uuid4().hex}.{uuid.uuid4().hex}.secret"
    assert_readable_page(client.get(forged), 404, "This link is not valid")


def test_suspending_on_the_detail_page_ends_the_partners_sessions(client: TestClient, world: World) -> None:
    portal = f"/p/{world.a.slug}/"
    act_as(client, world.x.admin.cookie)
    assert page(client, portal)
    act_as(client, world.x.people["colleague"].cookie)
    assert page(client, portal)

    act_as(client, world.a.admin.cookie)
    detail = f"/console/partners/enterprises/{world.x.link_id}"
    response = submit(
        client, f"{detail}/status", {"status": "suspended", "reason": "Unpaid invoices"}, form_page=detail
    )
    assert response.status_code in REDIRECTS, response.text
    text = text_of(page(client, detail))
    assert "Suspended" in text and "Unpaid invoices" in text and "alpha admin" in text  # who, when, why

    for cookie in (world.x.admin.cookie, world.x.people["colleague"].cookie):
        act_as(client, cookie)
        response = client.get(portal, follow_redirects=False)
        assert response.status_code in REDIRECTS
        assert response.headers["location"].startswith("/login")
    act_as(client, world.y.admin.cookie)  # another enterprise is untouched
    assert page(client, portal)

    act_as(client, world.a.admin.cookie)
    response = submit(client, f"{detail}/status", {"status": "active", "reason": "Paid"}, form_page=detail)
    assert response.status_code in REDIRECTS, response.text
    act_as(client, partner_web_login(client, world.a.slug, world.x.admin.email))
    assert page(client, portal)


def test_terminating_needs_the_confirmation_page(client: TestClient, world: World) -> None:
    act_as(client, world.a.admin.cookie)
    detail = f"/console/partners/enterprises/{world.y.link_id}"
    response = submit(client, f"{detail}/status", {"status": "terminated"}, form_page=detail)
    assert response.status_code in REDIRECTS
    assert response.headers["location"] == f"{detail}/terminate"
    assert "Active" in text_of(page(client, detail))  # nothing happened yet

    confirm = page(client, f"{detail}/terminate")
    assert "This cannot be undone" in confirm.text
    response = submit(
        client,
        f"{detail}/status",
        {"status": "terminated", "confirm": "yes", "reason": "Closed"},
        form_page=confirm.url.path,
    )
    assert response.status_code in REDIRECTS, response.text
    text = text_of(page(client, detail))
    assert "Terminated" in text and "Closed" in text
    act_as(client, world.y.admin.cookie)
    assert client.get(f"/p/{world.a.slug}/", follow_redirects=False).status_code in REDIRECTS


def test_disabling_an_external_user_from_the_console(client: TestClient, world: World) -> None:
    colleague = world.x.people["colleague"]
    act_as(client, world.a.admin.cookie)
    detail = f"/console/partners/enterprises/{world.x.link_id}"
    response = submit(
        client, f"/console/partners/users/{colleague.user_id}/status", {"status": "disabled"}, form_page=detail
    )
    assert response.status_code in REDIRECTS, response.text
    assert response.headers["location"].startswith(detail)
    act_as(client, colleague.cookie)
    assert client.get(f"/p/{world.a.slug}/", follow_redirects=False).status_code in REDIRECTS

    act_as(client, world.b.admin.cookie)
    response = submit(
        client, f"/console/partners/users/{colleague.user_id}/status", {"status": "active"}, form_page="/console"
    )
    assert response.status_code == 404


# --- Console: invitations and accepting them ----------------------------------------------------------


def test_invitation_link_with_qr_code_accepted_through_the_join_page(client: TestClient, world: World) -> None:
    act_as(client, world.a.admin.cookie)
    invitations = "/console/partners/invitations"
    response = submit(
        client,
        invitations,
        {
            "kind": "link",
            "partner_type": partner_type_id(client, world.a.admin, "distributor"),
            "max_uses": "",
            "days": "7",
        },
    )
    assert response.status_code in REDIRECTS, response.text
    listing = page(client, response.headers["location"])
    assert "Invitation created" in listing.text
    assert "<svg" in listing.text and "<path" in listing.text  # the QR code, inline
    assert "<img" not in listing.text.split("<main", 1)[1]
    urls = re.findall(r'value="(http://testserver\.local/join/[^"]+)"', listing.text)
    assert urls
    join_path = "/join/" + token_of(urls[0])

    act_as(client, None)
    preview = text_of(page(client, join_path))
    assert world.a.name in preview and "Distributor" in preview
    form = join_form()
    response = submit(client, join_path, form)
    assert response.status_code in REDIRECTS, response.text
    assert response.headers["location"].startswith(f"/p/{world.a.slug}/")
    act_as(client, session_cookie_of(response))
    home = text_of(page(client, response.headers["location"]))
    assert form["enterprise_name"] in home and "Enterprise admin" in home
    assert "Welcome" in home

    act_as(client, world.a.admin.cookie)
    assert form["enterprise_name"] in text_of(page(client, "/console/partners"))


def test_join_form_errors_are_shown_on_the_form(client: TestClient, world: World) -> None:
    join_path = "/join/" + token_of(str(create_invitation(client, world)["url"]))
    response = submit(client, join_path, join_form(email="", password="short"))
    assert response.status_code == 422
    assert re.search(r'id="email-error">an email or a mobile number is required<', response.text)
    assert re.search(r'id="password-error">must be at least 10 characters<', response.text)
    response = submit(client, join_path, join_form(enterprise_name=""))
    assert response.status_code == 422
    assert re.search(r'id="enterprise_name-error">is required<', response.text)
    # the invitation was not used up by the refused attempt
    response = submit(client, join_path, join_form())
    assert response.status_code in REDIRECTS, response.text


def test_unusable_invitations_give_readable_messages(client: TestClient, world: World, settings: Settings) -> None:
    act_as(client, world.a.admin.cookie)
    revoked = create_invitation(client, world)
    response = submit(
        client, f"/console/partners/invitations/{revoked['id']}/revoke", {}, form_page="/console/partners/invitations"
    )
    assert response.status_code in REDIRECTS, response.text
    assert str(revoked["url"]) not in page(client, "/console/partners/invitations").text

    expired = create_invitation(client, world, expires_in_days=1)
    expire_invitation(settings, str(expired["id"]))
    used = create_invitation(client, world, max_uses=1)
    act_as(client, None)
    assert submit(client, "/join/" + token_of(str(used["url"])), join_form()).status_code in REDIRECTS

    act_as(client, None)
    cases = (
        (revoked, 410, "This invitation was withdrawn by the manufacturer"),
        (expired, 410, "This invitation has expired; ask for a new one"),
        (used, 410, "This invitation has already been used"),
    )
    for invitation, status, message in cases:
        path = "/join/" + token_of(str(invitation["url"]))
        assert_readable_page(client.get(path), status, message)
        response = submit(client, path, join_form(), form_page=f"/p/{world.a.slug}/login")
        assert_readable_page(response, status, message)
    mistyped = "/join/" + token_of(str(used["url"]))[:-3] + "abc"
    assert_readable_page(client.get(mistyped), 404, "This invitation link is not valid")
    assert_readable_page(client.get("/join/nonsense"), 404, "This invitation link is not valid")


def test_join_with_an_invite_code(client: TestClient, world: World) -> None:
    code = str(create_invitation(client, world, "code")["code"])
    join = f"/p/{world.a.slug}/join"
    act_as(client, None)
    blank = page(client, join)
    assert 'name="code"' in blank.text and world.a.name in text_of(blank)
    prefilled = page(client, join, params={"code": code})
    assert f'value="{code}"' in prefilled.text and "Dealer" in prefilled.text

    wrong = submit(client, join, {**join_form(), "code": "ZZZZ-ZZZZ"})
    assert wrong.status_code == 422
    assert "is not a valid invite code" in wrong.text

    form = {**join_form(), "code": code.lower()}
    response = submit(client, join, form)
    assert response.status_code in REDIRECTS, response.text
    act_as(client, session_cookie_of(response))
    assert form["enterprise_name"] in text_of(page(client, f"/p/{world.a.slug}/"))
    # a code serves many partners
    act_as(client, None)
    assert submit(client, join, {**join_form(), "code": code}).status_code in REDIRECTS
    assert_readable_page(client.get("/p/no-such-portal-here/join"), 404, "No such partner portal")


def test_an_admin_of_another_workspace_connects_it(client: TestClient, world: World) -> None:
    join_path = "/join/" + token_of(str(create_invitation(client, world)["url"]))
    act_as(client, world.b.admin.cookie)
    preview = text_of(page(client, join_path))
    assert f"Connect {world.b.name}" in preview
    response = submit(
        client,
        join_path,
        {"action": "connect", "display_name": "Beta admin", "email": world.b.admin.email, "password": PASSWORD},
    )
    assert response.status_code in REDIRECTS, response.text
    act_as(client, session_cookie_of(response))
    assert world.b.name in text_of(page(client, f"/p/{world.a.slug}/"))

    act_as(client, world.a.admin.cookie)
    listing = text_of(page(client, "/console/partners", params={"q": world.b.name}))
    assert world.b.name in listing and "(1)" in listing
    # nobody else is offered to connect: an anonymous visitor, a partner
    act_as(client, world.x.admin.cookie)
    other = create_invitation(client, world)
    assert "Connect " not in page(client, "/join/" + token_of(str(other["url"]))).text


def test_who_may_connect_a_workspace_is_the_policys_answer_on_the_page_and_in_the_service(
    client: TestClient, world: World
) -> None:
    """Running the partner programme, not holding a role called "admin", lets staff connect their workspace:
    the page offers exactly what the service then allows."""
    b = world.b.admin.bearer
    runner = {"key": "programme_runner", "name": "Programme runner", "kind": "internal"}
    assert client.post("/api/roles", headers=b, json=runner).status_code == 201
    grants = {"grants": [["console", "read"], ["interconnect.programme", "read"], ["interconnect.programme", "update"]]}
    assert client.patch("/api/roles/programme_runner", headers=b, json=grants).status_code == 200
    cookies = {}
    for role in ("programme_runner", "staff"):
        email = f"{role}-{uuid.uuid4().hex[:6]}@{world.b.slug}.example"
        add_user(client, world.b.admin, email, role=role)
        cookies[role] = (email, web_login(client, world.b.slug, email))

    join_path = "/join/" + token_of(str(create_invitation(client, world)["url"]))
    email, cookie = cookies["staff"]
    act_as(client, cookie)
    assert "Connect " not in page(client, join_path).text
    form = {"action": "connect", "display_name": "Beta staff", "email": email, "password": PASSWORD}
    refused = submit(client, join_path, form)
    assert refused.status_code == 403, refused.text

    email, cookie = cookies["programme_runner"]
    act_as(client, cookie)
    assert f"Connect {world.b.name}" in text_of(page(client, join_path))
    response = submit(client, join_path, {**form, "display_name": "Beta runner", "email": email})
    assert response.status_code in REDIRECTS, response.text


# --- Partner portal -----------------------------------------------------------------------------------


def test_partner_sign_in_page_and_sign_out(client: TestClient, world: World) -> None:
    login = f"/p/{world.a.slug}/login"
    act_as(client, None)
    form = page(client, login)
    assert world.a.name in text_of(form) and 'name="login"' in form.text
    wrong = submit(client, login, {"login": world.x.admin.email, "password": "not the password at all"})
    assert_readable_page(wrong, 401, "The sign-in name or password is not correct")
    # a staff login is not a partner login
    staff = submit(client, login, {"login": world.a.admin.email, "password": PASSWORD})
    assert staff.status_code == 401

    response = submit(client, login, {"login": world.x.admin.email, "password": PASSWORD, "next": "/console"})
    assert response.status_code in REDIRECTS, response.text
    assert response.headers["location"] == f"/p/{world.a.slug}/"  # only pages of this portal
    cookie = session_cookie_of(response)
    act_as(client, cookie)
    assert client.get(login, follow_redirects=False).headers["location"] == f"/p/{world.a.slug}/"
    home = page(client, f"/p/{world.a.slug}/")
    response = submit(client, f"/p/{world.a.slug}/logout", {}, form_page=home.url.path)
    assert response.status_code in REDIRECTS
    assert response.headers["location"] == login
    act_as(client, cookie)
    assert client.get(f"/p/{world.a.slug}/", follow_redirects=False).status_code in REDIRECTS

    # `next` is read as the browser resolves it: dot segments and repeated slashes do not leave the portal
    for given, lands in (
        (f"/p/{world.a.slug}/../..//evil.example/x", f"/p/{world.a.slug}/"),
        (f"/p/{world.a.slug}/%2e%2e/{world.b.slug}/", f"/p/{world.a.slug}/"),
        (f"/p/{world.a.slug}/x/../ordering//orders?status=placed", f"/p/{world.a.slug}/ordering/orders?status=placed"),
    ):
        act_as(client, None)
        signed = submit(client, login, {"login": world.x.admin.email, "password": PASSWORD, "next": given})
        assert signed.status_code in REDIRECTS and signed.headers["location"] == lands, (given, signed.headers)


def test_partner_pages_send_anonymous_visitors_to_the_portals_login(client: TestClient, world: World) -> None:
    act_as(client, None)
    response = client.get(f"/p/{world.a.slug}/colleagues", follow_redirects=False)
    assert response.status_code in REDIRECTS
    response = client.get(response.headers["location"], follow_redirects=False)
    assert response.status_code in REDIRECTS
    assert response.headers["location"].startswith(f"/p/{world.a.slug}/login?next=")
    assert "colleagues" in response.headers["location"]


def test_partner_home_shows_enterprise_and_role(client: TestClient, world: World) -> None:
    act_as(client, world.x.people["colleague"].cookie)
    home = text_of(page(client, f"/p/{world.a.slug}/"))
    assert world.x.name in home and "Member" in home
    assert f"/p/{world.a.slug}/colleagues" not in home  # not an enterprise admin
    assert world.y.name not in home
    act_as(client, world.x.admin.cookie)
    home = text_of(page(client, f"/p/{world.a.slug}/"))
    assert "Enterprise admin" in home and f"/p/{world.a.slug}/colleagues" in home


def test_a_session_of_another_tenant_is_not_signed_in_here(client: TestClient, world: World) -> None:
    email = f"b-only-{uuid.uuid4().hex[:6]}@partner.example"
    created = new_enterprise(client, world, "b", admin_email=email)
    complete_setup(client, created["setup_url"])
    b_cookie = partner_web_login(client, world.b.slug, email)
    act_as(client, b_cookie)
    assert created["enterprise"]["name"] in text_of(page(client, f"/p/{world.b.slug}/"))

    for path in (f"/p/{world.a.slug}/", f"/p/{world.a.slug}/colleagues"):
        response = client.get(path, follow_redirects=True)
        assert response.url.path == f"/p/{world.a.slug}/login"
        assert created["enterprise"]["name"] not in response.text
        for marker in (world.x.name, world.y.name, world.x.admin.email):
            assert marker not in response.text


def test_workspace_switcher_for_a_person_in_two_tenants(client: TestClient, world: World) -> None:
    # X's admin also works for a partner of tenant B, with the same login.
    created = new_enterprise(client, world, "b", admin_email=world.x.admin.email)
    # an existing login gets the same answer as a new person, and joins B only by accepting with it
    accepted = client.post(
        "/api/partner/setup/accept", json={"token": created["setup_url"].rsplit("/", 1)[1], "password": PASSWORD}
    )
    assert accepted.status_code == 200, accepted.text
    b_name = created["enterprise"]["name"]

    act_as(client, world.x.admin.cookie)
    home = text_of(page(client, f"/p/{world.a.slug}/"))
    assert world.b.name in home and 'name="workspace"' in home
    response = submit(client, f"/p/{world.a.slug}/switch", {"workspace": world.b.slug}, form_page=f"/p/{world.a.slug}/")
    assert response.status_code in REDIRECTS, response.text
    assert response.headers["location"] == f"/p/{world.b.slug}/"
    b_cookie = session_cookie_of(response)
    act_as(client, b_cookie)
    home = text_of(page(client, f"/p/{world.b.slug}/"))
    assert b_name in home and world.x.name not in home
    # the session it replaced is over; A's portal needs the switch back
    act_as(client, world.x.admin.cookie)
    assert client.get(f"/p/{world.a.slug}/", follow_redirects=False).status_code in REDIRECTS
    act_as(client, b_cookie)
    response = submit(client, f"/p/{world.b.slug}/switch", {"workspace": world.a.slug}, form_page=f"/p/{world.b.slug}/")
    assert response.status_code in REDIRECTS, response.text
    act_as(client, session_cookie_of(response))
    assert world.x.name in text_of(page(client, f"/p/{world.a.slug}/"))

    # Y's admin has no membership in B: switching there is refused
    act_as(client, world.y.admin.cookie)
    response = submit(client, f"/p/{world.a.slug}/switch", {"workspace": world.b.slug}, form_page=f"/p/{world.a.slug}/")
    assert_readable_page(response, 409, "You have no access to this partner portal")


def test_a_person_signed_in_to_one_manufacturer_opens_another_they_serve(client: TestClient, world: World) -> None:
    created = new_enterprise(client, world, "b", admin_email=world.x.admin.email)
    accepted = client.post(
        "/api/partner/setup/accept", json={"token": created["setup_url"].rsplit("/", 1)[1], "password": PASSWORD}
    )
    assert accepted.status_code == 200, accepted.text
    act_as(client, world.x.admin.cookie)
    response = client.get(f"/p/{world.b.slug}/", follow_redirects=True)
    assert response.status_code == 200
    assert response.url.path == f"/p/{world.b.slug}/"  # no sign-in form on the way
    home = text_of(response)
    assert created["enterprise"]["name"] in home and world.x.name not in home
    # Y's admin serves A only: B's portal still asks for a sign-in, and shows nothing of B
    act_as(client, world.y.admin.cookie)
    response = client.get(f"/p/{world.b.slug}/", follow_redirects=True)
    assert response.url.path == f"/p/{world.b.slug}/login"
    assert created["enterprise"]["name"] not in response.text


def test_colleagues_page_for_enterprise_admins(client: TestClient, world: World) -> None:
    colleagues = f"/p/{world.a.slug}/colleagues"
    act_as(client, world.x.admin.cookie)
    listing = page(client, colleagues).text
    assert world.x.admin.email in listing and world.x.people["colleague"].email in listing
    assert world.y.admin.email not in listing and world.y.name not in listing

    email = f"new-colleague-{uuid.uuid4().hex[:6]}@partner.example"
    response = submit(client, colleagues, {"display_name": "Nate Buyer", "email": email, "title": "Buyer"})
    assert response.status_code == 201, response.text
    match = re.search(r'value="(http://testserver\.local/setup/[^"]+)"', response.text)
    assert match and email in response.text
    complete_setup(client, match.group(1))
    assert partner_web_login(client, world.a.slug, email)

    bad = submit(client, colleagues, {"display_name": "", "email": "nobody"})
    assert bad.status_code == 422 and "is not a valid email address" in bad.text

    # a plain member cannot manage colleagues
    act_as(client, world.x.people["colleague"].cookie)
    assert_readable_page(client.get(colleagues), 403, "You do not have permission to do this")


def test_another_enterprises_admin_cannot_act_on_xs_colleague(client: TestClient, world: World) -> None:
    colleague = world.x.people["colleague"]
    act_as(client, world.y.admin.cookie)
    response = submit(
        client,
        f"/p/{world.a.slug}/colleagues/{colleague.user_id}/status",
        {"status": "disabled"},
        form_page=f"/p/{world.a.slug}/colleagues",
    )
    assert_readable_page(response, 404, "No such user")
    act_as(client, colleague.cookie)
    assert page(client, f"/p/{world.a.slug}/")  # still signed in


def test_enterprise_admin_disables_and_enables_a_colleague(client: TestClient, world: World) -> None:
    colleague = world.x.people["colleague"]
    colleagues = f"/p/{world.a.slug}/colleagues"
    act_as(client, world.x.admin.cookie)
    response = submit(client, f"{colleagues}/{colleague.user_id}/status", {"status": "disabled"}, form_page=colleagues)
    assert response.status_code in REDIRECTS, response.text
    act_as(client, colleague.cookie)
    assert client.get(f"/p/{world.a.slug}/", follow_redirects=False).status_code in REDIRECTS  # ended at once

    act_as(client, world.x.admin.cookie)
    myself = submit(
        client, f"{colleagues}/{world.x.admin.user_id}/status", {"status": "disabled"}, form_page=colleagues
    )
    assert_readable_page(myself, 409, "You cannot disable yourself")
    response = submit(client, f"{colleagues}/{colleague.user_id}/status", {"status": "active"}, form_page=colleagues)
    assert response.status_code in REDIRECTS, response.text
    assert partner_web_login(client, world.a.slug, colleague.email)


def test_partner_pages_in_chinese(client: TestClient, world: World) -> None:
    zh = {"Accept-Language": "zh-CN,zh;q=0.9"}
    act_as(client, None)
    login = page(client, f"/p/{world.a.slug}/login", headers=zh).text
    assert '<html lang="zh-CN"' in login
    assert "登录" in login and "邮箱或手机号" in login
    assert "Sign in" not in login
    act_as(client, world.x.admin.cookie)
    colleagues = page(client, f"/p/{world.a.slug}/colleagues", headers=zh).text
    assert "同事" in colleagues and "企业管理员" in colleagues
    act_as(client, world.a.admin.cookie)  # signed up in English: the admin chooses Chinese
    assert (
        submit(client, "/lang", {"language": "zh_CN", "next": "/console"}, form_page="/console").status_code
        in REDIRECTS
    )
    console = page(client, "/console/partners").text
    assert "伙伴企业" in console and "经销商" in console  # the preset type "Dealer", translated
    response = client.get("/join/nonsense", headers=zh)
    assert response.status_code == 404 and "邀请链接无效" in response.text


# --- Console: bulk import -----------------------------------------------------------------------------


def wait_for_job(client: TestClient, path: str) -> Response:
    assert background_jobs_ended(client), f"{path} still running"
    response = page(client, path)
    assert 'http-equiv="refresh"' not in response.text, f"{path} still running"
    return response


def test_bulk_import_with_progress_page_and_export(client: TestClient, world: World) -> None:
    act_as(client, world.a.admin.cookie)
    form = page(client, "/console/partners/import")
    assert 'enctype="multipart/form-data"' in form.text
    token = re.search(r'name="_csrf_token" value="([^"]+)"', form.text)
    assert token
    content = (
        "name,code,partner_type,admin_name,admin_email\n"
        f"Imported One,IMP-{uuid.uuid4().hex[:4]},dealer,Ivy Import,ivy-{uuid.uuid4().hex[:4]}@import.example\n"
        "Imported Two,,no-such-type,,\n"
    ).encode()
    response = client.post(
        "/console/partners/import",
        data={"mode": "valid_rows", "_csrf_token": token.group(1)},
        files={"file": ("partners.csv", content, "text/csv")},
        follow_redirects=False,
    )
    assert response.status_code in REDIRECTS, response.text
    job_page = response.headers["location"]
    assert job_page.startswith("/console/partners/import/")
    done = text_of(wait_for_job(client, job_page))
    assert "partners.csv" in done and "Finished" in done
    assert re.search(r'<span class="value">1</span><span class="label">Enterprises created', done)
    assert re.search(r"<td[^>]*>3</td>", done)  # the bad row, by its spreadsheet row number
    assert "partner_type" in done
    assert "Imported One" in text_of(page(client, "/console/partners"))

    act_as(client, world.b.admin.cookie)
    assert client.get(job_page, follow_redirects=False).status_code == 404

    act_as(client, world.a.admin.cookie)
    export = client.get("/console/partners/export.xlsx", follow_redirects=False)
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert export.content[:2] == b"PK"


def test_bulk_import_refuses_a_bad_file_on_the_form(client: TestClient, world: World) -> None:
    act_as(client, world.a.admin.cookie)
    form = page(client, "/console/partners/import")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', form.text)
    assert token
    response = client.post(
        "/console/partners/import",
        data={"mode": "all_or_nothing", "_csrf_token": token.group(1)},
        files={"file": ("partners.pdf", b"%PDF-1.4", "application/pdf")},
        follow_redirects=False,
    )
    assert response.status_code == 422, response.text
    assert 'id="file-error"' in response.text
    missing = client.post(
        "/console/partners/import",
        data={"mode": "all_or_nothing", "_csrf_token": token.group(1)},
        files={"other": ("x.txt", b"", "text/plain")},
        follow_redirects=False,
    )
    assert missing.status_code == 422 and 'id="file-error"' in missing.text
    not_multipart = submit(client, "/console/partners/import", {"mode": "valid_rows"})
    assert not_multipart.status_code == 422 and 'id="file-error"' in not_multipart.text


def test_people_pages_show_only_the_contact_details_this_upstream_was_given(client: TestClient, world: World) -> None:
    """A person known to another manufacturer by a mobile number: A's pages never show that number."""
    from tests.world import add_enterprise

    b_partner = add_enterprise(client, world.b, "B Dealer")
    mobile = f"139{uuid.uuid4().int % 10**8:08d}"
    # B knows the person by email and mobile; A only by the email
    added = client.post(
        "/api/partner/colleagues",
        headers=b_partner.admin.bearer,
        json={"display_name": "Shared Person", "email": f"shared-{uuid.uuid4().hex[:6]}@x.example", "mobile": mobile},
    )
    assert added.status_code == 201, added.text
    email = added.json()["colleague"]["email"]
    joined = client.post(
        "/api/partner/colleagues", headers=world.x.admin.bearer, json={"display_name": "Shared Person", "email": email}
    )
    assert joined.status_code == 201, joined.text
    client.cookies.set("portal_session", world.a.admin.cookie)
    detail = client.get(f"/console/partners/enterprises/{world.x.link_id}")
    assert email in detail.text and mobile not in detail.text
    client.cookies.clear()
    client.cookies.set("portal_session", world.x.admin.cookie)
    colleagues = client.get(f"/p/{world.a.slug}/colleagues")
    assert email in colleagues.text and mobile not in colleagues.text


def test_partner_home_links_only_the_apps_that_open(client: TestClient, world: World) -> None:
    slug = world.a.slug
    colleague = world.x.people["colleague"]
    given = client.put(
        f"/api/interconnect/users/{colleague.user_id}/roles",
        headers=world.a.admin.bearer,
        json={"roles": ["member", "dealer_buyer"]},
    )
    assert given.status_code == 200, given.text
    act_as(client, world.x.admin.cookie)
    home = page(client, f"/p/{slug}/").text
    links = dict(re.findall(r'<li><a href="(/p/[^"]+)">([^<]+)</a></li>', home))
    assert links[f"/p/{slug}/deals"] == "Deal registration" and links[f"/p/{slug}/ordering/catalog"] == "Ordering"

    act_as(client, colleague.cookie)
    home = page(client, f"/p/{slug}/").text
    apps_widget = home.split('data-widget="roles.apps"')[1].split("</article>")[0]
    apps = dict(re.findall(r'<li><a href="(/p/[^"]+)">([^<]+)</a></li>', apps_widget))
    assert apps == {f"/p/{slug}/ordering/catalog": "Ordering"}, apps  # a dealer buyer orders, registers no deals
    for href in apps:
        assert client.get(href, follow_redirects=False).status_code == 200
    for unbuilt in ("Service", "Academy"):
        assert unbuilt not in home

    # the deal app is not theirs: asking for it is refused inside the portal, with its brand and menu
    refused = client.get(f"/p/{slug}/deals", follow_redirects=False)
    assert_readable_page(refused, 403, "You do not have permission to do this")
    assert f'<a class="brand" href="/p/{slug}/">' in refused.text and world.a.name in refused.text
    assert f'href="/p/{slug}/ordering/catalog"' in refused.text  # the menu
    assert f'action="/p/{slug}/logout"' in refused.text
    missing = client.get(f"/p/{slug}/ordering/orders/{uuid.uuid4()}", follow_redirects=False)
    assert missing.status_code == 404 and f'<a class="brand" href="/p/{slug}/">' in missing.text

    # another tenant's portal, asked for with this session, shows nothing of this one
    elsewhere = client.get(f"/p/{world.b.slug}/no-such-page", follow_redirects=False)
    assert world.a.name not in elsewhere.text and f"/p/{slug}/" not in elsewhere.text


def test_a_partner_session_opening_the_console_is_sent_to_the_staff_sign_in(client: TestClient, world: World) -> None:
    act_as(client, world.x.admin.cookie)
    response = client.get("/console/partners", follow_redirects=True)
    assert response.status_code == 200
    assert response.url.path == "/login"
    assert "You are signed in to a partner portal" in response.text
    assert world.x.admin.email not in response.text


def test_an_unknown_address_inside_the_portal_keeps_the_portal(client: TestClient, world: World) -> None:
    act_as(client, world.x.admin.cookie)
    response = client.get(f"/p/{world.a.slug}/no-such-page/at-all")
    assert response.status_code == 404
    assert world.a.name in response.text and f'href="/p/{world.a.slug}/"' in response.text
