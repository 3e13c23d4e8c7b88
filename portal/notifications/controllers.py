"""The inbox and notification preferences over JSON: `/api/notifications` for staff and
`/api/partner/notifications` for partners, each only the signed-in person's own."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from litestar import Controller, get, post, put
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from portal.actor import Actor
from portal.http.deps import DB, CurrentActor, ServicesDep
from portal.http.inputs import Limit, Offset
from portal.i18n import current_language, gettext
from portal.notifications.schemas import (
    NotificationOut,
    NotificationPage,
    PreferenceIn,
    PreferenceOut,
    PreferencesOut,
    ReadAllOut,
    UnreadOut,
)
from portal.permissions import signed_in
from portal.services import Services

UnreadOnly = Annotated[bool, QueryParameter(description="only the unread ones")]


def _controller(path: str, audience: Literal["internal", "external"], tag: str) -> type[Controller]:
    opt = signed_in(audience)

    class Notifications(Controller):
        tags = [tag]

        @get("/", opt=opt)
        async def list_notifications(
            self,
            db: DB,
            actor: CurrentActor,
            services: ServicesDep,
            unread_only: UnreadOnly = False,
            limit: Limit = 20,
            offset: Offset = 0,
        ) -> NotificationPage:
            """The signed-in person's inbox, newest first, in the language of the request."""
            inbox = services.notifications.inbox(db, actor)
            entries, total = await inbox.list(current_language(), unread_only=unread_only, limit=limit, offset=offset)
            return NotificationPage(
                items=[NotificationOut.of(e) for e in entries], total=total, unread=await inbox.unread()
            )

        @get("/unread", opt=opt)
        async def unread(self, db: DB, actor: CurrentActor, services: ServicesDep) -> UnreadOut:
            """How many entries of the inbox are unread (the bell)."""
            return UnreadOut(unread=await services.notifications.inbox(db, actor).unread())

        @post("/{notification_id:uuid}/read", opt=opt, status_code=200)
        async def mark_read(
            self, notification_id: FromPath[uuid.UUID], db: DB, actor: CurrentActor, services: ServicesDep
        ) -> NotificationOut:
            """Mark one entry read (someone else's is not found)."""
            inbox = services.notifications.inbox(db, actor)
            return NotificationOut.of(inbox.entry(await inbox.mark_read(notification_id), current_language()))

        @post("/read-all", opt=opt, status_code=200)
        async def mark_all_read(self, db: DB, actor: CurrentActor, services: ServicesDep) -> ReadAllOut:
            """Mark every entry read."""
            return ReadAllOut(marked=await services.notifications.inbox(db, actor).mark_all_read())

        @get("/preferences", opt=opt)
        async def preferences(self, db: DB, actor: CurrentActor, services: ServicesDep) -> PreferencesOut:
            """Which kinds the person receives on each channel; security notices always go."""
            return await _preferences(db, actor, services)

        @put("/preferences", opt=opt, status_code=200)
        async def set_preference(
            self, data: JSONBody[PreferenceIn], db: DB, actor: CurrentActor, services: ServicesDep
        ) -> PreferencesOut:
            """Receive, or stop receiving, one kind on one channel."""
            await services.notifications.preferences(db, actor).set(data.kind, data.channel, data.enabled)
            return await _preferences(db, actor, services)

    Notifications.path = path
    Notifications.__name__ = Notifications.__qualname__ = f"{audience.title()}NotificationsController"
    return Notifications


async def _preferences(db: AsyncSession, actor: Actor, services: Services) -> PreferencesOut:
    choices = await services.notifications.preferences(db, actor).choices()
    return PreferencesOut(
        items=[PreferenceOut.of(c, gettext(c.kind.label)) for c in choices],
        configured=["inbox", *(await services.notifications.offered(db, actor.kind))],
    )


CONTROLLERS = [
    _controller("/api/notifications", "internal", "notifications"),
    _controller("/api/partner/notifications", "external", "partner notifications"),
]
