"""The agent dashboard: the console's /console/agent/dashboard (every partner, a tier or one partner) and a
partner's own /p/<workspace>/agent/dashboard. Each figure is a bar of the UI kit's charts
(portal.ui.charts) with the figures as a table under it, and each leads to the list that shows what it
counts: the lead list, the deal list filtered to registrations (and won ones), over the same days."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Router, get
from litestar.params import FromQuery
from litestar.response import Template
from sqlalchemy import select

from apps.agent.dashboard.figures import PERIODS, Figures, Funnel, Period, Scope, figures
from apps.agent.deals import ANY_PARTNER, REGISTERED
from apps.agent.dependencies import PARTNER_DEPENDENCIES, STAFF_DEPENDENCIES, DealsDep, LeadsDep
from apps.agent.leads.rules import RECYCLE_REASONS
from apps.agent.listing import with_query
from apps.agent.objects import PARTNER_LEAD, STAFF_LEAD
from interconnect.models import EnterpriseLink, PartnerTier
from interconnect.pages.workspace import CurrentPortal, partner_portal_router
from portal.http.deps import DB
from portal.i18n import N_, gettext
from portal.permissions import requires
from portal.ui.charts import Chart, Point, bar_chart
from portal.ui.forms import uuid_or_none
from portal.ui.labels import setting_name

CONSOLE = "/console/agent/dashboard"
TOP_PARTNERS = 8  # partners with a chart of their own (the busiest); the table lists them all
STEPS = (("leads", N_("Leads")), ("registrations", N_("Registrations")), ("won", N_("Won")))
REASON_LABELS = {"no_follow_up": N_("No follow-up in time"), "no_conversion": N_("Not converted in time")}
EXTENSION_LABELS = {"requested": N_("More time asked"), "granted": N_("More time given")}


class Links:
    """Where each figure leads: the lists, filtered to what the figure counts."""

    def __init__(self, period: Period, leads: str, deals: str, staff: bool) -> None:
        self.days = {"from": period.start.isoformat(), "to": period.end.isoformat()}
        self.leads, self.deals, self.staff = leads, deals, staff

    def _partner(self, enterprise: uuid.UUID | None, tier: uuid.UUID | None) -> dict[str, str]:
        if not self.staff:
            return {}
        return {"enterprise": str(enterprise) if enterprise else ANY_PARTNER, "tier": str(tier) if tier else ""}

    def step(self, step: str, enterprise: uuid.UUID | None = None, tier: uuid.UUID | None = None) -> str:
        who = self._partner(enterprise, tier)
        if step == "leads":
            return with_query(self.leads, {**who, **self.days})
        won = {"stage": "won"} if step == "won" else {}
        return with_query(self.deals, {"registration": REGISTERED, **won, **who, **self.days})

    def recycled(self, reason: str, first: str, last: str, enterprise: Any = None, tier: Any = None) -> str | None:
        if not self.staff:
            return None  # a lead taken back is no longer the partner's: its list does not show it
        who = {"enterprise": str(enterprise or ""), "tier": str(tier or "")}
        return with_query(self.leads, {"recycled": reason, **who, "from": first, "to": last})

    def extension(self, kind: str, first: str, last: str, enterprise: Any = None, tier: Any = None) -> str | None:
        if not self.staff:
            return None
        who = {"enterprise": str(enterprise or ""), "tier": str(tier or "")}
        return with_query(self.leads, {"extension": kind, **who, "from": first, "to": last})


def funnel_chart(
    funnel: Funnel,
    links: Links,
    enterprise: Any = None,
    tier: Any = None,
    *,
    linked: bool = True,
    steps: tuple[tuple[str, str], ...] = STEPS,
) -> Chart:
    """Leads, registrations, won: each bar leads to its list (`linked`: a group no list filter names,
    partners of no tier, has none)."""
    return bar_chart(
        [
            Point(gettext(label), getattr(funnel, step), href=links.step(step, enterprise, tier) if linked else None)
            for step, label in steps
        ]
    )


def _short(name: str) -> str:
    return name if len(name) <= 14 else f"{name[:13]}…"


def charts(found: Figures, links: Links, scope: Scope, stage_hidden: bool = False) -> dict[str, Any]:
    """The page's charts, each with the links of its bars and its table's rows. A viewer whose field rules
    hide the deals' stage is shown no "won" step (it would tell the stage)."""
    period = found.period
    steps = tuple(s for s in STEPS if not (stage_hidden and s[0] == "won"))
    single = found.period.bucket_days == 1

    def buckets(counts: list[int], link: Any) -> Chart:
        points = []
        for index, count in enumerate(counts):
            first, last = period.bucket(index)
            label = first.strftime("%m-%d")
            title = first.isoformat() if single else gettext("%(start)s to %(end)s", start=first, end=last)
            href = link(first.isoformat(), last.isoformat()) if count else None
            points.append(Point(label, count, title=title, href=href))
        return bar_chart(points)

    who = {"enterprise": scope.enterprise_id, "tier": scope.tier_id}
    recycled = [
        (
            reason,
            REASON_LABELS[reason],
            found.recycled_total[reason],
            links.recycled(reason, period.start.isoformat(), period.end.isoformat(), **who),
            buckets(found.recycled[reason], lambda a, b, r=reason: links.recycled(r, a, b, **who)),
        )
        for reason in RECYCLE_REASONS
    ]
    extensions = [
        (
            kind,
            EXTENSION_LABELS[kind],
            found.extensions_total[kind],
            links.extension(kind, period.start.isoformat(), period.end.isoformat(), **who),
            buckets(found.extensions[kind], lambda a, b, k=kind: links.extension(k, a, b, **who)),
        )
        for kind in ("requested", "granted")
    ]
    return {
        "total": found.total,
        "total_chart": funnel_chart(found.total, links, scope.enterprise_id, scope.tier_id, steps=steps),
        "tiers": [
            (
                setting_name(name) if name else gettext("No tier"),
                funnel,
                funnel_chart(funnel, links, None, key, linked=key is not None, steps=steps),
                key,
            )
            for key, name, funnel in found.tiers
        ],
        "partners": [
            (p, funnel_chart(p.funnel, links, p.id, None, steps=steps) if index < TOP_PARTNERS else None)
            for index, p in enumerate(found.partners)
        ],
        "recycled": recycled,
        "extensions": extensions,
        "links": links,
        "step_names": steps,
        "stage_hidden": stage_hidden,
        "short": _short,
        "rate": _rate,
    }


