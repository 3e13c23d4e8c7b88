"""The partner portal's deal page: /p/{slug}/deals lists the deals one may read and registers new ones.

Field rules shape the page as they shape the API: a hidden field is neither a column nor an input, a
read-only one is a column but not an input; the list is the actor's data scope, as in the API.
"""

from __future__ import annotations

from typing import Any

from litestar import Response, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from apps.agent.controllers import xlsx
from apps.agent.deals import Deals, plain
from apps.agent.dependencies import PARTNER_DEPENDENCIES, DealsDep
from apps.agent.models import STAGES
from apps.agent.objects import FIELDS, PARTNER_OBJECT
from interconnect.pages.workspace import CurrentPortal, PortalContext, partner_portal_router
from portal.errors import ValidationFailed
from portal.http.deps import DB, CurrentActor
from portal.i18n import N_
from portal.permissions import requires
from portal.ui.forms import Form
from portal.ui.refusals import field_errors

PAGE_SIZE = 100
STAGE_LABELS = {
    "registered": N_("Registered"),
    "qualified": N_("Qualified"),
    "won": N_("Won"),
    "lost": N_("Lost"),
}
# The form's inputs besides the governed fields (the currency is not under field rules).
FORM_FIELDS = (*(name for name, _label in FIELDS), "currency")


def display(name: str, value: Any) -> str:
    if value is None:
        return ""
    if name in ("amount", "commission_rate"):
        return plain(value)
    return str(value)


async def _deals_page(
    deals: Deals,
    portal: PortalContext,
    *,
    stage: str | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    created: bool = False,
    status_code: int = 200,
) -> Template:
    rules = deals.field_rules()
    stage = stage if stage in STAGES else None
    rows, total = await deals.page(stage, PAGE_SIZE, 0)
    return Template(
        "agent/deals.html",
        context={
            **portal.frame,
            "deals": [deals.out(d) for d in rows],
            "total": total,
            "stage": stage,
            "stages": [(s, STAGE_LABELS[s]) for s in STAGES],
            "stage_labels": STAGE_LABELS,
            # hidden: neither a column nor an input; read-only: a column, not an input
            "columns": [(name, label) for name, label in FIELDS if rules.get(name) != "hidden"],
            "inputs": [name for name, _label in FIELDS if rules.get(name) is None],
            "read_only": [(name, label) for name, label in FIELDS if rules.get(name) == "read_only"],
            "display": display,
            "form": form or {},
            "errors": errors or {},
            "created": created,
        },
        status_code=status_code,
    )


@get("/deals", opt=requires(PARTNER_OBJECT, "read"), include_in_schema=False)
async def deals_page(
    deals: DealsDep,
    portal: CurrentPortal,
    stage: FromQuery[str | None] = None,
    created: FromQuery[str | None] = None,
) -> Template:
    return await _deals_page(deals, portal, stage=stage, created=bool(created))


@post("/deals", opt=requires(PARTNER_OBJECT, "create"), include_in_schema=False)
async def register_deal_page(
    data: Form,
    db: DB,
    actor: CurrentActor,
    deals: DealsDep,
    portal: CurrentPortal,
) -> Template | Redirect:
    """Register a deal for one's own enterprise. A field the form does not offer (hidden or read-only)
    is refused if sent anyway, as in the API."""
    form = {name: data[name].strip() for name in FORM_FIELDS if name in data}
    values = {name: value for name, value in form.items() if value}
    try:
        async with db.begin_nested():
            await deals.create(values, owner_id=actor.user_id, enterprise_id=actor.enterprise_id)
    except ValidationFailed as error:
        return await _deals_page(deals, portal, form=form, errors=field_errors(error), status_code=422)
    return Redirect(portal.path("deals?created=1"))


@get("/deals/export.xlsx", opt=requires(PARTNER_OBJECT, "export"), include_in_schema=False)
async def export_deals_page(deals: DealsDep) -> Response[bytes]:
    """The deals one may read as XLSX, for the browser (the API's export takes a bearer token)."""
    return await xlsx(deals)


PAGES = [partner_portal_router([deals_page, register_deal_page, export_deals_page], dependencies=PARTNER_DEPENDENCIES)]
