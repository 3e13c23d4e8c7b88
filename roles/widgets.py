"""The roles package's widget for a partner's home (portal.home): quick links to the apps the person can
open, and to their colleagues for an enterprise admin. An app is linked only where its first page would
open for this person, so no link leads to a refusal."""

from __future__ import annotations

from portal.home import HomeWidget, Tile, TileLink, WidgetContext
from portal.i18n import N_
from portal.permissions import Permission
from roles.presets import PARTNER_APPS

# Where each partner app opens in the portal, and the permission that first page needs.
APP_ENTRIES: dict[str, tuple[str, Permission]] = {
    "agent": ("deals", ("partner.agent.deal", "read")),
    "ordering": ("ordering/catalog", ("partner.ordering.catalog", "read")),
    # its first page picks the enterprise's tickets or the person's own; an engineer reads their own
    "service": ("service", ("partner.service.job", "read")),
}
COLLEAGUES: Permission = ("partner.colleagues", "read")


def app_links(context: WidgetContext) -> tuple[TileLink, ...]:
    allows = context.services.permissions.allows
    links = [
        TileLink(text, APP_ENTRIES[key][0])
        for key, text in PARTNER_APPS
        if key in APP_ENTRIES and allows(context.actor, APP_ENTRIES[key][1])
    ]
    if allows(context.actor, COLLEAGUES):
        links.append(TileLink(N_("Colleagues"), "colleagues"))
    return tuple(links)


async def quick_links(context: WidgetContext) -> Tile:
    return Tile(page="", links=app_links(context))


WIDGETS = (
    HomeWidget(
        "roles.apps",
        N_("Your apps"),
        N_("Links to the apps the person can open, and to their colleagues for an enterprise admin."),
        "links",
        None,
        quick_links,
    ),
)
