"""The console's webhook pages (/console/webhooks/...): the endpoints and a form for a new one, an
endpoint's page (edit, disable, rotate its secret, ping, delete, its latest deliveries), the delivery log
with filters and a delivery's page with replay. They call the services the API calls; a new or rotated
secret is shown on the page that answers the form, once."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Router, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from portal.errors import Conflict, DomainError, ValidationFailed
from portal.http.deps import CurrentActor, ServicesDep
from portal.i18n import N_
from portal.permissions import requires
from portal.ui.forms import MultiForm, form_value, form_values, uuid_or_none
from portal.ui.paging import page_number, paging
from portal.ui.refusals import field_errors, refusal_of
from sync.webhooks.dependencies import DEPENDENCIES, EndpointsDep, WebhooksDep
from sync.webhooks.events import PUBLIC_EVENT_TYPES
from sync.webhooks.models import OUTCOMES, WebhookEndpoint
from sync.webhooks.objects import ENDPOINT
from sync.webhooks.service import DeliveryFilter, Endpoints, delivery_detail, delivery_out, endpoint_out

PAGE_SIZE = 50
RECENT = 20
OUTCOME_LABELS = {"succeeded": N_("Succeeded"), "failed": N_("Failed, retried"), "refused": N_("Refused, not retried")}
TRIGGER_LABELS = {"event": N_("Event"), "ping": N_("Ping"), "replay": N_("Replay")}
NOTICES = {
    "updated": N_("The endpoint was saved."),
    "deleted": N_("The endpoint and its deliveries were deleted."),
}


def _shared() -> dict[str, Any]:
    return {
        "event_types": list(PUBLIC_EVENT_TYPES.items()),
        "outcome_labels": OUTCOME_LABELS,
        "trigger_labels": TRIGGER_LABELS,
    }


def _form_of(data: MultiForm) -> dict[str, Any]:
    return {
        "url": form_value(data, "url").strip(),
        "description": form_value(data, "description"),
        "event_types": form_values(data, "event_types"),
        "active": bool(form_value(data, "active")),
    }


async def _list_page(
    endpoints: Endpoints,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    alert: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Template:
    rows = await endpoints.list()
    return Template(
        "sync/webhooks/endpoints.html",
        context={
            **_shared(),
            "endpoints": [endpoint_out(e) for e in rows],
            "form": form or {"event_types": [], "active": True},
            "errors": errors or {},
            "alert": alert,
            "notice": NOTICES.get(notice or ""),
        },
        status_code=status_code,
    )


async def _endpoint_page(
    endpoints: Endpoints,
    endpoint: WebhookEndpoint,
    *,
    secret: str | None = None,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Template:
    shown = endpoint_out(endpoint)
    recent, total = await endpoints.deliveries(DeliveryFilter(endpoint_id=endpoint.id), RECENT, 0)
    return Template(
        "sync/webhooks/endpoint.html",
        context={
            **_shared(),
            "endpoint": shown,
            "secret": secret,
            "form": form or shown,
            "errors": errors or {},
            "notice": NOTICES.get(notice or ""),
            "deliveries": [delivery_out(d) for d in recent],
            "total": total,
        },
        status_code=status_code,
    )


@get("/console/webhooks", opt=requires(ENDPOINT, "read"), include_in_schema=False)
async def endpoints_page(endpoints: EndpointsDep, done: FromQuery[str | None] = None) -> Template:
    return await _list_page(endpoints, notice=done)


@post("/console/webhooks", opt=requires(ENDPOINT, "create"), include_in_schema=False)
async def create_endpoint_page(data: MultiForm, endpoints: EndpointsDep) -> Template:
    """On success, the new endpoint's page with its secret, shown this once."""
    form = _form_of(data)
    try:
        endpoint, secret = await endpoints.create(form)
    except ValidationFailed as error:
        return await _list_page(endpoints, form=form, errors=field_errors(error), status_code=422)
    except Conflict as error:
        return await _list_page(endpoints, form=form, alert=refusal_of(error), status_code=409)
    return await _endpoint_page(endpoints, endpoint, secret=secret, status_code=201)


@get("/console/webhooks/{endpoint_id:uuid}", opt=requires(ENDPOINT, "read"), include_in_schema=False)
async def endpoint_page(
    endpoint_id: FromPath[uuid.UUID], endpoints: EndpointsDep, done: FromQuery[str | None] = None
) -> Template:
    return await _endpoint_page(endpoints, await endpoints.get(endpoint_id), notice=done)


