"""The ordering app's widgets for a partner's home (portal.home): orders to receive, the balance due and
the enterprise's spending per month, each counted through the same scope as the list it links to."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from itertools import pairwise

from babel.dates import format_date
from sqlalchemy import case, func, select

from apps.ordering.account import balance
from apps.ordering.models.orders import Order
from apps.ordering.objects import PARTNER_ACCOUNT, PARTNER_ORDER
from portal.home import HomeWidget, Tile, WidgetContext
from portal.i18n import N_, current_language
from portal.timezones import zone
from roles.access import role_policy

# what a month's spending counts: orders the manufacturer accepted, not the ones it refused or dropped
SPENT = ("approved", "partially_shipped", "shipped", "received", "completed")
MONTHS = 6


async def _count(context: WidgetContext, status: str) -> int:
    condition = await role_policy(context.services).scope(context.session, context.actor, PARTNER_ORDER, "read")
    query = select(func.count()).select_from(Order).where(condition, Order.status == status)
    return await context.session.scalar(query) or 0


async def to_receive(context: WidgetContext) -> Tile:
    return Tile(
        page="ordering/orders?status=shipped",
        api="/api/partner/ordering/orders?status=shipped",
        value=await _count(context, "shipped"),
        caption=N_("shipped to you, waiting for your receipt"),
    )


async def balance_due(context: WidgetContext) -> Tile | None:
    if context.actor.enterprise_id is None:
        return None
    owed = await balance(context.session, context.actor.enterprise_id)
    return Tile(
        page="ordering/account",
        api="/api/partner/ordering/account",
        value=max(owed, Decimal(0)),
        caption=N_("owed to the manufacturer") if owed > 0 else N_("nothing owed"),
    )


def month_starts(now: datetime, time_zone: str, months: int = MONTHS) -> list[datetime]:
    """The first instants of the last `months` months and of the next one, in the person's time zone, as UTC."""
    local = now.astimezone(zone(time_zone))
    year, month = local.year, local.month
    starts = []
    for back in range(months - 1, -2, -1):
        y, m = divmod((year * 12 + month - 1) - back, 12)
        starts.append(datetime(y, m + 1, 1, tzinfo=zone(time_zone)).astimezone(UTC))
    return starts


async def spending(context: WidgetContext) -> Tile:
    starts = month_starts(datetime.now(UTC), context.actor.time_zone)
    condition = await role_policy(context.services).scope(context.session, context.actor, PARTNER_ORDER, "read")
    # one row: each month's sum, in one pass over the window's orders
    sums = [
        func.coalesce(func.sum(case((Order.created_at >= low, Order.total), else_=0)), 0)
        - func.coalesce(func.sum(case((Order.created_at >= high, Order.total), else_=0)), 0)
        for low, high in pairwise(starts)
    ]
    row = (
        await context.session.execute(
            select(*sums).where(condition, Order.status.in_(SPENT), Order.created_at >= starts[0])
        )
    ).one()
    local = [s.astimezone(zone(context.actor.time_zone)) for s in starts[:-1]]
    language = current_language()
    series = tuple((format_date(d, "MMM", locale=language), Decimal(v)) for d, v in zip(local, row, strict=True))
    return Tile(
        page="ordering/orders",
        api="/api/partner/ordering/orders",
        value=series[-1][1],
        caption=N_("ordered this month"),
        series=series,
    )


WIDGETS = (
    HomeWidget(
        "ordering.to_receive",
        N_("Orders to receive"),
        N_("Orders shipped to the enterprise that no one has confirmed receiving yet."),
        "todo",
        (PARTNER_ORDER, "read"),
        to_receive,
    ),
    HomeWidget(
        "ordering.balance_due",
        N_("Balance due"),
        N_("What the enterprise owes the manufacturer, from its account statement."),
        "todo",
        (PARTNER_ACCOUNT, "read"),
        balance_due,
    ),
    HomeWidget(
        "ordering.spending",
        N_("Orders per month"),
        N_("The value of the orders the manufacturer accepted, in each of the last six months."),
        "kpi",
        (PARTNER_ORDER, "read"),
        spending,
    ),
)
