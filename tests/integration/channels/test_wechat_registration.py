"""A workspace's admin registers its WeChat mini-program through the API and the console: the secret is
write-only and sealed at rest; read-only staff read, partners and other workspaces see nothing of it."""

from __future__ import annotations

import uuid

from litestar.testing import TestClient
from sqlalchemy import select

from channels.wechat.models import MiniProgram
from channels.wechat.sealing import Sealer
from portal.config import Settings
from portal.db.context import tenant_context
from portal.db.engine import Database
from tests.db import run_with_database
from tests.wechat import WORLD_APP_ID, WORLD_APP_SECRET
from tests.world import World, csrf_token

API = "/api/channels/wechat/mini-program"


def stored(settings: Settings, tenant_id: str) -> MiniProgram | None:
    async def read(db: Database) -> MiniProgram | None:
        async with db.session(tenant_context(uuid.UUID(tenant_id)), write=False) as session:
            return await session.scalar(select(MiniProgram))

    return run_with_database(settings, read)


def test_the_secret_is_write_only_and_sealed(client: TestClient, world: World, settings: Settings) -> None:
    shown = client.get(API, headers=world.a.admin.bearer)
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert body["app_id"] == WORLD_APP_ID and body["status"] == "active" and body["linked_accounts"] == 0
    assert body["sign_in_url"].endswith(f"/api/wechat/{world.a.slug}/mini/sign-in")
    assert WORLD_APP_SECRET not in shown.text and "secret" not in str(body).replace("secret_set_at", "")
    row = stored(settings, world.a.tenant_id)
    assert row is not None and WORLD_APP_SECRET not in row.secret_sealed
    assert Sealer(settings).unseal(row.secret_sealed) == WORLD_APP_SECRET
    # another key opens nothing
    other = Settings.from_env({}, database_url=settings.database_url, secret_key="another-" + settings.secret_key)
    assert Sealer(other).unseal(row.secret_sealed) is None
    # a change without the secret keeps it; the audit log never holds it
    changed = client.put(API, headers=world.a.admin.bearer, json={"app_id": "wx" + "1" * 16})
    assert changed.status_code == 200 and changed.json()["secret_set_at"] == body["secret_set_at"]
    row = stored(settings, world.a.tenant_id)
    assert row is not None and Sealer(settings).unseal(row.secret_sealed) == WORLD_APP_SECRET
    audit = client.get("/api/audit", headers=world.a.admin.bearer, params={"object_id": str(row.id)})
    assert audit.status_code == 200 and [e["action"] for e in audit.json()] == ["update", "create"], audit.text
    assert audit.json()[1]["after"]["secret_sealed"] == "***" and audit.json()[0]["after"]["app_id"] == "wx" + "1" * 16
    assert WORLD_APP_SECRET not in audit.text and row.secret_sealed not in audit.text


def test_registrations_are_checked_and_kept_to_their_workspace(client: TestClient, world: World) -> None:
    b_admin = world.b.admin.bearer
    missing = client.get(API, headers=b_admin)
    assert missing.status_code == 404 and WORLD_APP_ID not in missing.text

    def refused(body: dict[str, object]) -> dict[str, str]:
        answer = client.put(API, headers=b_admin, json=body)
        assert answer.status_code == 422, answer.text
        return {e["field"]: e["code"] for e in answer.json()["errors"]}

    assert refused({"app_id": "wx" + "b" * 16}) == {"secret": "required"}
    assert refused({"app_id": "not-an-app-id", "secret": "c" * 32}) == {"app_id": "invalid"}
    assert refused({"app_id": "wx" + "b" * 16, "secret": "short"}) == {"secret": "invalid"}
    assert refused({"app_id": "wx" + "b" * 16, "secret": "c" * 32, "status": "paused"}) == {"status": "invalid"}
    made = client.put(API, headers=b_admin, json={"app_id": "wx" + "b" * 16, "secret": "c" * 32})
    assert made.status_code == 200, made.text
    # each workspace its own
    assert client.get(API, headers=world.a.admin.bearer).json()["app_id"] == WORLD_APP_ID
    assert client.get(API, headers=b_admin).json()["app_id"] == "wx" + "b" * 16
    # read-only staff read; they and partners change nothing
    staff = world.a.others["staff"].bearer
    assert client.get(API, headers=staff).status_code == 200
    assert client.put(API, headers=staff, json={"app_id": "wx" + "e" * 16}).status_code == 403
    assert client.get(API, headers=world.x.admin.bearer).status_code == 403
    assert client.get(API, headers=world.a.admin.bearer).json()["app_id"] == WORLD_APP_ID


def test_the_console_registers_the_mini_program(client: TestClient, world: World, settings: Settings) -> None:
    client.cookies.set("portal_session", world.a.admin.cookie)
    page = client.get("/console/channels/wechat")
    assert page.status_code == 200 and WORLD_APP_ID in page.text and WORLD_APP_SECRET not in page.text
    assert f"/api/wechat/{world.a.slug}/mini/sign-in" in page.text
    assert 'href="/console/channels/wechat"' in client.get("/console/channels/oauth-clients").text
    token = csrf_token(client, "/console/channels/wechat")
    wrong = client.post(
        "/console/channels/wechat",
        data={"_csrf_token": token, "app_id": "nope", "secret": "typed-secret-0001", "active": "on"},
    )
    assert wrong.status_code == 422 and "typed-secret-0001" not in wrong.text
    saved = client.post(
        "/console/channels/wechat",
        data={"_csrf_token": token, "app_id": "wx" + "d" * 16, "secret": "", "active": "on"},
        follow_redirects=False,
    )
    assert saved.status_code in (302, 303), saved.text
    shown = client.get(saved.headers["location"])
    assert "wx" + "d" * 16 in shown.text and "The mini-program was saved." in shown.text
    row = stored(settings, world.a.tenant_id)
    assert row is not None and Sealer(settings).unseal(row.secret_sealed) == WORLD_APP_SECRET
