"""The server-rendered web shell, driven through HTTP like a browser: pages, forms, sessions, languages."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from httpx import Response
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import TestClient

from tests.world import PASSWORD, World, csrf_token, web_login

SESSION = "portal_session"
LANGUAGE = "portal_lang"
REDIRECTS = (302, 303)
TO_LOGIN = "/login?next=/console"

# Strings from web/i18n/zh_CN/LC_MESSAGES/messages.po
SIGN_IN_ZH = "登录"  # "Sign in"
CONSOLE_ZH = "管理后台"  # "Console"
NOT_FOUND_ZH = "未找到"  # "Not found"


def act_as(client: TestClient, cookie: str | None) -> None:
    """Start a fresh browser for one actor: an empty cookie jar holding only their session cookie."""
    client.cookies.clear()
    if cookie:
        client.cookies.set(SESSION, cookie)


def submit(client: TestClient, path: str, data: dict[str, str], *, form_page: str | None = None) -> Response:
    """Post a form the way a browser does: with the CSRF token of the page that shows the form."""
    token = csrf_token(client, form_page or path)
    return client.post(path, data={**data, "_csrf_token": token}, follow_redirects=False)


def set_cookie_header(response: Response, name: str) -> str:
    headers = [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
    assert len(headers) == 1, response.headers.get_list("set-cookie")
    return headers[0]


def assert_readable_page(response: Response, status: int, text: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert text in response.text
    assert "Traceback" not in response.text
    assert not response.text.lstrip().startswith("{")


def assert_redirects_to_login(client: TestClient, cookie: str) -> None:
    act_as(client, cookie)
    response = client.get("/console", follow_redirects=False)
    assert response.status_code in REDIRECTS
    assert response.headers["location"] == TO_LOGIN


def signup_form(slug: str, **overrides: str) -> dict[str, str]:
    return {
        "company_name": f"Signup Works {slug}",
        "slug": slug,
        "admin_name": "Sam Signup",
        "email": f"sam@{slug}.example",
        "password": PASSWORD,
        "locale": "en",
        **overrides,
    }


def new_slug() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


# --- Landing page and static files ----------------------------------------------------------------


def test_landing_page_has_phone_layout_and_stylesheet(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert '<meta name="viewport"' in response.text
    assert 'href="/static/css/portal.css"' in response.text

    css = client.get("/static/css/portal.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")

    logo = client.get("/static/img/logo.svg")
    assert logo.status_code == 200
    assert "<svg" in logo.text


# --- Sign-up --------------------------------------------------------------------------------------


def test_signup_page_has_csrf_field(client: TestClient) -> None:
    response = client.get("/signup")
    assert response.status_code == 200
    assert re.search(r'<input type="hidden" name="_csrf_token" value="[^"]+"', response.text)


def test_signup_creates_workspace_and_signs_in(client: TestClient) -> None:
    form = signup_form(new_slug())

    response = submit(client, "/signup", form)

    assert response.status_code in REDIRECTS, response.text
    assert response.headers["location"] == "/console"
    cookie = set_cookie_header(response, SESSION)
    assert "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower()

    console = client.get("/console", follow_redirects=False)
    assert console.status_code == 200
    assert form["company_name"] in console.text


def test_signup_with_bad_fields_shows_errors_and_creates_nothing(client: TestClient) -> None:
    slug = new_slug()
    bad = signup_form(slug, email="not-an-email", password="short")

    response = submit(client, "/signup", bad)

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert re.search(r'id="email-error">is not a valid email address<', response.text)
    assert re.search(r'id="password-error">must be at least 10 characters<', response.text)
    assert f'value="{bad["company_name"]}"' in response.text  # what was typed is kept
    assert SESSION not in response.headers.get("set-cookie", "")

    # No half-written tenant: the same slug is still free.
    good = signup_form(slug)
    created = client.post("/api/signup", json={k: v for k, v in good.items() if k != "locale"})
    assert created.status_code == 201, created.text


def test_post_without_csrf_token_is_refused_with_readable_page(client: TestClient) -> None:
    client.get("/signup")  # the CSRF cookie is set, but the form is sent without its token
    response = client.post("/signup", data=signup_form(new_slug()), follow_redirects=False)

    assert_readable_page(response, 403, "The form expired or was sent from another site; please try again")
    assert SESSION not in response.headers.get("set-cookie", "")


# --- Login ----------------------------------------------------------------------------------------


def login_form(world: World, password: str = PASSWORD, next_path: str = "/console") -> dict[str, str]:
    return {"workspace": world.a.slug, "email": world.a.admin.email, "password": password, "next": next_path}


def test_login_with_wrong_password_shows_message(client: TestClient, world: World) -> None:
    act_as(client, None)
    response = submit(client, "/login", login_form(world, password="not the password at all"))

    assert_readable_page(response, 401, "The workspace, email or password is not correct")
    assert SESSION not in response.headers.get("set-cookie", "")


def test_login_redirects_to_next(client: TestClient, world: World) -> None:
    act_as(client, None)
    response = submit(client, "/login", login_form(world, next_path="/console/users"))

    assert response.status_code in REDIRECTS, response.text
    assert response.headers["location"] == "/console/users"
    assert client.get("/console/users", follow_redirects=False).status_code == 200


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil.example"])
def test_login_does_not_redirect_off_site(client: TestClient, world: World, target: str) -> None:
    act_as(client, None)
    page = client.get("/login", params={"next": target})
    assert 'name="next" value="/console"' in page.text

    response = submit(client, "/login", login_form(world, next_path=target))

    assert response.status_code in REDIRECTS, response.text
    assert response.headers["location"] == "/console"


@pytest.mark.parametrize(
    ("target", "lands"),
    [
        ("/console/../..//evil.example/x", "/evil.example/x"),  # a path of this site, never "//evil.example"
        ("/console/%2e%2e/%2E%2e//evil.example", "/evil.example"),
        ("/console/./x/..//users?status=active", "/console/users?status=active"),
    ],
)
def test_login_next_is_normalised_before_it_is_checked(
    client: TestClient, world: World, target: str, lands: str
) -> None:
    act_as(client, None)
    response = submit(client, "/login", login_form(world, next_path=target))
    assert response.status_code in REDIRECTS, response.text
    assert response.headers["location"] == lands


# --- Console --------------------------------------------------------------------------------------


def test_console_without_session_redirects_to_login(client: TestClient) -> None:
    response = client.get("/console", follow_redirects=False)
    assert response.status_code in REDIRECTS
    assert response.headers["location"] == TO_LOGIN


def test_console_shows_own_tenant_only(client: TestClient, world: World) -> None:
    act_as(client, world.a.admin.cookie)
    response = client.get("/console", follow_redirects=False)

    assert response.status_code == 200
    assert world.a.name in response.text
    assert world.b.name not in response.text
    assert world.b.slug not in response.text


def test_disabled_user_cookie_redirects_to_login(client: TestClient, world: World) -> None:
    assert_redirects_to_login(client, world.a.others["disabled"].cookie)


def test_users_page_lists_own_users_only(client: TestClient, world: World) -> None:
    act_as(client, world.a.admin.cookie)
    response = client.get("/console/users", follow_redirects=False)

    assert response.status_code == 200
    for email in (world.a.admin.email, world.a.others["staff"].email, world.a.others["disabled"].email):
        assert email in response.text
    assert world.b.admin.email not in response.text


def test_admin_adds_staff_member_through_form(client: TestClient, world: World) -> None:
    act_as(client, world.a.admin.cookie)
    email = f"new-{uuid.uuid4().hex[:8]}@{world.a.slug}.example"

    response = submit(
        client, "/console/users", {"email": email, "display_name": "New Person", "password": PASSWORD, "role": "staff"}
    )

    assert response.status_code in REDIRECTS, response.text
    assert response.headers["location"] == "/console/users"
    listing = client.get("/console/users", follow_redirects=False)
    assert email in listing.text
    assert "New Person" in listing.text


def test_add_staff_member_with_bad_email_shows_error(client: TestClient, world: World) -> None:
    act_as(client, world.a.admin.cookie)

    response = submit(
        client, "/console/users", {"email": "nobody", "display_name": "Nobody", "password": PASSWORD, "role": "staff"}
    )

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert re.search(r'id="email-error">is not a valid email address<', response.text)


def test_disabling_a_user_ends_their_sessions_at_once(client: TestClient, world: World) -> None:
    staff = world.a.others["staff"]
    act_as(client, staff.cookie)
    assert client.get("/console", follow_redirects=False).status_code == 200
    assert client.get("/api/me", headers=staff.bearer).status_code == 200

    act_as(client, world.a.admin.cookie)
    disable = f"/console/users/{staff.user_id}/status"
    response = submit(client, disable, {"status": "disabled"}, form_page="/console/users")
    assert response.status_code in REDIRECTS, response.text
    assert response.headers["location"] == "/console/users"

    assert_redirects_to_login(client, staff.cookie)
    client.cookies.clear()
    assert client.get("/api/me", headers=staff.bearer).status_code == 401


def test_read_only_staff_cannot_add_users(client: TestClient, world: World) -> None:
    act_as(client, world.a.others["staff"].cookie)
    email = f"sneaky-{uuid.uuid4().hex[:8]}@{world.a.slug}.example"

    response = submit(
        client, "/console/users", {"email": email, "display_name": "Sneaky", "password": PASSWORD, "role": "admin"}
    )

    assert_readable_page(response, 403, "You do not have permission to do this")
    users = client.get("/api/users", headers=world.a.admin.bearer).json()["items"]
    assert email not in {u["email"] for u in users}


def test_logout_ends_the_session(client: TestClient, world: World) -> None:
    cookie = world.a.admin.cookie
    act_as(client, cookie)

    response = submit(client, "/logout", {}, form_page="/console")

    assert response.status_code in REDIRECTS, response.text
    assert_redirects_to_login(client, cookie)


# --- Languages ------------------------------------------------------------------------------------


def test_english_by_default(client: TestClient) -> None:
    response = client.get("/")
    assert '<html lang="en"' in response.text
    assert "Sign in" in response.text
    assert SIGN_IN_ZH not in response.text


def test_chinese_from_accept_language(client: TestClient) -> None:
    response = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert '<html lang="zh-CN"' in response.text
    assert SIGN_IN_ZH in response.text
    assert "Sign in" not in response.text


def test_language_switch_sets_cookie_that_beats_accept_language(client: TestClient) -> None:
    response = submit(client, "/lang", {"language": "zh_CN", "next": "/"}, form_page="/")

    assert response.status_code in REDIRECTS, response.text
    assert set_cookie_header(response, LANGUAGE).startswith(f"{LANGUAGE}=zh_CN")
    page = client.get("/", headers={"Accept-Language": "en"})
    assert '<html lang="zh-CN"' in page.text
    assert SIGN_IN_ZH in page.text


def test_signed_in_users_language_choice_is_stored(client: TestClient, world: World) -> None:
    act_as(client, world.a.admin.cookie)
    response = submit(client, "/lang", {"language": "zh_CN", "next": "/console"}, form_page="/console")
    assert response.status_code in REDIRECTS, response.text

    act_as(client, None)  # another browser: no language cookie, an English browser
    act_as(client, web_login(client, world.a.slug, world.a.admin.email))
    page = client.get("/console", headers={"Accept-Language": "en"}, follow_redirects=False)

    assert page.status_code == 200
    assert '<html lang="zh-CN"' in page.text
    assert CONSOLE_ZH in page.text


# --- Errors ---------------------------------------------------------------------------------------


def test_unknown_page_is_readable_404(client: TestClient) -> None:
    response = client.get("/no-such-page")
    assert_readable_page(response, 404, "Not found")
    assert "<h1>Not found</h1>" in response.text


def test_unknown_page_404_in_chinese(client: TestClient) -> None:
    response = client.get("/no-such-page", headers={"Accept-Language": "zh-CN"})
    assert_readable_page(response, 404, NOT_FOUND_ZH)
    assert f"<h1>{NOT_FOUND_ZH}</h1>" in response.text


def test_unknown_api_path_is_problem_json(client: TestClient) -> None:
    response = client.get("/api/no-such")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "not_found"


# --- API docs and health --------------------------------------------------------------------------


def test_openapi_document(client: TestClient) -> None:
    response = client.get("/api/docs/openapi.json")
    assert response.status_code == 200
    assert "/api/users" in response.json()["paths"]


def test_interactive_docs_use_vendored_script(client: TestClient) -> None:
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "/static/vendor/rapidoc/rapidoc-min.js" in response.text
    assert "cdn." not in response.text
    assert client.get("/static/vendor/rapidoc/rapidoc-min.js").status_code == 200


def test_health(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_every_page_handler_answers_with_a_page_or_a_redirect(app: Litestar) -> None:
    """A page handler typed `Any` would have its refusal page (a form sent back with its errors) sent as
    JSON, shown by the browser as source: every handler outside the API declares what it answers."""
    untyped = [
        f"{sorted(handler.http_methods)} {route.path}"
        for route in app.routes
        if isinstance(route, HTTPRoute) and not route.path.startswith(("/api/", "/.well-known/"))
        for handler in route.route_handlers
        if handler.parsed_fn_signature.return_type.annotation is Any
    ]
    assert untyped == []
