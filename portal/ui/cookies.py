"""The cookies of a signed-in browser: its session, and the mark of a device that has signed in before."""

from __future__ import annotations

from litestar.datastructures import Cookie
from sqlalchemy.ext.asyncio import AsyncSession

from portal.actor import Actor
from portal.db.context import actor_context
from portal.db.tenancy import within
from portal.http.context import SESSION_COOKIE
from portal.identity.accounts import LoggedIn
from portal.identity.sessions import revoke_session
from portal.identity.throttle import DEVICE_COOKIE, DEVICE_COOKIE_SECONDS
from portal.services import Services


def device_cookie(services: Services, value: str) -> Cookie:
    """Marks a browser that has signed in before, so others' wrong guesses never lock it out."""
    return Cookie(
        key=DEVICE_COOKIE,
        value=value,
        max_age=DEVICE_COOKIE_SECONDS,
        httponly=True,
        secure=services.settings.secure_cookies,
        samesite="lax",
        path="/",
    )


def signed_in_cookies(services: Services, logged_in: LoggedIn) -> list[Cookie]:
    return [session_cookie(services, logged_in.opened.credential), device_cookie(services, logged_in.device)]


async def end_session(session: AsyncSession, actor: Actor | None, reason: str) -> None:
    """The browser's previous session, replaced by a new one: its cookie is overwritten, so end it too."""
    if actor is not None and actor.session_id is not None:
        async with within(session, actor_context(actor)):
            await revoke_session(session, actor.session_id, reason)


def session_cookie(services: Services, value: str) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value=value,
        max_age=services.settings.web_session_seconds,
        httponly=True,
        secure=services.settings.secure_cookies,
        samesite="lax",
        path="/",
    )
