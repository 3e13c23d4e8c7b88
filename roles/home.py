"""A partner person's home: the widgets their roles' layouts name for a channel, in order, each shown only
when the person's permissions open the list behind it, with its figure loaded as that person.

The person's composed roles decide (a base role such as "member", never composed, adds nothing); when
none of their roles was composed, the default widgets show (`HomeWidget.default`). The mobile channel of
a role composed for the web only falls back to its web layout, so an admin composes a role once and
adjusts the phone's home where it should differ.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.actor import Actor
from portal.home import Channel, HomeWidget, Tile, WidgetContext
from portal.services import Services
from portal.ui.numbers import money
from roles.models import Role

KIND_ORDER = ("todo", "kpi", "links")


@dataclass(frozen=True)
class ShownWidget:
    widget: HomeWidget
    tile: Tile

    @property
    def figure(self) -> str:
        """The headline as shown: whole numbers with thousands separated, amounts with two decimals."""
        return figure(self.tile.value)

    @property
    def bars(self) -> list[tuple[str, str, float]]:
        """The small chart's bars: (label, figure, height as a share of the tallest, at least a sliver)."""
        top = max([v for _label, v in self.tile.series] + [0])
        return [(label, figure(v), max(0.02, float(v / top)) if top > 0 else 0.02) for label, v in self.tile.series]


def figure(value: int | Decimal | None) -> str:
    if value is None or isinstance(value, Decimal):
        return money(value)
    return f"{value:,}"


def layout_of(home: Mapping[str, Sequence[str]] | None, channel: Channel) -> Sequence[str] | None:
    """The widget keys one role's layout names for the channel, or None where it was never composed."""
    home = home or {}
    if channel in home:
        return home[channel]
    return home.get("web") if channel == "mobile" else None


def defaults(widgets: Mapping[str, HomeWidget]) -> list[str]:
    """The home of a role no one composed: what waits for the person, then figures, then links."""
    chosen = [w for w in widgets.values() if w.default]
    return [w.key for w in sorted(chosen, key=lambda w: KIND_ORDER.index(w.kind))]


def composed(layouts: Sequence[Sequence[str] | None], widgets: Mapping[str, HomeWidget]) -> list[HomeWidget]:
    """The union of the composed layouts among the person's roles, first mention first; the defaults when
    none of their roles was composed for the channel."""
    chosen = [layout for layout in layouts if layout is not None] or [defaults(widgets)]
    keys: list[str] = []
    for layout in chosen:
        for key in layout:
            if key in widgets and key not in keys:
                keys.append(key)
    return [widgets[k] for k in keys]


async def home_of(session: AsyncSession, actor: Actor, services: Services, channel: Channel) -> list[ShownWidget]:
    rows = await session.execute(
        select(Role.home).where(Role.key.in_(actor.roles), Role.kind == "external").order_by(Role.name)
    )
    widgets = services.home_widgets
    chosen = composed([layout_of(home, channel) for (home,) in rows], widgets)
    context = WidgetContext(session, actor, services)
    shown = []
    for widget in chosen:
        if widget.permission is not None and not services.permissions.allows(actor, widget.permission):
            continue
        tile = await widget.load(context)
        if tile is not None:
            shown.append(ShownWidget(widget, tile))
    return shown
