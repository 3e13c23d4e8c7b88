"""WeChat's web authorisation (网页授权) for an official account, as the partner portal uses it:

- `authorize_url`: the page of WeChat's (open.weixin.qq.com/connect/oauth2/authorize) the person's WeChat browser
  is sent to; WeChat sends it back to the exact `redirect_uri` with a `code` and the `state` it was given.
  `snsapi_base` asks nothing of the person and gives the openid; `snsapi_userinfo` asks their consent once and
  also gives the unionid (when the account is under the manufacturer's open platform account);
- `exchange`: `sns/oauth2/access_token` turns the code (single-use, five minutes) into the openid, the unionid
  for snsapi_userinfo, and a web access token for the person; `sns/userinfo` gives the unionid when the
  exchange did not.

Error codes: 40029 (invalid code) and 40163 (code used already) mean the person must open the page again;
everything else is the manufacturer's registration to check (502), or WeChat's trouble (503, 429), as in
channels.wechat.api.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from channels.wechat.api import WeChatApi
from channels.wechat.errors import INVALID_CODE, InvalidWeChatCode, WeChatError, WeChatRefused, WeChatUnavailable
from portal.i18n import N_

BASE_SCOPE = "snsapi_base"
USERINFO_SCOPE = "snsapi_userinfo"
SCOPES = (BASE_SCOPE, USERINFO_SCOPE)
CODE_USED = 40163
MAX_CODE = 256


@dataclass(frozen=True, slots=True)
class WeChatUser:
    openid: str
    unionid: str | None


def authorize_url(open_base: str, app_id: str, redirect_uri: str, scope: str, state: str) -> str:
    query = urlencode(
        {"appid": app_id, "redirect_uri": redirect_uri, "response_type": "code", "scope": scope, "state": state}
    )
    # WeChat's browser needs the fragment to follow the redirect itself
    return f"{open_base}/connect/oauth2/authorize?{query}#wechat_redirect"


def _refused(error: WeChatError) -> Exception:
    if error.errcode in (INVALID_CODE, CODE_USED):
        return InvalidWeChatCode(
            N_("This WeChat sign-in has expired or was used already: open the page again from the official account")
        )
    return WeChatRefused(
        N_(
            "WeChat refused the official account's request (error %(errcode)s): "
            "the manufacturer's administrator should check its app id and secret"
        ),
        errcode=error.errcode,
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value and len(value) <= 64 else None


async def exchange(api: WeChatApi, app_id: str, secret: str, code: str) -> WeChatUser:
    params = {"appid": app_id, "secret": secret, "code": code, "grant_type": "authorization_code"}
    try:
        body = await api.call("GET", "/sns/oauth2/access_token", params=params)
    except WeChatError as error:
        raise _refused(error) from error
    openid, token = _text(body.get("openid")), body.get("access_token")
    if openid is None or not isinstance(token, str):
        raise WeChatUnavailable(N_("WeChat cannot be reached; try again in a moment"))
    unionid = _text(body.get("unionid"))
    if unionid is None and body.get("scope") == USERINFO_SCOPE:
        unionid = await _unionid(api, token, openid)
    return WeChatUser(openid, unionid)


async def _unionid(api: WeChatApi, access_token: str, openid: str) -> str | None:
    try:
        body = await api.call("GET", "/sns/userinfo", params={"access_token": access_token, "openid": openid})
    except WeChatError as error:
        raise _refused(error) from error
    return _text(body.get("unionid"))
