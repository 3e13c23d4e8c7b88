"""Where the signed-in person is signed in, over JSON: `/api/sessions` for staff and `/api/partner/sessions` for
partners, each only the person's own sessions in this workspace (portal.identity.signed_in). Never an
application's to call: a token an application got through OAuth cannot list or end the person's sessions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

import msgspec
from litestar import Controller, delete, get
from litestar.params import FromPath

from portal.http.deps import DB, CurrentActor
from portal.i18n import gettext
from portal.identity.signed_in import SignedInSession, sessions_of, sign_out_of
from portal.permissions import not_delegated, signed_in
from portal.ui.labels import label


class SessionOut(msgspec.Struct):
    id: uuid.UUID
    # "web" (a browser), "api" (a token of the password sign-in), "mobile" or "oauth" (an application through
    # OAuth), "miniapp" (the WeChat mini-program), "official" (the WeChat official account's pages)
    channel: str
    # the channel in words, in the language of the request
    channel_label: str
    # the browser or app that signed in, as it named itself
    user_agent: str | None
    ip_address: str | None
    created_at: datetime
    # when it was last used, to the minute
    last_used_at: datetime | None
    expires_at: datetime
    # the OAuth application the tokens were given to (its connected app), null for the person's own sign-ins
    client_id: uuid.UUID | None
    # the session of this request
    current: bool


class SessionsOut(msgspec.Struct):
    sessions: list[SessionOut]


class SessionsEndedOut(msgspec.Struct):
    # how many of the person's sessions (browsers, tokens, on every channel) were ended
    ended: int


def session_out(found: SignedInSession) -> SessionOut:
    return SessionOut(
        id=found.id,
        channel=found.channel,
        channel_label=gettext(label("channel", found.channel)),
        user_agent=found.user_agent,
        ip_address=found.ip_address,
        created_at=found.created_at,
        last_used_at=found.last_used_at,
        expires_at=found.expires_at,
        client_id=found.client_id,
        current=found.current,
    )


def _controller(path: str, audience: Literal["internal", "external"], tag: str) -> type[Controller]:
    opt = not_delegated(signed_in(audience))

    class Sessions(Controller):
        tags = [tag]

        @get("/", opt=opt)
        async def list_sessions(self, db: DB, actor: CurrentActor) -> SessionsOut:
            """Where you are signed in in this workspace, on every channel, the most recently used first."""
            return SessionsOut([session_out(s) for s in await sessions_of(db, actor)])

        @delete("/{session_id:uuid}", opt=opt)
        async def end_session(self, session_id: FromPath[uuid.UUID], db: DB, actor: CurrentActor) -> None:
            """Sign out of one of them: its cookie or tokens stop working at once (this one too, if you choose it)."""
            await sign_out_of(db, actor, session_id)

    Sessions.path = path
    Sessions.__name__ = Sessions.__qualname__ = f"Sessions{audience.title()}"
    return Sessions


CONTROLLERS = [
    _controller("/api/sessions", "internal", "staff"),
    _controller("/api/partner/sessions", "external", "partner: access"),
]
