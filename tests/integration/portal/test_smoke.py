from litestar.testing import TestClient

from tests.world import World


def test_world_builds_and_admin_sees_own_users(client: TestClient, world: World) -> None:
    response = client.get("/api/users", headers=world.a.admin.bearer)
    assert response.status_code == 200
    emails = {u["email"] for u in response.json()["items"]}
    # the order desk clerk is the administrator's delegate in the world's sample approvals
    desk = f"approval-delegate@{world.a.slug}.example"
    assert emails == {world.a.admin.email, world.a.others["staff"].email, world.a.others["disabled"].email, desk}
