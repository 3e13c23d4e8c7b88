"""My orders: /p/{slug}/ordering/orders lists the orders the actor's data scope reaches (filtered by
status, searched by number), each order has its page with lines, approval, shipments and timeline, and
the actions its status and the actor's role allow (cancel with a reason, confirm receipt). The XLSX is
served here because the API takes no session cookie."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from apps.ordering import workflow
from apps.ordering.controllers.shared import xlsx
from apps.ordering.dependencies import OrdersDep
from apps.ordering.lifecycle import LABELS
from apps.ordering.models import OrderEvent
from apps.ordering.models.orders import ORDER_STATUSES
from apps.ordering.objects import PARTNER_ORDER
from apps.ordering.orders import Orders
from apps.ordering.pages.partner_shared import (
    ACTION_LABELS,
    APPROVAL_LABELS,
    APPROVAL_REASONS,
    AnyRequest,
    base_of,
    form_errors,
    limited,
    may,
    refusal_lines,
    render,
)
from interconnect.pages.workspace import CurrentPortal, PortalContext
from portal.errors import Conflict, ValidationFailed
from portal.http.deps import DB, CurrentActor
from portal.i18n import N_
from portal.permissions import requires
from portal.ui.forms import Form
from portal.ui.paging import page_number, paging

PAGE_SIZE = 20
OPEN = "open"
DONE_NOTICES = {
    "placed": N_("Your order is placed. It waits for the manufacturer's approval."),
    "cancelled": N_("The order is cancelled."),
    "received": N_("Thank you: the receipt is confirmed."),
}
# The actions a partner takes on this page; any other the lifecycle lists is the manufacturer's.
PAGE_ACTIONS = ("cancel", "receive")


@get("/ordering/orders", opt=requires(PARTNER_ORDER, "read"), include_in_schema=False)
async def orders_page(
    request: AnyRequest,
    actor: CurrentActor,
    portal: CurrentPortal,
    orders: OrdersDep,
    status: FromQuery[str | None] = None,
    q: FromQuery[str | None] = None,
    page: FromQuery[str | None] = None,
) -> Template:
    status = status if status == OPEN or status in ORDER_STATUSES else None
    search = (q or "").strip()[:40]
    current = page_number(page)
    rows, total = await orders.page(status, search or None, None, PAGE_SIZE, (current - 1) * PAGE_SIZE)
    query = {"status": status or "", "q": search}
    return render(
        "orders",
        portal,
        orders=await orders.out_many(rows),
        total=total,
        status=status,
        search=search,
        statuses=[(OPEN, N_("Open")), *((s, LABELS[s]) for s in ORDER_STATUSES)],
        paging=paging(f"{base_of(portal)}/orders", query, current, total, PAGE_SIZE, bare_first=True),
        may_export=may(request, actor, PARTNER_ORDER, "export"),
        filtered=bool(status or search),
    )


@get("/ordering/orders/export.xlsx", opt=requires(PARTNER_ORDER, "export"), include_in_schema=False)
async def export_orders_page(orders: OrdersDep) -> Response[bytes]:
    """The same workbook as the API's: the orders of the actor's scope, without the hidden fields."""
    columns, rows = await orders.export_rows()
    return await xlsx("orders", columns, rows)


def timeline_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """What happened, in words: an approval step says which step, the system's moves say so."""
    return {**entry, "what": ACTION_LABELS.get(entry["action"], entry["action"])}


async def _order_page(
    orders: Orders,
    portal: PortalContext,
    order_id: uuid.UUID,
    *,
    done: str | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    refusal: list[str] | None = None,
    status_code: int = 200,
) -> Template:
    order = await orders.out(await orders.get(order_id))
    skus = {line["id"]: f"{line['sku']} {line['name']}" for line in order["lines"]}
    return render(
        "order",
        portal,
        status_code,
        order=order,
        actions=[a for a in order["actions"] if a in PAGE_ACTIONS],
        timeline=[timeline_entry(e) for e in order["timeline"]],
        approval_labels=APPROVAL_LABELS,
        approval_reasons=APPROVAL_REASONS,
        skus=skus,
        notice=DONE_NOTICES.get(done or ""),
        form=form or {},
        errors=errors or {},
        refusal=refusal or [],
    )


@get("/ordering/orders/{order_id:uuid}", opt=requires(PARTNER_ORDER, "read"), include_in_schema=False)
async def order_page(
    order_id: FromPath[uuid.UUID],
    portal: CurrentPortal,
    orders: OrdersDep,
    placed: FromQuery[str | None] = None,
    done: FromQuery[str | None] = None,
) -> Template:
    """An order of the actor's scope; any other (another enterprise's) is not found."""
    return await _order_page(orders, portal, order_id, done="placed" if placed else done)


async def _transition(
    action: str,
    order_id: uuid.UUID,
    data: dict[str, str],
    db: AsyncSession,
    orders: Orders,
    portal: PortalContext,
) -> Template | Redirect:
    form = {"comment": data.get("comment", "")}
    try:
        comment = limited(form, {"comment": OrderEvent.__table__.c.comment})["comment"]
        async with db.begin_nested():
            if action == "cancel":
                await workflow.cancel(orders, order_id, comment)
            else:
                await workflow.receive(orders, order_id, comment)
    except ValidationFailed as error:
        errors = {f"{action}.{name}": message for name, message in form_errors(error).items()}
        return await _order_page(orders, portal, order_id, form=form, errors=errors, status_code=422)
    except Conflict as error:  # the order moved on meanwhile, or payments are matched to it
        return await _order_page(orders, portal, order_id, refusal=refusal_lines(error), status_code=error.status)
    done = "cancelled" if action == "cancel" else "received"
    return Redirect(f"{base_of(portal)}/orders/{order_id}?done={done}")


@post(
    "/ordering/orders/{order_id:uuid}/cancel",
    opt=requires(PARTNER_ORDER, "cancel"),
    include_in_schema=False,
)
async def cancel_order_page(
    order_id: FromPath[uuid.UUID],
    data: Form,
    db: DB,
    orders: OrdersDep,
    portal: CurrentPortal,
) -> Template | Redirect:
    """Cancel an order not yet approved; the reason is required."""
    return await _transition("cancel", order_id, data, db, orders, portal)


@post(
    "/ordering/orders/{order_id:uuid}/receive",
    opt=requires(PARTNER_ORDER, "receive"),
    include_in_schema=False,
)
async def receive_order_page(
    order_id: FromPath[uuid.UUID],
    data: Form,
    db: DB,
    orders: OrdersDep,
    portal: CurrentPortal,
) -> Template | Redirect:
    """Confirm that the goods of a shipped order arrived."""
    return await _transition("receive", order_id, data, db, orders, portal)


ORDER_PAGES = [orders_page, export_orders_page, order_page, cancel_order_page, receive_order_page]
