"""The announcements' widget for a partner's home (portal.home): the newest three addressed to the person."""

from __future__ import annotations

from interconnect.announcements.service import Announcements
from portal.home import HomeWidget, Tile, TileLink, WidgetContext
from portal.i18n import N_

SHOWN = 3


async def latest(context: WidgetContext) -> Tile:
    rows, total = await Announcements(context.session, context.actor).current(limit=SHOWN)
    return Tile(
        page="announcements",
        api="/api/partner/announcements",
        value=total,
        links=tuple(TileLink(a.title, f"announcements/{a.id}", literal=True) for a in rows),
        empty=N_("No announcements at the moment."),
    )


WIDGETS = (
    HomeWidget(
        "interconnect.announcements",
        N_("Announcements"),
        N_("The manufacturer's newest announcements to the person's enterprise."),
        "links",
        ("partner.profile", "read"),
        latest,
    ),
)
