"""What the official account's sign-in keeps in the person's browser between WeChat's redirects, sealed
(channels.wechat.sealing), for ten minutes, and only on the portal's /wechat pages:

- the state: a random value sent to WeChat as `state` and kept in a cookie; the way back is taken only with the
  cookie that began it, so a code somebody else got cannot be planted in this browser (login CSRF); and the page
  to show once signed in;
- the WeChat account not linked yet, once WeChat has named it: the person signs in with their password once and
  that account is linked. Sealed, so the browser cannot swap in somebody else's openid.
"""

from __future__ import annotations

import hmac
import json
import secrets
from dataclasses import dataclass

from litestar.datastructures import Cookie

from channels.wechat.official.web_auth import SCOPES, WeChatUser
from channels.wechat.sealing import Sealer

STATE_COOKIE = "portal_wechat_state"
LINK_COOKIE = "portal_wechat_link"
LIFETIME = 600


@dataclass(frozen=True, slots=True)
class Started:
    state: str
    scope: str
    next: str


@dataclass(frozen=True, slots=True)
class Unlinked:
    app_id: str
    user: WeChatUser
    next: str


def cookie_path(slug: str) -> str:
    return f"/p/{slug}/wechat"


def _cookie(key: str, value: str, slug: str, secure: bool) -> Cookie:
    return Cookie(
        key=key,
        value=value,
        max_age=LIFETIME if value else 0,
        httponly=True,
        secure=secure,
        # WeChat's redirect back is a top-level navigation from another site: Lax sends the cookie with it
        samesite="lax",
        path=cookie_path(slug),
    )


def _open(sealer: Sealer, sealed: str | None) -> dict[str, str] | None:
    if not sealed:
        return None
    opened = sealer.unseal(sealed, ttl=LIFETIME)
    try:
        value = json.loads(opened) if opened else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def start(sealer: Sealer, slug: str, scope: str, target: str, secure: bool) -> tuple[Started, Cookie]:
    started = Started(secrets.token_urlsafe(24), scope, target)
    sealed = sealer.seal(json.dumps({"state": started.state, "scope": scope, "next": target}))
    return started, _cookie(STATE_COOKIE, sealed, slug, secure)


def returned(sealer: Sealer, cookie: str | None, state: str | None) -> Started | None:
    """What began this sign-in, if the `state` WeChat brought back is the one this browser's cookie holds."""
    held = _open(sealer, cookie)
    if held is None or not state or not isinstance(held.get("state"), str):
        return None
    if not hmac.compare_digest(held["state"].encode(), state.encode()) or held.get("scope") not in SCOPES:
        return None
    return Started(held["state"], str(held["scope"]), str(held.get("next") or ""))


def unlinked_cookie(sealer: Sealer, slug: str, found: Unlinked, secure: bool) -> Cookie:
    value = {"app_id": found.app_id, "openid": found.user.openid, "unionid": found.user.unionid, "next": found.next}
    return _cookie(LINK_COOKIE, sealer.seal(json.dumps(value)), slug, secure)


def unlinked(sealer: Sealer, cookie: str | None) -> Unlinked | None:
    held = _open(sealer, cookie)
    if held is None or not isinstance(held.get("openid"), str) or not isinstance(held.get("app_id"), str):
        return None
    unionid = held.get("unionid")
    user = WeChatUser(held["openid"], unionid if isinstance(unionid, str) else None)
    return Unlinked(held["app_id"], user, str(held.get("next") or ""))


def cleared(key: str, slug: str, secure: bool) -> Cookie:
    return _cookie(key, "", slug, secure)
