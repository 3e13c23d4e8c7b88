"""The order desk in the console: the queue (waiting for approval first), an order with its lines,
approval steps, shipments and timeline, and the forms for what the order allows next. Each form runs
the same workflow function the API runs, inside a savepoint: a refusal rolls back whatever the step
had begun and is shown on the order's page with its own status."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from litestar import get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from apps.ordering import workflow
from apps.ordering.dependencies import OrdersDep
from apps.ordering.models.orders import ORDER_STATUSES
from apps.ordering.objects import ORDER
from apps.ordering.orders import Orders
from apps.ordering.pages.console_shared import (
    PAGE_SIZE,
    done_message,
    enterprise_choices,
    form_int,
    optional_uuid,
    page_helpers,
    raise_if,
    role_namer,
    text,
)
from portal.errors import DomainError, FieldError, NotFound, ValidationFailed
from portal.http.deps import DB
from portal.i18n import N_
from portal.permissions import requires
from portal.ui.forms import Form
from portal.ui.paging import page_number, paging
from portal.ui.refusals import field_errors, refusal_of

# "submitted" is what waits for the desk, so the queue opens on it.
QUEUE_FILTERS = ("submitted", "open", *[s for s in ORDER_STATUSES if s != "submitted"], "all")


@get("/console/ordering/orders", opt=requires(ORDER, "read"), include_in_schema=False)
async def orders_page(
    db: DB,
    orders: OrdersDep,
    status: FromQuery[str | None] = None,
    q: FromQuery[str | None] = None,
    enterprise: FromQuery[str | None] = None,
    page: FromQuery[str | None] = None,
) -> Template:
    """Filters in the query string, so a filtered queue can be bookmarked."""
    chosen = {
        "status": status if status in QUEUE_FILTERS else "submitted",
        "q": (q or "").strip()[:40],
        "enterprise": optional_uuid(enterprise),
    }
    number = page_number(page)
    wanted = None if chosen["status"] == "all" else chosen["status"]
    rows, total = await orders.page(
        wanted, chosen["q"] or None, chosen["enterprise"], PAGE_SIZE, (number - 1) * PAGE_SIZE
    )
    return Template(
        "ordering/console/orders.html",
        context={
            **page_helpers(),
            "rows": await orders.out_many(rows),
            "total": total,
            "chosen": chosen,
            "filters": QUEUE_FILTERS,
            "enterprises": await enterprise_choices(db),
            "paging": paging("/console/ordering/orders", chosen, number, total, PAGE_SIZE),
            "section": "orders",
        },
    )


async def _order_page(
    db: AsyncSession,
    orders: Orders,
    order_id: uuid.UUID,
    *,
    done: str | None = None,
    alert: str | None = None,
    failed: str | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    order = await orders.out(await orders.get(order_id))
    skus = {line["id"]: line["sku"] for line in order["lines"]}
    pending = next((a for a in order["approvals"] if a["status"] == "pending"), None)
    return Template(
        "ordering/console/order.html",
        context={
            **page_helpers(),
            "order": order,
            "skus": skus,
            "open_lines": [line for line in order["lines"] if line["quantity"] > line["shipped_quantity"]],
            "costs": "cost_price" in order,
            "pending": pending,
            "role_name_of": await role_namer(db),
            "notice": done_message(done),
            "alert": alert,
            "failed": failed,
            "form": form or {},
            "errors": errors or {},
            "section": "orders",
        },
        status_code=status_code,
    )


@get("/console/ordering/orders/{order_id:uuid}", opt=requires(ORDER, "read"), include_in_schema=False)
async def order_page(
    order_id: FromPath[uuid.UUID],
    db: DB,
    orders: OrdersDep,
    done: FromQuery[str | None] = None,
) -> Template:
    return await _order_page(db, orders, order_id, done=done)


async def _act(
    db: AsyncSession,
    orders: Orders,
    order_id: uuid.UUID,
    action: str,
    form: dict[str, str],
    run: Callable[[Orders], Awaitable[str]],
) -> Template | Redirect:
    """Run one transition; back to the order with what happened, or its page showing the refusal."""
    await orders.get(order_id)  # outside the actor's scope (or another tenant's): not found, not refused
    try:
        async with db.begin_nested():
            done = await run(orders)
    except NotFound:
        raise
    except DomainError as error:
        errors = field_errors(error) if isinstance(error, ValidationFailed) else {}
        return await _order_page(
            db,
            orders,
            order_id,
            alert=refusal_of(error),
            failed=action,
            form=form,
            errors=errors,
            status_code=error.status,
        )
    return Redirect(f"/console/ordering/orders/{order_id}?done={done}")


@post("/console/ordering/orders/{order_id:uuid}/approve", opt=requires(ORDER, "approve"), include_in_schema=False)
async def approve_page(order_id: FromPath[uuid.UUID], data: Form, db: DB, orders: OrdersDep) -> Template | Redirect:
    """Take the order's next approval step; the last step approves it."""
    comment = text(data, "comment")

    async def run(orders: Orders) -> str:
        order = await workflow.approve(orders, order_id, comment or None)
        return "approved" if order.status == "approved" else "step"

    return await _act(db, orders, order_id, "approve", {"comment": comment}, run)


