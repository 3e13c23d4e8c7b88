"""The agent app's widget for a partner's home (portal.home): registrations whose protection is about to
end, counted through the same scope as the list it links to."""

from __future__ import annotations

from sqlalchemy import func, select

from apps.agent.models import Deal
from apps.agent.objects import PARTNER_OBJECT
from apps.agent.registrations.service import expiring_soon
from portal.db.types import utcnow
from portal.home import HomeWidget, Tile, WidgetContext
from portal.i18n import N_
from roles.access import role_policy


async def expiring(context: WidgetContext) -> Tile:
    condition = await role_policy(context.services).scope(context.session, context.actor, PARTNER_OBJECT, "read")
    query = select(func.count()).select_from(Deal).where(condition, expiring_soon(utcnow()))
    return Tile(
        page="agent/registrations?expiring=1",
        api="/api/partner/agent/registrations?expiring=true",
        value=await context.session.scalar(query) or 0,
        caption=N_("registrations whose protection ends within two weeks"),
    )


WIDGETS = (
    HomeWidget(
        "agent.registrations_expiring",
        N_("Registrations about to expire"),
        N_("Approved deal registrations whose protection ends within two weeks: ask for an extension in time."),
        "todo",
        (PARTNER_OBJECT, "read"),
        expiring,
    ),
)
