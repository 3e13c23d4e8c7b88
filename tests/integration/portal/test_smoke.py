from litestar.testing import TestClient

from tests.world import World


def test_world_builds_and_admin_sees_own_users(client: TestClient, world: World) -> None:
    response = client.get("/api/users", headers=world.a.admin.bearer)
    assert response.status_code == 200
    emails = {u["email"] for u in response.json()["items"]}
    assert emails == {world.a.admin.email, world.a.others["staff"].email, world.a.others["disabled"].email}
