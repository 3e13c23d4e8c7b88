"""WeChat's error codes, as the fake WeChat server gives them: each becomes a clear problem for the mini-program
or a retry. The access token is fetched once and kept, and refreshed once when WeChat says it has expired."""

from __future__ import annotations

from litestar.testing import TestClient

from tests.integration.channels.miniapp import bearer, invite_with_mobile, mini_sign_in, openid, sign_in_path
from tests.wechat import JSCODE2SESSION, OUTAGE, PHONE, STABLE_TOKEN, WORLD_APP_ID, FakeWeChat
from tests.world import World


def test_an_invalid_code_is_the_mini_programs_to_fix(client: TestClient, world: World, fake_wechat: FakeWeChat) -> None:
    made_up = client.post(sign_in_path(world.a.slug), json={"code": "not-a-wx-login-code"})
    assert made_up.status_code == 400, made_up.text
    assert made_up.json()["code"] == "invalid_wechat_code" and "wx.login" in made_up.json()["detail"]
    # a code is spent once WeChat has exchanged it
    code = fake_wechat.login_code(WORLD_APP_ID, openid())
    assert client.post(sign_in_path(world.a.slug), json={"code": code}).status_code == 401  # not linked yet
    assert client.post(sign_in_path(world.a.slug), json={"code": code}).json()["code"] == "invalid_wechat_code"
    # a phone number code WeChat does not know
    answer = client.post(
        sign_in_path(world.a.slug),
        json={"code": fake_wechat.login_code(WORLD_APP_ID, openid()), "phone_code": "made-up"},
    )
    assert answer.status_code == 400 and answer.json()["code"] == "invalid_phone_code", answer.text


def test_system_busy_is_retried_a_bounded_number_of_times(
    client: TestClient, world: World, fake_wechat: FakeWeChat
) -> None:
    partner = invite_with_mobile(client, world.a)
    me = openid()
    fake_wechat.fail(JSCODE2SESSION, -1, -1)
    linked = mini_sign_in(client, world.a.slug, fake_wechat, me, phone=partner.mobile)
    assert linked.status_code == 200, linked.text
    assert fake_wechat.calls[JSCODE2SESSION] == 3  # busy, busy, then the answer
    fake_wechat.calls.clear()
    fake_wechat.fail(JSCODE2SESSION, -1, -1, -1)
    busy = mini_sign_in(client, world.a.slug, fake_wechat, me)
    assert busy.status_code == 503 and busy.json()["code"] == "wechat_busy", busy.text
    assert fake_wechat.calls[JSCODE2SESSION] == 3  # and no more
    # the phone number and the token endpoints are retried alike
    fake_wechat.fail(STABLE_TOKEN, -1)
    fake_wechat.fail(PHONE, -1)
    other = invite_with_mobile(client, world.a)
    assert mini_sign_in(client, world.a.slug, fake_wechat, openid(), phone=other.mobile).status_code == 200


def test_the_rate_limit_is_answered_429_with_retry_after(
    client: TestClient, world: World, fake_wechat: FakeWeChat
) -> None:
    fake_wechat.fail(JSCODE2SESSION, 45011)
    limited = mini_sign_in(client, world.a.slug, fake_wechat, openid())
    assert limited.status_code == 429, limited.text
    assert limited.json()["code"] == "wechat_rate_limited" and limited.headers["retry-after"] == "60"
    assert fake_wechat.calls[JSCODE2SESSION] == 1  # not retried: WeChat's limits are per minute
    partner = invite_with_mobile(client, world.a)
    fake_wechat.fail(PHONE, 45011)
    limited = mini_sign_in(client, world.a.slug, fake_wechat, openid(), phone=partner.mobile)
    assert limited.status_code == 429 and limited.json()["code"] == "wechat_rate_limited", limited.text


def test_the_access_token_is_fetched_once_and_kept(client: TestClient, world: World, fake_wechat: FakeWeChat) -> None:
    for _ in range(3):
        partner = invite_with_mobile(client, world.a)
        assert mini_sign_in(client, world.a.slug, fake_wechat, openid(), phone=partner.mobile).status_code == 200
    assert fake_wechat.calls[STABLE_TOKEN] == 1 and fake_wechat.calls[PHONE] == 3


def test_an_expired_or_replaced_token_is_refreshed_and_the_question_asked_once_more(
    client: TestClient, world: World, fake_wechat: FakeWeChat
) -> None:
    first = invite_with_mobile(client, world.a)
    assert mini_sign_in(client, world.a.slug, fake_wechat, openid(), phone=first.mobile).status_code == 200
    for make_stale, errcode in ((fake_wechat.expire_tokens, 42001), (fake_wechat.forget_tokens, 40001)):
        fake_wechat.calls.clear()
        forced = fake_wechat.forced
        make_stale()  # WeChat now answers errcode to the token the platform holds
        partner = invite_with_mobile(client, world.a)
        linked = mini_sign_in(client, world.a.slug, fake_wechat, openid(), phone=partner.mobile)
        assert linked.status_code == 200, (errcode, linked.text)
        assert client.get("/api/partner/me", headers=bearer(linked).bearer).json()["membership_id"] == (
            partner.membership_id
        )
        # refused once, one forced refresh, asked once more
        assert fake_wechat.calls[PHONE] == 2 and fake_wechat.calls[STABLE_TOKEN] == 1, errcode
        assert fake_wechat.forced == forced + 1
    # a token refused again after its refresh is not refreshed in a loop
    fake_wechat.calls.clear()
    fake_wechat.fail(PHONE, 42001, 42001)
    partner = invite_with_mobile(client, world.a)
    refused = mini_sign_in(client, world.a.slug, fake_wechat, openid(), phone=partner.mobile)
    assert refused.status_code == 502 and refused.json()["code"] == "wechat_refused", refused.text
    assert fake_wechat.calls[PHONE] == 2 and fake_wechat.calls[STABLE_TOKEN] == 1


def test_wrong_credentials_of_the_mini_program_are_the_manufacturers_to_fix(
    client: TestClient, world: World, fake_wechat: FakeWeChat
) -> None:
    saved = client.put(
        "/api/channels/wechat/mini-program",
        headers=world.a.admin.bearer,
        json={"app_id": WORLD_APP_ID, "secret": "0" * 32},
    )
    assert saved.status_code == 200, saved.text
    refused = mini_sign_in(client, world.a.slug, fake_wechat, openid())
    assert refused.status_code == 502, refused.text
    assert refused.json()["code"] == "wechat_refused" and "40125" in refused.json()["detail"]


def test_an_outage_of_wechat_is_a_clear_problem_and_writes_nothing(
    client: TestClient, world: World, fake_wechat: FakeWeChat
) -> None:
    fake_wechat.fail(JSCODE2SESSION, OUTAGE)
    down = mini_sign_in(client, world.a.slug, fake_wechat, openid())
    assert down.status_code == 503 and down.json()["code"] == "wechat_unavailable", down.text
    # the token endpoint down while linking by phone: nothing is linked, and the next try goes through
    partner = invite_with_mobile(client, world.a)
    me = openid()
    fake_wechat.fail(STABLE_TOKEN, OUTAGE)
    down = mini_sign_in(client, world.a.slug, fake_wechat, me, phone=partner.mobile)
    assert down.status_code == 503 and down.json()["code"] == "wechat_unavailable", down.text
    not_linked = mini_sign_in(client, world.a.slug, fake_wechat, me)
    assert not_linked.status_code == 401 and not_linked.json()["code"] == "wechat_not_linked"
    assert mini_sign_in(client, world.a.slug, fake_wechat, me, phone=partner.mobile).status_code == 200
