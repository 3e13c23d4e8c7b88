from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from interconnect.announcements.models import Announcement, AnnouncementAudience
from interconnect.models import PartnerType
from portal.actor import Actor
from portal.db.types import utcnow
from portal.errors import Conflict, FieldError, NotFound, ValidationFailed
from portal.i18n import N_
from portal.timezones import zone

TITLE_MAX, BODY_MAX = 120, 4000


@dataclass(frozen=True, slots=True)
class NewAnnouncement:
    title: str
    body: str
    partner_type_ids: Sequence[uuid.UUID] = ()
    # the last day it shows, in the tenant's time zone; None: until withdrawn
    until: date | None = None


class Announcements:
    def __init__(self, session: AsyncSession, actor: Actor) -> None:
        self.session = session
        self.actor = actor

    # the manufacturer's side

    async def page(self, limit: int = 50, offset: int = 0) -> tuple[list[Announcement], int]:
        """Newest first, withdrawn and expired ones too."""
        total = await self.session.scalar(select(func.count()).select_from(Announcement)) or 0
        rows = await self.session.scalars(
            select(Announcement)
            .order_by(Announcement.published_at.desc(), Announcement.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return list(rows), total

    async def publish(self, new: NewAnnouncement) -> Announcement:
        title, body = new.title.strip(), new.body.strip()
        errors: list[FieldError] = []
        if not title:
            errors.append(FieldError("title", N_("is required"), "required"))
        elif len(title) > TITLE_MAX:
            errors.append(FieldError("title", N_("must be at most %(max)s characters"), "too_long", {"max": TITLE_MAX}))
        if not body:
            errors.append(FieldError("body", N_("is required"), "required"))
        elif len(body) > BODY_MAX:
            errors.append(FieldError("body", N_("must be at most %(max)s characters"), "too_long", {"max": BODY_MAX}))
        wanted = set(new.partner_type_ids)
        if wanted:
            known = set(await self.session.scalars(select(PartnerType.id).where(PartnerType.id.in_(wanted))))
            if known != wanted:
                errors.append(FieldError("partner_type_ids", N_("names a partner type that does not exist"), "unknown"))
        now = utcnow()
        expires_at = None
        if new.until is not None:
            local_end = datetime.combine(new.until + timedelta(days=1), datetime.min.time(), zone(self.actor.time_zone))
            expires_at = local_end.astimezone(now.tzinfo)
            if expires_at <= now:
                errors.append(FieldError("until", N_("must be today or later"), "in_the_past"))
        if errors:
            raise ValidationFailed(errors)
        announcement = Announcement(
            title=title, body=body, published_at=now, expires_at=expires_at, created_by=self.actor.user_id
        )
        self.session.add(announcement)
        await self.session.flush()
        for type_id in sorted(wanted):
            self.session.add(AnnouncementAudience(announcement_id=announcement.id, partner_type_id=type_id))
        await self.session.flush()
        return announcement

    async def audiences(self, announcement_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
        """The partner types each announcement is addressed to (none listed: every partner)."""
        found: dict[uuid.UUID, list[uuid.UUID]] = {i: [] for i in announcement_ids}
        if announcement_ids:
            rows = await self.session.execute(
                select(AnnouncementAudience.announcement_id, AnnouncementAudience.partner_type_id)
                .where(AnnouncementAudience.announcement_id.in_(announcement_ids))
                .order_by(AnnouncementAudience.partner_type_id)
            )
            for announcement_id, type_id in rows:
                found[announcement_id].append(type_id)
        return found

    async def withdraw(self, announcement_id: uuid.UUID) -> Announcement:
        query = select(Announcement).where(Announcement.id == announcement_id).with_for_update()
        announcement = await self.session.scalar(query)
        if announcement is None:
            raise NotFound(N_("No such announcement"))
        if announcement.withdrawn_at is not None:
            raise Conflict(N_("This announcement was already withdrawn"), code="already_withdrawn")
        announcement.withdrawn_at = utcnow()
        await self.session.flush()
        return announcement

    # the partners' side

    def _current(self) -> Select[tuple[Announcement]]:
        """What this partner person may read now: published to every partner or to their enterprise's type,
        not withdrawn, not expired."""
        now = utcnow()
        addressed = AnnouncementAudience.announcement_id == Announcement.id
        return select(Announcement).where(
            Announcement.withdrawn_at.is_(None),
            or_(Announcement.expires_at.is_(None), Announcement.expires_at > now),
            Announcement.published_at <= now,
            or_(
                ~exists().where(addressed),
                exists().where(addressed, AnnouncementAudience.partner_type_id == self.actor.partner_type_id),
            ),
        )

    async def current(self, limit: int = 50, offset: int = 0) -> tuple[list[Announcement], int]:
        """Newest first."""
        query = self._current()
        total = await self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        newest = query.order_by(Announcement.published_at.desc(), Announcement.id.desc())
        return list(await self.session.scalars(newest.limit(limit).offset(offset))), total

    async def read(self, announcement_id: uuid.UUID) -> Announcement:
        found = await self.session.scalar(self._current().where(Announcement.id == announcement_id))
        if found is None:
            raise NotFound(N_("No such announcement"))
        return found