@post("/console/webhooks/{endpoint_id:uuid}", opt=requires(ENDPOINT, "update"), include_in_schema=False)
async def update_endpoint_page(
    endpoint_id: FromPath[uuid.UUID], data: MultiForm, endpoints: EndpointsDep
) -> Template | Redirect:
    endpoint = await endpoints.get(endpoint_id)
    form = _form_of(data)
    try:
        await endpoints.update(endpoint_id, form)
    except ValidationFailed as error:
        return await _endpoint_page(
            endpoints, endpoint, form={**endpoint_out(endpoint), **form}, errors=field_errors(error), status_code=422
        )
    return Redirect(f"/console/webhooks/{endpoint_id}?done=updated")


@post("/console/webhooks/{endpoint_id:uuid}/rotate", opt=requires(ENDPOINT, "update"), include_in_schema=False)
async def rotate_secret_page(endpoint_id: FromPath[uuid.UUID], endpoints: EndpointsDep) -> Template:
    endpoint, secret = await endpoints.rotate(endpoint_id)
    return await _endpoint_page(endpoints, endpoint, secret=secret)


@post("/console/webhooks/{endpoint_id:uuid}/delete", opt=requires(ENDPOINT, "delete"), include_in_schema=False)
async def delete_endpoint_page(endpoint_id: FromPath[uuid.UUID], endpoints: EndpointsDep) -> Redirect:
    await endpoints.delete(endpoint_id)
    return Redirect("/console/webhooks?done=deleted")


@post("/console/webhooks/{endpoint_id:uuid}/ping", opt=requires(ENDPOINT, "update"), include_in_schema=False)
async def ping_page(
    endpoint_id: FromPath[uuid.UUID], services: ServicesDep, actor: CurrentActor, webhooks: WebhooksDep
) -> Redirect:
    """Sends at once (outside the request's unit of work, see sync.webhooks.service) and shows the result."""
    sent = await webhooks.ping(services.db, actor, endpoint_id)
    return Redirect(f"/console/webhooks/deliveries/{sent['id']}")


@get("/console/webhooks/deliveries", opt=requires(ENDPOINT, "read"), include_in_schema=False)
async def deliveries_page(
    endpoints: EndpointsDep,
    endpoint: FromQuery[str | None] = None,
    outcome: FromQuery[str | None] = None,
    event_type: FromQuery[str | None] = None,
    event: FromQuery[str | None] = None,
    page: FromQuery[str | None] = None,
) -> Template:
    chosen = {
        "endpoint": uuid_or_none(endpoint),
        "outcome": outcome if outcome in OUTCOMES else "",
        "event_type": event_type if event_type in PUBLIC_EVENT_TYPES or event_type == "webhook.ping" else "",
        "event": uuid_or_none(event),
    }
    number = page_number(page)
    f = DeliveryFilter(chosen["endpoint"], chosen["outcome"] or None, chosen["event_type"] or None, chosen["event"])
    rows, total = await endpoints.deliveries(f, PAGE_SIZE, (number - 1) * PAGE_SIZE)
    return Template(
        "sync/webhooks/deliveries.html",
        context={
            **_shared(),
            "rows": [delivery_out(r) for r in rows],
            "total": total,
            "chosen": chosen,
            "endpoints": [(str(e.id), e.url) for e in await endpoints.list()],
            "paging": paging("/console/webhooks/deliveries", chosen, number, total, PAGE_SIZE),
        },
    )


@get("/console/webhooks/deliveries/{webhook_delivery_id:uuid}", opt=requires(ENDPOINT, "read"), include_in_schema=False)
async def delivery_page(webhook_delivery_id: FromPath[uuid.UUID], endpoints: EndpointsDep) -> Template:
    return Template(
        "sync/webhooks/delivery.html",
        context={**_shared(), "delivery": delivery_detail(await endpoints.delivery(webhook_delivery_id))},
    )


@post(
    "/console/webhooks/deliveries/{webhook_delivery_id:uuid}/replay",
    opt=requires(ENDPOINT, "update"),
    include_in_schema=False,
)
async def replay_page(
    webhook_delivery_id: FromPath[uuid.UUID],
    services: ServicesDep,
    actor: CurrentActor,
    webhooks: WebhooksDep,
    endpoints: EndpointsDep,
) -> Template | Redirect:
    try:
        sent = await webhooks.replay(services.db, actor, webhook_delivery_id)
    except DomainError as error:
        if error.status == 404:
            raise
        return Template(
            "sync/webhooks/delivery.html",
            context={
                **_shared(),
                "delivery": delivery_detail(await endpoints.delivery(webhook_delivery_id)),
                "refusal": refusal_of(error),
            },
            status_code=error.status,
        )
    return Redirect(f"/console/webhooks/deliveries/{sent['id']}")


PAGES: list[Any] = [
    Router(
        path="/",
        route_handlers=[
            endpoints_page,
            create_endpoint_page,
            endpoint_page,
            update_endpoint_page,
            rotate_secret_page,
            delete_endpoint_page,
            ping_page,
            deliveries_page,
            delivery_page,
            replay_page,
        ],
        dependencies=DEPENDENCIES,
    )
]
