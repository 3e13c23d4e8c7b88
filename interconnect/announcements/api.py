"""The announcements' JSON API: the manufacturer publishes and withdraws (/api/interconnect/announcements),
a partner person reads what is addressed to them (/api/partner/announcements)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from interconnect.announcements.models import Announcement
from interconnect.announcements.service import Announcements, NewAnnouncement
from portal.http.deps import DB, CurrentActor
from portal.http.inputs import Limit, Multiline, Offset
from portal.identity.schemas import Strict
from portal.permissions import requires

PROGRAMME = "interconnect.programme"
PROFILE = "partner.profile"


class AnnouncementIn(Strict):
    title: str
    body: Multiline
    partner_type_ids: list[uuid.UUID] = msgspec.field(default_factory=list)
    until: date | None = None  # the last day it shows (the tenant's time zone); none: until withdrawn


class AnnouncementOut(msgspec.Struct):
    id: uuid.UUID
    title: str
    body: str
    partner_type_ids: list[uuid.UUID]
    published_at: datetime
    expires_at: datetime | None
    withdrawn_at: datetime | None

    @classmethod
    def of(cls, a: Announcement, types: list[uuid.UUID]) -> AnnouncementOut:
        return cls(a.id, a.title, a.body, types, a.published_at, a.expires_at, a.withdrawn_at)


class PartnerAnnouncementOut(msgspec.Struct):
    id: uuid.UUID
    title: str
    body: str
    published_at: datetime

    @classmethod
    def of(cls, a: Announcement) -> PartnerAnnouncementOut:
        return cls(a.id, a.title, a.body, a.published_at)


class AnnouncementPage(msgspec.Struct):
    items: list[AnnouncementOut]
    total: int


class PartnerAnnouncementPage(msgspec.Struct):
    items: list[PartnerAnnouncementOut]
    total: int


def provide_announcements(db: DB, actor: CurrentActor) -> Announcements:
    return Announcements(db, actor)


DEPENDENCIES = {"announcements": Provide(provide_announcements, sync_to_thread=False)}
AnnouncementsDep = NamedDependency[Announcements]


class AnnouncementsController(Controller):
    path = "/api/interconnect/announcements"
    tags = ["partner programme"]
    dependencies = DEPENDENCIES

    @get("/", opt=requires(PROGRAMME, "read"))
    async def list_announcements(
        self, announcements: AnnouncementsDep, limit: Limit = 50, offset: Offset = 0
    ) -> AnnouncementPage:
        """Newest first, withdrawn and expired ones included."""
        rows, total = await announcements.page(limit, offset)
        audiences = await announcements.audiences([a.id for a in rows])
        return AnnouncementPage([AnnouncementOut.of(a, audiences[a.id]) for a in rows], total)

    @post("/", opt=requires(PROGRAMME, "update"), status_code=HTTP_201_CREATED)
    async def publish(self, data: JSONBody[AnnouncementIn], db: DB, announcements: AnnouncementsDep) -> AnnouncementOut:
        """Publish now to every partner, or to the partner types named. An `Idempotency-Key` makes a
        retried request publish once."""
        new = NewAnnouncement(data.title, data.body, data.partner_type_ids, data.until)
        published = await announcements.publish(new)
        return AnnouncementOut.of(published, sorted(set(data.partner_type_ids)))

    @post("/{announcement_id:uuid}/withdraw", opt=requires(PROGRAMME, "update"), status_code=200)
    async def withdraw(self, announcement_id: FromPath[uuid.UUID], announcements: AnnouncementsDep) -> AnnouncementOut:
        """Partners stop seeing it at once; it stays in this list."""
        withdrawn = await announcements.withdraw(announcement_id)
        return AnnouncementOut.of(withdrawn, (await announcements.audiences([withdrawn.id]))[withdrawn.id])


class PartnerAnnouncementsController(Controller):
    path = "/api/partner/announcements"
    tags = ["partner: announcements"]
    dependencies = DEPENDENCIES

    @get("/", opt=requires(PROFILE, "read"))
    async def current(
        self, announcements: AnnouncementsDep, limit: Limit = 50, offset: Offset = 0
    ) -> PartnerAnnouncementPage:
        """What the manufacturer announces to this person's enterprise now, newest first."""
        rows, total = await announcements.current(limit, offset)
        return PartnerAnnouncementPage([PartnerAnnouncementOut.of(a) for a in rows], total)

    @get("/{announcement_id:uuid}", opt=requires(PROFILE, "read"))
    async def read(
        self, announcement_id: FromPath[uuid.UUID], announcements: AnnouncementsDep
    ) -> PartnerAnnouncementOut:
        return PartnerAnnouncementOut.of(await announcements.read(announcement_id))


CONTROLLERS = [AnnouncementsController, PartnerAnnouncementsController]
