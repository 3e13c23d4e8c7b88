"""The console's approvals pages: the approver's one queue across apps (/console/approvals) with each
item's steps, timeline, comments and decision, one's delegate while away, and the flow editor per kind
of subject (/console/approvals/flows). They call the same services as /api/approvals."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Router, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from interconnect.models import PartnerTier, PartnerType, Region
from portal.errors import DomainError, ValidationFailed
from portal.http.deps import DB
from portal.i18n import N_, gettext
from portal.identity.models import InternalUser
from portal.permissions import requires
from portal.ui.forms import Form
from portal.ui.labels import setting_name
from portal.ui.paging import page_number, paging
from portal.ui.refusals import field_errors, refusal_of
from roles.approvals.api import DEPENDENCIES, FLOWS, STAFF, ApprovalsDep, DelegationsDep, FlowsDep
from roles.approvals.engine import Approvals
from roles.approvals.flows import Delegations, FlowAdmin
from roles.pages.labels import role_name, roles_by_key, roles_of_kind

QUEUE = "/console/approvals"
FLOW_PAGES = f"{QUEUE}/flows"
PAGE_SIZE = 50
STATUS_LABELS = {
    "pending": N_("Waiting"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "withdrawn": N_("Withdrawn"),
}
TABS = {"pending": N_("Waiting for me"), "approved": N_("Approved by me"), "rejected": N_("Rejected by me")}
ACTION_LABELS = {
    "requested": N_("Requested"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "commented": N_("Commented"),
}
REASON_LABELS = {"rule": N_("Flow"), "credit": N_("Over the credit limit")}
DONE = {
    "approved": N_("The step is approved."),
    "rejected": N_("The request is rejected."),
    "commented": N_("The comment is added."),
    "delegated": N_("Your delegate is named."),
    "ended": N_("The delegation is ended."),
    "created": N_("The flow is created."),
    "saved": N_("The flow is saved."),
    "deleted": N_("The flow is deleted."),
    "step_added": N_("The step is added."),
    "step_deleted": N_("The step is deleted."),
    "reassigned": N_("The step is given to its new approver."),
}
FLOW_FIELDS = ("kind", "name", "position", "min_amount", "partner_type_id", "tier_id", "region_id", "active")
STEP_FIELDS = ("name", "step", "role_key", "user_id", "min_amount", "partner_type_id", "tier_id", "region_id")


async def _approver_namer(db: AsyncSession) -> Any:
    roles = await roles_by_key(db)

    def name_of(item: dict[str, Any]) -> str:
        if item.get("user_name"):
            return str(item["user_name"])
        if item.get("role_key"):
            return role_name(roles.get(item["role_key"])) or str(item["role_key"])
        return gettext(N_("Anyone who may approve"))

    return name_of


def _helpers() -> dict[str, Any]:
    return {
        "status_labels": STATUS_LABELS,
        "action_labels": ACTION_LABELS,
        "reason_labels": REASON_LABELS,
        "tabs": TABS,
    }


async def _staff(db: AsyncSession) -> list[tuple[str, str]]:
    rows = await db.execute(
        select(InternalUser.id, InternalUser.display_name)
        .where(InternalUser.status == "active")
        .order_by(InternalUser.display_name)
    )
    return [(str(i), name) for i, name in rows]


async def _queue_page(
    db: AsyncSession,
    approvals: Approvals,
    delegations: Delegations,
    status: str,
    page: str | None,
    *,
    done: str | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    refusal: str | None = None,
    status_code: int = 200,
) -> Template:
    status = status if status in TABS else "pending"
    number = page_number(page)
    items, total = await approvals.queue(status, PAGE_SIZE, (number - 1) * PAGE_SIZE)
    staff = [(i, n) for i, n in await _staff(db) if i != str(approvals.actor.user_id)]
    return Template(
        "console/approvals/queue.html",
        context={
            **_helpers(),
            "status": status,
            "items": items,
            "total": total,
            "paging": paging(QUEUE, {"status": status}, number, total, PAGE_SIZE),
            "approver_of": await _approver_namer(db),
            "delegations": await delegations.mine(),
            "staff": staff,
            "form": form or {},
            "errors": errors or {},
            "done": gettext(DONE[done]) if done in DONE else None,
            "refusal": refusal,
        },
        status_code=status_code,
    )


@get(QUEUE, opt=STAFF, include_in_schema=False)
async def queue_page(
    db: DB,
    approvals: ApprovalsDep,
    delegations: DelegationsDep,
    status: FromQuery[str] = "pending",
    page: FromQuery[str | None] = None,
    done: FromQuery[str | None] = None,
) -> Template:
    return await _queue_page(db, approvals, delegations, status, page, done=done)


async def _item_page(
    db: AsyncSession,
    approvals: Approvals,
    approval_id: uuid.UUID,
    *,
    done: str | None = None,
    refusal: str | None = None,
    comment: str = "",
    reassign_to: str = "",
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    item = await approvals.detail(approval_id)
    approvers = await approvals.approvers(approvals.kinds[item["kind"]]) if item["may_reassign"] else []
    return Template(
        "console/approvals/item.html",
        context={
            **_helpers(),
            "item": item,
            "approvers": [(str(u), n) for u, n in approvers],
            "reassign_to": reassign_to,
            "errors": errors or {},
            "approver_of": await _approver_namer(db),
            "done": gettext(DONE[done]) if done in DONE else None,
            "refusal": refusal,
            "comment": comment,
        },
        status_code=status_code,
    )


@get(f"{QUEUE}/{{approval_id:uuid}}", opt=STAFF, include_in_schema=False)
async def item_page(
    approval_id: FromPath[uuid.UUID], db: DB, approvals: ApprovalsDep, done: FromQuery[str | None] = None
) -> Template:
    return await _item_page(db, approvals, approval_id, done=done)


def _decide(outcome: str) -> Any:
    @post(
        f"{QUEUE}/{{approval_id:uuid}}/{outcome}",
        opt=STAFF,
        include_in_schema=False,
        name=f"approval-{outcome}",
    )
    async def decide(
        approval_id: FromPath[uuid.UUID], data: Form, db: DB, approvals: ApprovalsDep
    ) -> Template | Redirect:
        comment = str(data.get("comment") or "")
        try:
            async with db.begin_nested():
                await approvals.decide(approval_id, "approve" if outcome == "approve" else "reject", comment)
        except DomainError as error:
            if error.status == 404:
                raise
            return await _item_page(
                db, approvals, approval_id, refusal=refusal_of(error), comment=comment, status_code=error.status
            )
        return Redirect(f"{QUEUE}?done={'approved' if outcome == 'approve' else 'rejected'}")

    return decide


@post(f"{QUEUE}/{{approval_id:uuid}}/comment", opt=STAFF, include_in_schema=False)
async def comment_page(
    approval_id: FromPath[uuid.UUID], data: Form, db: DB, approvals: ApprovalsDep
) -> Template | Redirect:
    comment = str(data.get("comment") or "")
    try:
        async with db.begin_nested():
            await approvals.comment(approval_id, comment)
    except DomainError as error:
        if error.status == 404:
            raise
        return await _item_page(
            db, approvals, approval_id, refusal=refusal_of(error), comment=comment, status_code=error.status
        )
    return Redirect(f"{QUEUE}/{approval_id}?done=commented")


@post(f"{QUEUE}/{{approval_id:uuid}}/reassign", opt=requires(FLOWS, "update"), include_in_schema=False)
async def reassign_page(
    approval_id: FromPath[uuid.UUID], data: Form, db: DB, approvals: ApprovalsDep
) -> Template | Redirect:
    chosen = str(data.get("user_id") or "")
    try:
        async with db.begin_nested():
            try:
                user_id = uuid.UUID(chosen)
            except ValueError:
                raise ValidationFailed.single("user_id", N_("Choose a person"), "required") from None
            await approvals.reassign(approval_id, user_id)
    except ValidationFailed as error:
        return await _item_page(
            db, approvals, approval_id, reassign_to=chosen, errors=field_errors(error), status_code=422
        )
    except DomainError as error:
        if error.status == 404:
            raise
        return await _item_page(db, approvals, approval_id, refusal=refusal_of(error), status_code=error.status)
    return Redirect(f"{QUEUE}/{approval_id}?done=reassigned")


@post(f"{QUEUE}/delegations", opt=STAFF, include_in_schema=False)
async def delegate_page(
    data: Form, db: DB, approvals: ApprovalsDep, delegations: DelegationsDep
) -> Template | Redirect:
    form = {k: str(data.get(k) or "") for k in ("delegate_id", "starts_on", "ends_on")}
    try:
        async with db.begin_nested():
            await delegations.name(form["delegate_id"], form["starts_on"], form["ends_on"])
    except ValidationFailed as error:
        return await _queue_page(
            db, approvals, delegations, "pending", None, form=form, errors=field_errors(error), status_code=422
        )
    return Redirect(f"{QUEUE}?done=delegated#away")


@post(f"{QUEUE}/delegations/{{delegation_id:uuid}}/delete", opt=STAFF, include_in_schema=False)
async def end_delegation_page(delegation_id: FromPath[uuid.UUID], delegations: DelegationsDep) -> Redirect:
    await delegations.end(delegation_id)
    return Redirect(f"{QUEUE}?done=ended#away")


# --- the flow editor ---


async def _choices(db: AsyncSession) -> dict[str, Any]:
    async def pairs(model: Any) -> list[tuple[str, str]]:
        return [(str(r.id), setting_name(r.name)) for r in await db.scalars(select(model).order_by(model.name))]

    return {
        "partner_types": await pairs(PartnerType),
        "tiers": await pairs(PartnerTier),
        "regions": await pairs(Region),
        "roles": [(r.key, role_name(r)) for r in await roles_of_kind(db, "internal")],
        "staff": await _staff(db),
    }


async def _flows_page(
    db: AsyncSession,
    flows: FlowAdmin,
    *,
    done: str | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    found = await flows.flows()
    kinds = list(flows.kinds)
    people = dict(await _staff(db))
    return Template(
        "console/approvals/flows.html",
        context={
            **_helpers(),
            **(await _choices(db)),
            "kinds": kinds,
            "by_kind": {k.key: [(f, _step_rows(s, people)) for f, s in found if f.kind == k.key] for k in kinds},
            "form": form or {"position": "1", "active": "on"},
            "errors": errors or {},
            "done": gettext(DONE[done]) if done in DONE else None,
            "approver_of": await _approver_namer(db),
            "names": await _condition_names(db),
        },
        status_code=status_code,
    )


def _step_rows(steps: list[Any], people: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {"row": s, "role_key": s.role_key, "user_name": people.get(str(s.user_id)) if s.user_id else None}
        for s in steps
    ]


async def _condition_names(db: AsyncSession) -> dict[str, str]:
    names: dict[str, str] = {}
    for model in (PartnerType, PartnerTier, Region):
        for row in await db.scalars(select(model)):
            names[str(row.id)] = setting_name(row.name)
    return names


@get(FLOW_PAGES, opt=requires(FLOWS, "read"), include_in_schema=False)
async def flows_page(db: DB, flows: FlowsDep, done: FromQuery[str | None] = None) -> Template:
    return await _flows_page(db, flows, done=done)


def _form(data: Form, names: tuple[str, ...]) -> dict[str, str]:
    return {k: str(data.get(k) or "").strip() for k in names}


def _values(form: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {k: (v or None) for k, v in form.items()}
    if "active" in form:
        values["active"] = form["active"] == "on"
    return values


@post(FLOW_PAGES, opt=requires(FLOWS, "update"), include_in_schema=False)
async def create_flow_page(data: Form, db: DB, flows: FlowsDep) -> Template | Redirect:
    form = _form(data, FLOW_FIELDS)
    try:
        async with db.begin_nested():
            flow = await flows.create_flow(_values(form))
    except ValidationFailed as error:
        return await _flows_page(db, flows, form=form, errors=field_errors(error), status_code=422)
    return Redirect(f"{FLOW_PAGES}/{flow.id}?done=created")


async def _flow_page(
    db: AsyncSession,
    flows: FlowAdmin,
    flow_id: uuid.UUID,
    *,
    done: str | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    step_form: dict[str, str] | None = None,
    step_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    flow, steps = await flows.flow(flow_id)
    current = {
        "name": flow.name,
        "position": str(flow.position),
        "min_amount": "" if flow.min_amount is None else f"{flow.min_amount:f}",
        "partner_type_id": str(flow.partner_type_id or ""),
        "tier_id": str(flow.tier_id or ""),
        "region_id": str(flow.region_id or ""),
        "active": "on" if flow.active else "",
    }
    people = dict(await _staff(db))
    return Template(
        "console/approvals/flow.html",
        context={
            **_helpers(),
            **(await _choices(db)),
            "flow": flow,
            "kind_label": flows.kinds[flow.kind].label if flow.kind in flows.kinds else flow.kind,
            "steps": _step_rows(steps, people),
            "form": form or current,
            "errors": errors or {},
            "step_form": step_form or {"step": str(max((s.step for s in steps), default=0) + 1), "min_amount": "0"},
            "step_errors": step_errors or {},
            "done": gettext(DONE[done]) if done in DONE else None,
            "approver_of": await _approver_namer(db),
            "names": await _condition_names(db),
        },
        status_code=status_code,
    )


@get(f"{FLOW_PAGES}/{{flow_id:uuid}}", opt=requires(FLOWS, "read"), include_in_schema=False)
async def flow_page(
    flow_id: FromPath[uuid.UUID], db: DB, flows: FlowsDep, done: FromQuery[str | None] = None
) -> Template:
    return await _flow_page(db, flows, flow_id, done=done)


@post(f"{FLOW_PAGES}/{{flow_id:uuid}}", opt=requires(FLOWS, "update"), include_in_schema=False)
async def update_flow_page(flow_id: FromPath[uuid.UUID], data: Form, db: DB, flows: FlowsDep) -> Template | Redirect:
    form = _form(data, FLOW_FIELDS[1:])
    try:
        async with db.begin_nested():
            await flows.update_flow(flow_id, _values(form))
    except ValidationFailed as error:
        return await _flow_page(db, flows, flow_id, form=form, errors=field_errors(error), status_code=422)
    return Redirect(f"{FLOW_PAGES}/{flow_id}?done=saved")


@post(f"{FLOW_PAGES}/{{flow_id:uuid}}/delete", opt=requires(FLOWS, "update"), include_in_schema=False)
async def delete_flow_page(flow_id: FromPath[uuid.UUID], flows: FlowsDep) -> Redirect:
    await flows.delete_flow(flow_id)
    return Redirect(f"{FLOW_PAGES}?done=deleted")


@post(f"{FLOW_PAGES}/{{flow_id:uuid}}/steps", opt=requires(FLOWS, "update"), include_in_schema=False)
async def add_step_page(flow_id: FromPath[uuid.UUID], data: Form, db: DB, flows: FlowsDep) -> Template | Redirect:
    form = _form(data, STEP_FIELDS)
    try:
        async with db.begin_nested():
            await flows.add_step(flow_id, _values(form))
    except ValidationFailed as error:
        return await _flow_page(db, flows, flow_id, step_form=form, step_errors=field_errors(error), status_code=422)
    return Redirect(f"{FLOW_PAGES}/{flow_id}?done=step_added")


@post(
    f"{FLOW_PAGES}/{{flow_id:uuid}}/steps/{{step_id:uuid}}/delete",
    opt=requires(FLOWS, "update"),
    include_in_schema=False,
)
async def delete_step_page(flow_id: FromPath[uuid.UUID], step_id: FromPath[uuid.UUID], flows: FlowsDep) -> Redirect:
    await flows.delete_step(step_id, flow_id=flow_id)
    return Redirect(f"{FLOW_PAGES}/{flow_id}?done=step_deleted")


PAGES: list[Any] = [
    Router(
        path="/",
        route_handlers=[
            queue_page,
            flows_page,
            create_flow_page,
            flow_page,
            update_flow_page,
            delete_flow_page,
            add_step_page,
            delete_step_page,
            delegate_page,
            end_delegation_page,
            item_page,
            _decide("approve"),
            _decide("reject"),
            reassign_page,
            comment_page,
        ],
        dependencies=DEPENDENCIES,
    )
]