@post("/console/ordering/orders/{order_id:uuid}/reject", opt=requires(ORDER, "approve"), include_in_schema=False)
async def reject_page(order_id: FromPath[uuid.UUID], data: Form, db: DB, orders: OrdersDep) -> Template | Redirect:
    comment = text(data, "comment")

    async def run(orders: Orders) -> str:
        await workflow.reject(orders, order_id, comment)
        return "rejected"

    return await _act(db, orders, order_id, "reject", {"comment": comment}, run)


@post("/console/ordering/orders/{order_id:uuid}/cancel", opt=requires(ORDER, "cancel"), include_in_schema=False)
async def cancel_page(order_id: FromPath[uuid.UUID], data: Form, db: DB, orders: OrdersDep) -> Template | Redirect:
    comment = text(data, "comment")

    async def run(orders: Orders) -> str:
        await workflow.cancel(orders, order_id, comment)
        return "cancelled"

    return await _act(db, orders, order_id, "cancel", {"comment": comment}, run)


@post("/console/ordering/orders/{order_id:uuid}/complete", opt=requires(ORDER, "approve"), include_in_schema=False)
async def complete_page(order_id: FromPath[uuid.UUID], data: Form, db: DB, orders: OrdersDep) -> Template | Redirect:
    comment = text(data, "comment")

    async def run(orders: Orders) -> str:
        await workflow.complete(orders, order_id, comment or None)
        return "completed"

    return await _act(db, orders, order_id, "complete", {"comment": comment}, run)


@post("/console/ordering/orders/{order_id:uuid}/ship", opt=requires(ORDER, "ship"), include_in_schema=False)
async def ship_page(order_id: FromPath[uuid.UUID], data: Form, db: DB, orders: OrdersDep) -> Template | Redirect:
    """A shipment of the quantities typed per line (`lines.<line id>`), with carrier and tracking number
    (or as the manufacturer's own delivery); what is left stays for a later shipment."""
    form: dict[str, Any] = {k: v.strip() for k, v in data.items() if k != "_csrf_token"}

    async def run(orders: Orders) -> str:
        errors: list[FieldError] = []
        wanted: dict[uuid.UUID, int] = {}
        for line in (await orders.lines([order_id]))[order_id]:
            if line.quantity > line.shipped_quantity:
                quantity = form_int(data, f"lines.{line.id}", errors, default=0)
                if quantity is not None:
                    wanted[line.id] = quantity
        if not wanted and not errors:
            # the workflow reads "no lines" as "everything left": a form never means that by omission
            errors.append(FieldError("lines", N_("Nothing to ship"), "required"))
        raise_if(errors)
        await workflow.ship(
            orders,
            order_id,
            wanted,
            carrier=text(data, "carrier") or None,
            tracking_number=text(data, "tracking_number") or None,
            own_delivery=bool(data.get("own_delivery")),
        )
        return "shipped"

    return await _act(db, orders, order_id, "ship", form, run)


ORDER_PAGES = [orders_page, order_page, approve_page, reject_page, cancel_page, complete_page, ship_page]
