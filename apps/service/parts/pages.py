"""Spare parts on pages. The console (/console/service/parts): every partner's stock (one partner's with
the filter), the form correcting it (a change with its reason) with the latest corrections, and the
requests, each with the decisions it allows now (approve, reject with a reason, ship). The partner
portal (/p/{slug}/service/parts): the enterprise's stock, its requests and a form to
ask for more. Both run the same services as the API; a refusal shows the page again with why."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Router, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from apps.service.pages.shared import page_helpers, service_partners, text
from apps.service.parts import stock
from apps.service.parts.objects import PARTNER_REQUEST, PARTNER_STOCK, REQUEST, STOCK
from apps.service.parts.requests import STATUS_LABELS, STEPS, Line, PartRequests
from interconnect.pages.workspace import CurrentPortal, PortalContext, partner_portal_router
from portal.errors import DomainError, FieldError, NotFound, ValidationFailed
from portal.http.deps import DB, CurrentActor
from portal.i18n import N_, gettext
from portal.permissions import requires
from portal.ui.forms import Form, uuid_or_none
from portal.ui.refusals import field_errors, refusal_of
from roles.access import policy_of

AnyRequest = Request[Any, Any, Any]
CONSOLE = "/console/service/parts"
DONE = {
    "requested": N_("Your request is sent to the manufacturer."),
    "approve": N_("The request is approved: ship it when the parts leave."),
    "reject": N_("The request is rejected."),
    "ship": N_("The request is shipped: the parts are in the partner's stock."),
    "adjusted": N_("The stock is corrected."),
}
DECISIONS = ("approve", "reject", "ship")
DECISION_LABELS = {"approve": N_("Approve"), "reject": N_("Reject"), "ship": N_("Mark as shipped")}


def _helpers() -> dict[str, Any]:
    return {
        **page_helpers(),
        "request_status": lambda code: gettext(STATUS_LABELS[code]) if code in STATUS_LABELS else code,
        "decision_label": lambda code: gettext(DECISION_LABELS[code]),
    }


def _done(done: str | None) -> str | None:
    found = DONE.get(done or "")
    return gettext(found) if found else None


def _allowed(requests: PartRequests, status: str) -> list[str]:
    permission = {"approve": "approve", "reject": "approve", "ship": "ship"}
    return [a for a in DECISIONS if (status, a) in STEPS and requests.may(permission[a])]


# --- console ---


async def _console_view(
    request: AnyRequest,
    db: DB,
    actor: CurrentActor,
    *,
    enterprise_id: uuid.UUID | None = None,
    status: str | None = None,
    done: str | None = None,
    alert: str | None = None,
    failed: str | None = None,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    policy = policy_of(request)
    requests = PartRequests(db, policy, actor, REQUEST)
    may_adjust = policy.allows(actor, (STOCK, "adjust"))
    rows: list[dict[str, Any]] = []
    total = 0
    if requests.may("read"):
        found, total = await requests.page(status, 100, 0)
        rows = [{**r, "decisions": _allowed(requests, r["status"])} for r in await requests.out_many(found)]
    shown_stock = (
        await stock.stock_rows(db, policy, actor, STOCK, enterprise_id) if policy.allows(actor, (STOCK, "read")) else []
    )
    return Template(
        "service/console/parts.html",
        context={
            **_helpers(),
            "section": "parts",
            "stock": shown_stock,
            "requests": rows,
            "total": total,
            "partners": await service_partners(db),
            "chosen": {"enterprise_id": str(enterprise_id or ""), "status": status or ""},
            "statuses": tuple(STATUS_LABELS),
            "may_adjust": may_adjust,
            "products": await stock.catalog_choices(db) if may_adjust else [],
            "adjustments": await stock.adjustments(db, enterprise_id, limit=20),
            "form": form or {},
            "notice": _done(done),
            "alert": alert,
            "failed": failed,
            "errors": errors or {},
        },
        status_code=status_code,
    )


@get(CONSOLE, opt=requires(STOCK, "read"), include_in_schema=False)
async def console_parts_page(
    request: AnyRequest,
    db: DB,
    actor: CurrentActor,
    enterprise_id: FromQuery[str | None] = None,
    status: FromQuery[str | None] = None,
    done: FromQuery[str | None] = None,
) -> Template:
    chosen = status if status in STATUS_LABELS else None
    return await _console_view(
        request, db, actor, enterprise_id=uuid_or_none(enterprise_id or ""), status=chosen, done=done
    )


def _decision_page(action: str) -> Any:
    permission = "approve" if action in ("approve", "reject") else "ship"

    async def handler(
        request: AnyRequest, request_id: FromPath[uuid.UUID], data: Form, db: DB, actor: CurrentActor
    ) -> Template | Redirect:
        requests = PartRequests(db, policy_of(request), actor, REQUEST)
        try:
            async with db.begin_nested():
                await requests.decide(request_id, action, text(data, "note") or None)
        except NotFound:
            raise
        except DomainError as error:
            errors = field_errors(error) if isinstance(error, ValidationFailed) else {}
            return await _console_view(
                request,
                db,
                actor,
                alert=refusal_of(error),
                failed=f"{request_id}:{action}",
                errors=errors,
                status_code=error.status,
            )
        return Redirect(f"{CONSOLE}?done={action}")

    handler.__name__ = handler.__qualname__ = f"{action}_part_request_page"
    return post(
        f"{CONSOLE}/requests/{{request_id:uuid}}/{action}", opt=requires(REQUEST, permission), include_in_schema=False
    )(handler)


@post(f"{CONSOLE}/adjustments", opt=requires(STOCK, "adjust"), include_in_schema=False)
async def adjust_stock_page(request: AnyRequest, data: Form, db: DB, actor: CurrentActor) -> Template | Redirect:
    """A correction of one partner's stock of one part; refused whole, with why, the form kept."""
    form = {name: text(data, name) for name in ("enterprise_id", "product_id", "change", "reason")}
    raw = form["change"].replace(" ", "")
    digits = raw.removeprefix("-").removeprefix("+")
    change = int(raw) if digits.isdigit() and len(digits) <= 6 else 0
    try:
        enterprise_id, product_id = uuid_or_none(form["enterprise_id"]), uuid_or_none(form["product_id"])
        missing = [
            FieldError(name, message, "required")
            for name, value, message in (
                ("enterprise_id", enterprise_id, N_("Choose the service partner")),
                ("product_id", product_id, N_("Choose the part")),
            )
            if value is None
        ]
        if missing:
            raise ValidationFailed(missing)
        assert enterprise_id is not None and product_id is not None
        async with db.begin_nested():
            await stock.adjust(db, actor, enterprise_id, product_id, change, form["reason"])
    except DomainError as error:
        errors = field_errors(error) if isinstance(error, ValidationFailed) else {}
        return await _console_view(
            request,
            db,
            actor,
            alert=refusal_of(error),
            failed="adjust",
            errors=errors,
            form=form,
            status_code=error.status,
        )
    return Redirect(f"{CONSOLE}?done=adjusted")


