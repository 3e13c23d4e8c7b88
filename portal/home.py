"""The widgets a partner's home is composed of.

A package contributes widgets through its component (`Component.home_widgets`); an upstream admin picks
which of them each external role's home shows, per channel (roles/home.py), and the partner home page and
`GET /api/partner/home` show a person the widgets of their roles that their permissions open. A widget
loads its figure with the person's own services, so it shows what the list behind it shows.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from portal.actor import Actor
from portal.permissions import Permission

if TYPE_CHECKING:
    from portal.services import Services

Channel = Literal["web", "mobile"]
CHANNELS: tuple[Channel, ...] = ("web", "mobile")
# todo: something waiting for the person; kpi: a figure with a small chart; links: where to go
WidgetKind = Literal["todo", "kpi", "links"]


@dataclass(frozen=True)
class TileLink:
    text: str  # a message id, translated where shown, unless `literal` (a title someone typed)
    # relative to the partner workspace: "ordering/orders?status=shipped"
    page: str
    literal: bool = False


@dataclass(frozen=True)
class Tile:
    """What a widget shows now. `page` is the list behind the figure, relative to the workspace;
    `api` is the same list in the partner API, for the app and the mini-program."""

    page: str
    value: int | Decimal | None = None
    caption: str = ""
    api: str | None = None
    # a small chart: (label, figure) oldest first
    series: tuple[tuple[str, int | Decimal], ...] = ()
    links: tuple[TileLink, ...] = ()
    # what a list widget says when it has no links (a message id)
    empty: str = ""


@dataclass(frozen=True)
class WidgetContext:
    session: AsyncSession
    actor: Actor
    services: Services


@dataclass(frozen=True)
class HomeWidget:
    key: str  # "<package>.<name>", stored in role layouts; never changes
    title: str  # a message id, translated where shown
    description: str  # for the admin composing a home
    kind: WidgetKind
    # what the person needs for the widget to appear (the permission of the list behind it); None: anyone
    permission: Permission | None
    load: Callable[[WidgetContext], Awaitable[Tile | None]] = field(repr=False)
    # shown on a role's home until an admin composes it
    default: bool = True
