"""An unexpected failure is a friendly page or a problem detail, never a stack trace, and rolls back."""

from __future__ import annotations

from litestar import get, post
from litestar.testing import TestClient

from portal.components import Component
from portal.config import Settings
from portal.http.app import create_app
from portal.http.deps import DB
from portal.identity.models import InternalUser
from portal.permissions import public, requires
from tests.conftest import BASE_URL
from tests.world import api_login, sign_up


@get("/broken", opt=public(), include_in_schema=False)
async def broken_page() -> str:
    raise RuntimeError("secret internal detail")


@post("/api/broken-write", opt=requires("staff.users", "update"))
async def broken_write(db: DB) -> None:
    db.add(InternalUser(email="half-written@x.example", display_name="half", password_hash="x"))
    await db.flush()
    raise RuntimeError("secret internal detail")


def test_unexpected_errors_are_friendly_and_roll_back(settings: Settings) -> None:
    component = Component(name="broken-test-component", route_handlers=[broken_page, broken_write])
    app = create_app(settings, extra_components=[component])
    with TestClient(app, base_url=BASE_URL, raise_server_exceptions=False) as client:
        page = client.get("/broken", headers={"Accept-Language": "zh-CN"})
        assert page.status_code == 500
        assert page.headers["content-type"].startswith("text/html")
        assert "secret internal detail" not in page.text and "Traceback" not in page.text
        assert "<h1>" in page.text and 'lang="zh-CN"' in page.text

        _tenant, slug, _name, _admin = sign_up(client, "broken")
        token, _refresh = api_login(client, slug, f"admin@{slug}.example")
        admin = {"Authorization": f"Bearer {token}"}
        before = client.get("/api/users", headers=admin).json()["total"]
        api = client.post("/api/broken-write", headers=admin)
        assert api.status_code == 500
        assert api.headers["content-type"].startswith("application/problem+json")
        assert api.json()["code"] == "internal_error"
        assert "secret internal detail" not in api.text
        assert client.get("/api/users", headers=admin).json()["total"] == before
