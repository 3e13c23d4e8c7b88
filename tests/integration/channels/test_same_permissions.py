"""One dealer buyer through the web portal, a password-issued token, an OAuth app's token and the WeChat
mini-program's token: the same orders, the same hidden fields, the same refusals."""

from __future__ import annotations

from litestar.testing import TestClient

from tests.integration.channels.miniapp import bearer, mini_sign_in, openid
from tests.integration.channels.oauth import application, register, sign_in_with
from tests.wechat import FakeWeChat
from tests.world import PASSWORD, World


def test_every_channel_sees_and_is_refused_the_same(client: TestClient, world: World, fake_wechat: FakeWeChat) -> None:
    buyer = world.x.admin
    mini = bearer(
        mini_sign_in(client, world.a.slug, fake_wechat, openid(), login=buyer.email, password=PASSWORD)
    ).bearer
    app = application(client, register(client, world.a.admin)[0])
    sign_in_with(client, app, world.a.slug, buyer.cookie)
    password = {"Authorization": f"Bearer {buyer.token}"}
    client.cookies.clear()

    orders = client.get("/api/partner/ordering/orders", headers=password)
    assert orders.status_code == 200
    assert app.get("/api/partner/ordering/orders").json() == orders.json()
    assert client.get("/api/partner/ordering/orders", headers=mini).json() == orders.json()
    listed = orders.json()["items"]
    assert listed and all("cost_price" not in o and "margin" not in o for o in listed)

    order_id = world.ids["ordering_order"]
    detail = client.get(f"/api/partner/ordering/orders/{order_id}", headers=password)
    assert detail.status_code == 200 and "cost_price" not in detail.text
    assert app.get(f"/api/partner/ordering/orders/{order_id}").json() == detail.json()
    assert client.get(f"/api/partner/ordering/orders/{order_id}", headers=mini).json() == detail.json()

    # the web portal lists the same orders
    client.cookies.set("portal_session", buyer.cookie)
    page = client.get(f"/p/{world.a.slug}/ordering/orders")
    assert page.status_code == 200
    assert all(o["number"] in page.text for o in listed)
    client.cookies.clear()

    # another enterprise's order is "not found" on every channel
    other = application(client, register(client, world.a.admin)[0])
    sign_in_with(client, other, world.a.slug, world.y.admin.cookie)
    assert other.get(f"/api/partner/ordering/orders/{order_id}").status_code == 404
    assert client.get(f"/api/partner/ordering/orders/{order_id}", headers=world.y.admin.bearer).status_code == 404
    y_mini = bearer(
        mini_sign_in(client, world.a.slug, fake_wechat, openid(), login=world.y.admin.email, password=PASSWORD)
    ).bearer
    assert client.get(f"/api/partner/ordering/orders/{order_id}", headers=y_mini).status_code == 404

    # what the role does not allow is refused alike (a member may not manage colleagues)
    colleague = world.x.people["colleague"]
    member_app = application(client, register(client, world.a.admin)[0])
    sign_in_with(client, member_app, world.a.slug, colleague.cookie)
    by_password = client.get("/api/partner/colleagues", headers=colleague.bearer)
    by_app = member_app.get("/api/partner/colleagues")
    member_mini = bearer(
        mini_sign_in(client, world.a.slug, fake_wechat, openid(), login=colleague.email, password=PASSWORD)
    ).bearer
    by_mini = client.get("/api/partner/colleagues", headers=member_mini)
    assert by_password.status_code == by_app.status_code == by_mini.status_code == 403
    assert by_password.json()["code"] == by_app.json()["code"] == by_mini.json()["code"] == "permission_denied"
    # and staff routes refuse a partner's OAuth token as they refuse the partner's own
    assert app.get("/api/users").status_code == client.get("/api/users", headers=password).status_code == 403
    assert client.get("/api/users", headers=mini).status_code == 403
