"""The partner portal's pages the official account opens in WeChat's browser:

- /p/<workspace>/wechat (the address of the official account's menu): off to WeChat's authorisation, silently
  (snsapi_base), with a state bound to this browser;
- /p/<workspace>/wechat/callback (the one exact redirect_uri): WeChat's code becomes the person's WeChat account;
  a bound one is signed in and sent to the page asked for. One bound to nobody goes round once more asking the
  person's consent (snsapi_userinfo), which gives the unionid their mini-program binding may have; failing that,
- /p/<workspace>/wechat/link: the person signs in with their partner login and password once, which binds it.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.params import FromQuery, QueryParameter
from litestar.response import Redirect, Template

from channels.wechat.official import browser
from channels.wechat.official.signin import Account, account_of, link, sign_in
from channels.wechat.official.web_auth import BASE_SCOPE, MAX_CODE, USERINFO_SCOPE, authorize_url, exchange
from channels.wechat.service import WeChat
from interconnect.pages.partner_portal import portal_next
from interconnect.pages.workspace import CurrentPortal, PortalContext, partner_portal_router
from interconnect.services import InterconnectDep
from portal.errors import DomainError, InvalidCredentials, PermissionDenied, Throttled
from portal.http.context import sign_in_client
from portal.http.deps import DB, ServicesDep
from portal.i18n import N_, gettext
from portal.permissions import public
from portal.services import Services
from portal.ui.cookies import device_cookie, end_session, session_cookie
from portal.ui.forms import Form
from portal.ui.refusals import message_of

AnyRequest = Request[Any, Any, Any]
NOT_THIS_BROWSER = N_(
    "This sign-in did not begin in this browser, or took too long: open the page again from the official account"
)
DECLINED = N_("WeChat did not name your account: sign in with your partner login and password instead")


def _page(portal: PortalContext, *, error: str | None = None, linking: bool = False, **kw: Any) -> Template:
    return Template(
        "channels/portal/wechat.html",
        context={**portal.frame, "error": error, "linking": linking, "form": kw.pop("form", {})},
        **kw,
    )


def _wechat(services: Services) -> WeChat:
    return services.extensions["wechat"]


def _to_wechat(services: Services, portal: PortalContext, account: Account, scope: str, target: str) -> Redirect:
    wechat, slug = _wechat(services), portal.workspace.slug
    started, cookie = browser.start(wechat.sealer, slug, scope, target, services.settings.secure_cookies)
    redirect_uri = wechat.official_redirect_uri(services.settings.base_url, slug)
    return Redirect(
        authorize_url(wechat.open_base, account.app_id, redirect_uri, scope, started.state), cookies=[cookie]
    )


@get("/wechat", opt=public(), include_in_schema=False)
async def official_entry(
    db: DB, request: AnyRequest, services: ServicesDep, portal: CurrentPortal, next: FromQuery[str | None] = None
) -> Redirect:
    account = await account_of(db, _wechat(services), portal.workspace)
    return _to_wechat(services, portal, account, BASE_SCOPE, portal_next(portal.workspace, next, request.scope))


@get("/wechat/callback", opt={**public(), "writes": True}, include_in_schema=False)
async def official_callback(
    db: DB,
    request: AnyRequest,
    services: ServicesDep,
    interconnect: InterconnectDep,
    portal: CurrentPortal,
    code: FromQuery[str | None] = None,
    returned_state: Annotated[str | None, QueryParameter(name="state")] = None,
) -> Response[Any]:
    wechat, slug, secure = _wechat(services), portal.workspace.slug, services.settings.secure_cookies
    started = browser.returned(wechat.sealer, request.cookies.get(browser.STATE_COOKIE), returned_state)
    done = browser.cleared(browser.STATE_COOKIE, slug, secure)
    if started is None:
        return _page(portal, error=gettext(NOT_THIS_BROWSER), status_code=400, cookies=[done])
    if not code or len(code) > MAX_CODE:
        # the person declined snsapi_userinfo's consent (WeChat comes back without a code)
        return _page(portal, error=gettext(DECLINED), status_code=400, cookies=[done])
    try:
        account = await account_of(db, wechat, portal.workspace)
        user = await exchange(wechat.api, account.app_id, account.secret, code)
        found = await sign_in(db, interconnect, account, user, sign_in_client(request))
    except DomainError as error:
        return _page(portal, error=message_of(error), status_code=error.status, cookies=[done])
    target = portal_next(portal.workspace, started.next)
    if found is not None:
        await end_session(db, request.scope.get("user"), "replaced")
        return Redirect(target, cookies=[session_cookie(services, found[1].credential), done])
    if started.scope == BASE_SCOPE and user.unionid is None:
        return _to_wechat(services, portal, account, USERINFO_SCOPE, target)
    unlinked = browser.Unlinked(account.app_id, user, target)
    return Redirect(
        portal.path("wechat/link"), cookies=[browser.unlinked_cookie(wechat.sealer, slug, unlinked, secure), done]
    )


@get("/wechat/link", opt=public(), include_in_schema=False)
async def link_form(request: AnyRequest, services: ServicesDep, portal: CurrentPortal) -> Response[Any]:
    if browser.unlinked(_wechat(services).sealer, request.cookies.get(browser.LINK_COOKIE)) is None:
        return Redirect(portal.path("wechat"))
    return _page(portal, linking=True)


@post("/wechat/link", opt=public(), include_in_schema=False)
async def link_with_password(
    data: Form,
    db: DB,
    request: AnyRequest,
    services: ServicesDep,
    interconnect: InterconnectDep,
    portal: CurrentPortal,
) -> Response[Any]:
    wechat, slug, secure = _wechat(services), portal.workspace.slug, services.settings.secure_cookies
    unlinked = browser.unlinked(wechat.sealer, request.cookies.get(browser.LINK_COOKIE))
    if unlinked is None:
        return Redirect(portal.path("wechat"))
    form = {"login": data.get("login", "").strip()}
    try:
        account = await account_of(db, wechat, portal.workspace)
        signed = await link(
            db,
            interconnect,
            account,
            portal.workspace,
            unlinked,
            form["login"],
            data.get("password", ""),
            sign_in_client(request),
        )
    except (InvalidCredentials, Throttled, PermissionDenied) as error:
        headers = {"Retry-After": str(error.retry_after)} if isinstance(error, Throttled) else {}
        page = _page(
            portal, error=message_of(error), linking=True, form=form, status_code=error.status, headers=headers
        )
        return page
    await end_session(db, request.scope.get("user"), "replaced")
    cookies = [
        session_cookie(services, signed.opened.credential),
        device_cookie(services, signed.device),
        browser.cleared(browser.LINK_COOKIE, slug, secure),
    ]
    return Redirect(portal_next(portal.workspace, unlinked.next), cookies=cookies)


PAGES: list[Any] = [
    partner_portal_router([official_entry, official_callback, link_form, link_with_password], public=True)
]
