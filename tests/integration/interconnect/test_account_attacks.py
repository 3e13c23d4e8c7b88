"""The global partner login as an attacker sees it: a second manufacturer's set-password link, guessing
through every password check (in series, in parallel, from one address), learning whether a login
exists, joining someone to a programme without their consent, and locking a dealer out."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from litestar.testing import TestClient

from portal.config import Settings
from portal.http.app import create_app
from tests.conftest import BASE_URL, make_settings
from tests.integration.interconnect.support import (
    accept,
    add_colleague,
    bearer,
    create_invitation,
    invitation,
    new_email,
    setup_token,
    sign_in,
)
from tests.integration.web.test_pages import REDIRECTS, submit
from tests.world import PASSWORD, World, complete_setup, partner_type_id, sign_up

ATTACKER_PASSWORD = "attacker-chosen-password-1"
DEVICE_HEADER = "X-Portal-Device"


def direct_enterprise(client: TestClient, headers: dict[str, str], admin_email: str, type_id: str) -> dict[str, Any]:
    response = client.post(
        "/api/interconnect/enterprises",
        headers=headers,
        json={
            "name": f"Shop of {admin_email}",
            "partner_type_id": type_id,
            "admin": {"display_name": "Victim", "email": admin_email},
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def attacker_manufacturer(client: TestClient) -> tuple[str, dict[str, str]]:
    """Anyone may sign up as a manufacturer: the attacker's own workspace and its admin's token."""
    _tenant_id, slug, _name, _admin_id = sign_up(client, "mallory")
    token = client.post(
        "/api/auth/token", json={"workspace": slug, "email": f"admin@{slug}.example", "password": PASSWORD}
    ).json()["access_token"]
    return slug, bearer(token)


def shape(body: dict[str, Any]) -> tuple[Any, ...]:
    """What an answer tells about the person: everything but the ids, names and the link itself."""
    return (sorted(body), body["enterprise"]["status"], body["admin_id"] is not None, body["setup_url"] is not None)


def test_a_second_manufacturers_set_password_link_cannot_take_over_the_login(client: TestClient, world: World) -> None:
    victim = new_email("victim")
    mallory_slug, mallory = attacker_manufacturer(client)
    kept_link = direct_enterprise(client, mallory, victim, partner_type_id(client, _admin(mallory)))["setup_url"]
    acme_link = direct_enterprise(client, world.a.admin.bearer, victim, partner_type_id(client, world.a.admin))[
        "setup_url"
    ]
    complete_setup(client, acme_link)  # the victim sets a password with Acme's link
    assert sign_in(client, world.a.slug, victim).status_code == 200

    # the attacker's link no longer sets anything, over the API or on the page
    response = client.post("/api/partner/setup", json={"token": setup_token(kept_link), "password": ATTACKER_PASSWORD})
    assert response.status_code == 410, response.text
    assert response.json()["code"] == "password_already_set"
    path = f"/setup/{setup_token(kept_link)}"
    page = submit(client, path, {"password": ATTACKER_PASSWORD, "password_confirm": ATTACKER_PASSWORD})
    assert page.status_code == 410
    assert 'name="action" value="accept"' in page.text  # all it offers now: joining by signing in
    used = client.get(f"/setup/{setup_token(acme_link)}")
    assert used.status_code == 410
    assert f'href="/p/{world.a.slug}/login"' in used.text  # the way on from a spent link: that portal's sign-in

    assert sign_in(client, world.a.slug, victim, ATTACKER_PASSWORD).status_code == 401
    assert sign_in(client, world.a.slug, victim).status_code == 200  # the victim's own password still works
    # nor did the attacker's link join the victim to the attacker's programme
    assert sign_in(client, mallory_slug, victim).status_code == 401


def test_an_enterprise_admins_colleague_link_is_spent_once_the_login_has_a_password(
    client: TestClient, world: World
) -> None:
    person = new_email("colleague")
    first = add_colleague(client, world.x.admin, email=person)["setup_url"]
    other = direct_enterprise(client, world.b.admin.bearer, person, partner_type_id(client, world.b.admin))
    complete_setup(client, other["setup_url"])
    response = client.post("/api/partner/setup", json={"token": setup_token(first), "password": ATTACKER_PASSWORD})
    assert response.status_code == 410
    assert sign_in(client, world.b.slug, person).status_code == 200


def test_adding_a_known_login_answers_as_for_a_new_email_and_joins_only_with_consent(
    client: TestClient, world: World
) -> None:
    type_id = partner_type_id(client, world.b.admin)
    known = direct_enterprise(client, world.b.admin.bearer, world.x.admin.email, type_id)
    unknown = direct_enterprise(client, world.b.admin.bearer, new_email("nobody"), type_id)
    assert shape(known) == shape(unknown)
    assert known["enterprise"]["status"] == "invited"
    # X's admin is not in B's programme: not in their switcher, and B's portal refuses their sign-in
    listed = client.get("/api/partner/workspaces", headers=world.x.admin.bearer).json()
    assert [w["slug"] for w in listed] == [world.a.slug]
    assert sign_in(client, world.b.slug, world.x.admin.email).status_code == 401

    # an enterprise admin adding another manufacturer's partner learns nothing either, and joins nobody
    by_colleague = add_colleague(client, world.y.admin, email=world.x.admin.email.replace("@", "+b@"))
    stranger = new_email("stranger")
    b_partner = direct_enterprise(client, world.b.admin.bearer, stranger, type_id)
    complete_setup(client, b_partner["setup_url"])
    added_known = add_colleague(client, world.y.admin, email=stranger)
    assert sorted(added_known) == sorted(by_colleague)
    assert added_known["colleague"]["status"] == by_colleague["colleague"]["status"] == "invited"
    assert added_known["setup_url"] and by_colleague["setup_url"]
    # nor can the manufacturer make the membership active for them
    forced = client.patch(
        f"/api/interconnect/users/{added_known['colleague']['id']}",
        headers=world.a.admin.bearer,
        json={"status": "active"},
    )
    assert forced.status_code == 409 and forced.json()["code"] == "not_accepted"
    assert sign_in(client, world.a.slug, stranger).status_code == 401  # not a member of A yet

    # the link is accepted only with the login's own password: the person's consent
    token = setup_token(added_known["setup_url"])
    wrong = client.post("/api/partner/setup/accept", json={"token": token, "password": ATTACKER_PASSWORD})
    assert wrong.status_code == 401
    assert client.post("/api/partner/setup", json={"token": token, "password": ATTACKER_PASSWORD}).status_code == 410
    accepted = client.post("/api/partner/setup/accept", json={"token": token, "password": PASSWORD})
    assert accepted.status_code == 200, accepted.text
    me = client.get("/api/partner/me", headers=bearer(accepted.json()["access_token"])).json()
    assert (me["workspace"], me["enterprise_id"]) == (world.a.slug, world.y.link_id)
    assert client.post("/api/partner/setup/accept", json={"token": token, "password": PASSWORD}).status_code == 410


def test_guessing_through_invitation_acceptance_is_throttled(
    client: TestClient, world: World, settings: Settings
) -> None:
    code = create_invitation(client, world.b, "code", max_uses=100)
    statuses = [
        accept(
            client, workspace=world.b.slug, code=code["code"], email=world.x.admin.email, password=f"guess-{n}-abcdef"
        ).status_code
        for n in range(15)
    ]
    limit = settings.login_failures_allowed
    assert statuses == [401] * limit + [429] * (15 - limit)
    right = accept(client, workspace=world.b.slug, code=code["code"], email=world.x.admin.email, password=PASSWORD)
    assert right.status_code == 429  # the right password is not even evaluated now
    assert invitation(client, world.b, code["id"])["uses"] == 0
    assert [w["slug"] for w in client.get("/api/partner/workspaces", headers=world.x.admin.bearer).json()] == [
        world.a.slug
    ]
    # the one throttle is keyed by the global login: the partner sign-in of any portal is held back too
    assert sign_in(client, world.a.slug, world.x.admin.email).status_code == 429


def test_parallel_guesses_evaluate_at_most_the_limit(client: TestClient, world: World, settings: Settings) -> None:
    login = world.y.admin.email

    def guess(n: int) -> int:
        return sign_in(client, world.a.slug, login, f"parallel-guess-{n}-xyz").status_code

    with ThreadPoolExecutor(max_workers=40) as pool:
        statuses = list(pool.map(guess, range(40)))
    assert set(statuses) <= {401, 429}
    assert statuses.count(401) <= settings.login_failures_allowed, statuses


def test_a_browser_that_signed_in_before_is_not_locked_out_by_guesses(
    client: TestClient, world: World, settings: Settings
) -> None:
    login = world.y.admin.email
    first = sign_in(client, world.a.slug, login)
    assert first.status_code == 200
    device = first.headers[DEVICE_HEADER]
    for n in range(settings.login_failures_allowed + 3):  # someone else guesses
        assert sign_in(client, world.a.slug, login, f"someone-else-{n}-guess").status_code in (401, 429)
    assert sign_in(client, world.a.slug, login).status_code == 429  # unknown clients are held back
    trusted = client.post(
        "/api/partner/auth/token",
        json={"workspace": world.a.slug, "login": login, "password": PASSWORD},
        headers={DEVICE_HEADER: device},
    )
    assert trusted.status_code == 200, trusted.text
    # a device credential is bound to its login: it unlocks nobody else
    other = client.post(
        "/api/partner/auth/token",
        json={"workspace": world.a.slug, "login": world.x.admin.email, "password": "wrong-wrong-wrong"},
        headers={DEVICE_HEADER: device},
    )
    assert other.status_code == 401


def test_the_partner_sign_in_page_sets_a_device_cookie_that_outlasts_a_lockout(
    client: TestClient, world: World, settings: Settings
) -> None:
    login = world.x.people["colleague"].email
    path = f"/p/{world.a.slug}/login"
    signed_in = submit(client, path, {"login": login, "password": PASSWORD})
    assert signed_in.status_code in REDIRECTS
    device = client.cookies.get("portal_device")
    assert device
    # the guesser: no cookie of the person's device (the same client, not a second one on the app, whose
    # event loop would share the app's pool with this one's)
    client.cookies.clear()
    for n in range(settings.login_failures_allowed + 1):
        client.post(
            "/api/partner/auth/token",
            json={"workspace": world.a.slug, "login": login, "password": f"guess-{n}-guess"},
        )
    client.cookies.set("portal_device", device)
    again = submit(client, path, {"login": login, "password": PASSWORD})
    assert again.status_code in REDIRECTS, again.text


def test_one_address_guessing_many_logins_is_slowed_down(client: TestClient, world: World, database_url: str) -> None:
    app = create_app(make_settings(database_url, login_address_failures_allowed=8))
    with TestClient(app, base_url=BASE_URL) as one_address:
        statuses = [
            one_address.post(
                "/api/partner/auth/token",
                json={"workspace": world.a.slug, "login": new_email(f"spray{n}"), "password": "spray-password-1"},
            ).status_code
            for n in range(12)
        ]
    # other tests of this lane used the same test client address already: at most 8 are evaluated
    evaluated = statuses.count(401)
    assert evaluated <= 8 and statuses == [401] * evaluated + [429] * (12 - evaluated), statuses


def test_a_second_staff_sign_in_in_the_same_browser_ends_the_first_session(client: TestClient, world: World) -> None:
    first = submit(client, "/login", {"workspace": world.a.slug, "email": world.a.admin.email, "password": PASSWORD})
    assert first.status_code in REDIRECTS
    first_cookie = client.cookies.get("portal_session")
    other = world.a.others["staff"]
    second = submit(client, "/login", {"workspace": world.a.slug, "email": other.email, "password": PASSWORD})
    assert second.status_code in REDIRECTS
    assert client.cookies.get("portal_session") != first_cookie
    client.cookies.set("portal_session", first_cookie)
    assert client.get("/console", follow_redirects=False).status_code in REDIRECTS  # the first one is over


def _admin(headers: dict[str, str]) -> Any:
    """partner_type_id() takes a credential; the attacker's is only a header."""

    class Bearer:
        bearer = headers

    return Bearer()
