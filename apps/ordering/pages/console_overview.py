"""The ordering overview: today's and the open orders by status, what waits for the desk, and a bar
chart of orders per day over the last two weeks, drawn as inline SVG (no script, nothing fetched).
Counts come from the actor's order scope, so the page shows what their queue shows."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from litestar import get
from litestar.response import Template
from sqlalchemy import func, select

from apps.ordering.dependencies import OrdersDep
from apps.ordering.models import Payment
from apps.ordering.objects import ORDER, PAYMENT
from apps.ordering.orders import RECEIVABLE_STATUSES
from apps.ordering.pages.console_shared import AnyRequest, page_helpers
from portal.db.types import utcnow
from portal.http.deps import DB, CurrentActor
from portal.permissions import requires
from portal.ui.charts import Chart, Point, bar_chart
from roles.access import policy_of

CHART_DAYS = 14
OPEN_STATUSES = ("submitted", "approved", "partially_shipped", "shipped")


def chart_of(per_day: list[tuple[str, int]]) -> Chart:
    """One bar per day (MM-DD under it), heights against the busiest day: the UI kit's bar chart."""
    return bar_chart([Point(day[5:], count, title=day) for day, count in per_day])


@get("/console/ordering", opt=requires(ORDER, "read"), include_in_schema=False)
async def overview_page(request: AnyRequest, db: DB, actor: CurrentActor, orders: OrdersDep) -> Template:
    scoped = (await orders.query()).subquery()
    now = utcnow()
    today = datetime.combine(now.date(), time.min, tzinfo=UTC)
    first_day = today - timedelta(days=CHART_DAYS - 1)

    today_counts = dict(
        (
            await db.execute(
                select(scoped.c.status, func.count()).where(scoped.c.created_at >= today).group_by(scoped.c.status)
            )
        ).all()
    )
    open_counts = dict(
        (
            await db.execute(
                select(scoped.c.status, func.count())
                .where(scoped.c.status.in_(OPEN_STATUSES))
                .group_by(scoped.c.status)
            )
        ).all()
    )
    unpaid = (
        await db.scalar(
            select(func.count()).where(scoped.c.status.in_(RECEIVABLE_STATUSES), scoped.c.paid_amount < scoped.c.total)
        )
        or 0
    )
    # date() is a function on both SQLite and PostgreSQL; its result is a date or its ISO text.
    day = func.date(scoped.c.created_at)
    counted = {
        str(d)[:10]: n
        for d, n in await db.execute(select(day, func.count()).where(scoped.c.created_at >= first_day).group_by(day))
    }
    per_day = [((first_day + timedelta(days=i)).date().isoformat(), 0) for i in range(CHART_DAYS)]
    per_day = [(d, counted.get(d, 0)) for d, _n in per_day]

    reported = None
    if policy_of(request).allows(actor, (PAYMENT, "read")):
        reported = await db.scalar(select(func.count()).select_from(Payment).where(Payment.status == "reported")) or 0
    return Template(
        "ordering/console/overview.html",
        context={
            **page_helpers(),
            "today_counts": today_counts,
            "today_total": sum(today_counts.values()),
            "open_counts": open_counts,
            "open_statuses": OPEN_STATUSES,
            "waiting": open_counts.get("submitted", 0),
            "unpaid": unpaid,
            "reported": reported,
            "chart": chart_of(per_day),
            "chart_days": CHART_DAYS,
            "chart_total": sum(n for _d, n in per_day),
            "section": "overview",
        },
    )


OVERVIEW_PAGES = [overview_page]