# --- partner portal ---


async def _partner_view(
    request: AnyRequest,
    db: DB,
    actor: CurrentActor,
    portal: PortalContext,
    *,
    done: str | None = None,
    alert: str | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    policy = policy_of(request)
    requests = PartRequests(db, policy, actor, PARTNER_REQUEST)
    rows: list[dict[str, Any]] = []
    if requests.may("read"):
        found, _total = await requests.page(None, 50, 0)
        rows = await requests.out_many(found)
    may_request = requests.may("create")
    return Template(
        "service/portal/parts.html",
        context={
            **portal.frame,
            **_helpers(),
            "base": portal.path("service/parts"),
            "stock": await stock.stock_rows(db, policy, actor, PARTNER_STOCK),
            "requests": rows,
            "may_request": may_request,
            "products": await stock.catalog_choices(db) if may_request else [],
            "notice": _done(done),
            "alert": alert,
            "form": form or {},
            "errors": errors or {},
        },
        status_code=status_code,
    )


@get("/service/parts", opt=requires(PARTNER_STOCK, "read"), include_in_schema=False)
async def partner_parts_page(
    request: AnyRequest, db: DB, actor: CurrentActor, portal: CurrentPortal, done: FromQuery[str | None] = None
) -> Template:
    return await _partner_view(request, db, actor, portal, done=done)


@post("/service/parts/requests", opt=requires(PARTNER_REQUEST, "create"), include_in_schema=False)
async def request_parts_page(
    request: AnyRequest, data: Form, db: DB, actor: CurrentActor, portal: CurrentPortal
) -> Template | Redirect:
    """One part per request from the page (the API takes several lines)."""
    form = {name: text(data, name) for name in ("product_id", "quantity", "note")}
    product_id = uuid_or_none(form["product_id"])
    quantity = int(form["quantity"]) if form["quantity"].isdigit() and len(form["quantity"]) <= 6 else 0
    try:
        if product_id is None:
            raise ValidationFailed.single("product_id", N_("Choose the part"), "required")
        async with db.begin_nested():
            await PartRequests(db, policy_of(request), actor, PARTNER_REQUEST).create(
                [Line(product_id, quantity)], form["note"]
            )
    except DomainError as error:
        errors = field_errors(error) if isinstance(error, ValidationFailed) else {}
        errors = {key.removeprefix("lines[0]."): value for key, value in errors.items()}
        return await _partner_view(
            request, db, actor, portal, alert=refusal_of(error), form=form, errors=errors, status_code=error.status
        )
    return Redirect(portal.path("service/parts?done=requested"))


PARTS_PAGES: list[Any] = [
    Router(
        path="/",
        route_handlers=[console_parts_page, adjust_stock_page, *(_decision_page(a) for a in DECISIONS)],
    ),
    partner_portal_router([partner_parts_page, request_parts_page]),
]