def _rate(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "—"


def _days(text: str | None) -> int:
    return int(text) if text and text.isdigit() and int(text) in PERIODS else PERIODS[0]


@get(CONSOLE, opt=requires(STAFF_LEAD, "read"), include_in_schema=False)
async def console_dashboard(
    db: DB,
    leads: LeadsDep,
    deals: DealsDep,
    days: FromQuery[str | None] = None,
    tier: FromQuery[str | None] = None,
    enterprise: FromQuery[str | None] = None,
) -> Template:
    """Within the viewer's data scope, as the lists: the figures count what their links list."""
    scope = Scope(uuid_or_none(enterprise), uuid_or_none(tier))
    found = await figures(leads, deals, _days(days), scope)
    links = Links(found.period, "/console/agent/leads", "/console/agent/deals", staff=True)
    partners = [
        (str(key), name)
        for key, name in await db.execute(
            select(EnterpriseLink.id, EnterpriseLink.name)
            .where(EnterpriseLink.status == "active")
            .order_by(EnterpriseLink.name)
        )
    ]
    tiers = [
        (str(key), setting_name(name))
        for key, name in await db.execute(select(PartnerTier.id, PartnerTier.name).order_by(PartnerTier.rank.desc()))
    ]
    return Template(
        "agent/dashboard/console.html",
        context={
            **charts(found, links, scope, "stage" in deals.hidden()),
            "period": found.period,
            "periods": PERIODS,
            "chosen": {"enterprise": str(scope.enterprise_id or ""), "tier": str(scope.tier_id or "")},
            "partner_choices": partners,
            "tier_choices": tiers,
            "reason_labels": REASON_LABELS,
        },
    )


@get("/agent/dashboard", opt=requires(PARTNER_LEAD, "read"), include_in_schema=False)
async def partner_dashboard(
    leads: LeadsDep, deals: DealsDep, portal: CurrentPortal, days: FromQuery[str | None] = None
) -> Template:
    """The partner's own figures: its leads and registrations, what it lost to recycling and asked for."""
    scope = Scope(leads.actor.enterprise_id or uuid.UUID(int=0), None)
    found = await figures(leads, deals, _days(days), scope)
    links = Links(found.period, portal.path("agent/leads"), portal.path("deals"), staff=False)
    return Template(
        "agent/dashboard/portal.html",
        context={
            **portal.frame,
            **charts(found, links, scope, "stage" in deals.hidden()),
            "period": found.period,
            "periods": PERIODS,
        },
    )


DASHBOARD_PAGES: list[Any] = [
    Router(path="/", route_handlers=[console_dashboard], dependencies=STAFF_DEPENDENCIES),
    partner_portal_router([partner_dashboard], dependencies=PARTNER_DEPENDENCIES),
]
