"""The approvals API: one queue for the approver across apps (`/api/approvals`), taking a step with a
comment, commenting, the flows per kind of subject, and one's delegates while away."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_204_NO_CONTENT

from portal.http.deps import DB, provide_actor
from portal.http.inputs import Limit, Multiline, Offset
from portal.i18n import gettext
from portal.identity.schemas import Out, Strict, typed
from portal.permissions import requires, signed_in
from roles.access import policy_of
from roles.approvals.engine import Approvals
from roles.approvals.flows import Delegations, FlowAdmin
from roles.approvals.kinds import ApprovalKinds
from roles.approvals.models import ApprovalFlow, ApprovalFlowStep

FLOWS = "approvals.flow"
KINDS_EXTENSION = "approval_kinds"
STAFF = signed_in("internal")

AnyRequest = Request[Any, Any, Any]


def kinds_of(request: AnyRequest) -> ApprovalKinds:
    return request.app.state.services.extensions[KINDS_EXTENSION]


def provide_approvals(request: AnyRequest, db: DB) -> Approvals:
    return Approvals(db, policy_of(request), provide_actor(request), kinds_of(request))


def provide_flows(request: AnyRequest, db: DB) -> FlowAdmin:
    return FlowAdmin(db, kinds_of(request), policy_of(request), provide_actor(request).tenant_id)


def provide_delegations(request: AnyRequest, db: DB) -> Delegations:
    return Delegations(db, provide_actor(request), policy_of(request), kinds_of(request))


DEPENDENCIES = {
    "approvals": Provide(provide_approvals, sync_to_thread=False),
    "flows": Provide(provide_flows, sync_to_thread=False),
    "delegations": Provide(provide_delegations, sync_to_thread=False),
}
ApprovalsDep = NamedDependency[Approvals]
FlowsDep = NamedDependency[FlowAdmin]
DelegationsDep = NamedDependency[Delegations]


# --- bodies ---

# a flow's place among its kind's flows, a step's number in its flow
Position = Annotated[int, msgspec.Meta(ge=1, le=999)]


class DecisionIn(Strict):
    comment: Multiline | None = None


class CommentIn(Strict):
    comment: Multiline


class FlowIn(Strict):
    kind: str
    name: str
    position: Position = 1
    min_amount: Decimal | None = None
    partner_type_id: uuid.UUID | None = None
    tier_id: uuid.UUID | None = None
    region_id: uuid.UUID | None = None
    active: bool = True


class FlowPatch(Strict):
    name: str
    position: Position = 1
    min_amount: Decimal | None = None
    partner_type_id: uuid.UUID | None = None
    tier_id: uuid.UUID | None = None
    region_id: uuid.UUID | None = None
    active: bool = True


class StepIn(Strict):
    name: str
    step: Position = 1
    role_key: str | None = None
    user_id: uuid.UUID | None = None
    min_amount: Decimal = Decimal(0)
    partner_type_id: uuid.UUID | None = None
    tier_id: uuid.UUID | None = None
    region_id: uuid.UUID | None = None
    active: bool = True


class ReassignIn(Strict):
    user_id: uuid.UUID  # an active staff member whose roles grant the kind's permission


class DelegationIn(Strict):
    delegate_id: uuid.UUID
    starts_on: date
    ends_on: date


# --- answers ---


class ItemOut(Out, kw_only=True):
    id: uuid.UUID
    request_id: uuid.UUID
    kind: str
    kind_label: str
    subject_id: uuid.UUID
    title: str
    link: str
    amount: Decimal | None
    currency: str | None
    enterprise_name: str | None
    requested_by: str | None
    requested_at: datetime
    request_status: str
    step: int
    steps: int
    step_name: str | None
    role_key: str | None
    user_name: str | None
    reason: str
    status: str
    for_name: str | None
    # the step's named person can no longer take it (left, or lost the permission): who edits flows takes it
    stranded: bool
    decided_by: str | None
    on_behalf_of: str | None
    decided_at: datetime | None
    comment: str | None


class StepOut(Out, kw_only=True):
    id: uuid.UUID
    step: int
    name: str | None
    role_key: str | None
    user_name: str | None
    reason: str
    status: str
    current: bool
    decided_by: str | None
    on_behalf_of: str | None
    decided_at: datetime | None
    comment: str | None


class TimelineOut(Out, kw_only=True):
    at: datetime
    action: str
    step: int | None
    by: str | None
    on_behalf_of: str | None
    comment: str | None


class DetailOut(ItemOut, kw_only=True):
    all_steps: list[StepOut]
    timeline: list[TimelineOut]
    may_take: bool
    # the caller edits flows and the step waits: they may give it to another person (POST …/reassign)
    may_reassign: bool


class ItemPage(Out, kw_only=True):
    items: list[ItemOut]
    total: int
    limit: int
    offset: int


class ReassignedOut(Out, kw_only=True):
    id: uuid.UUID
    request_id: uuid.UUID
    step: int
    user_id: uuid.UUID
    user_name: str


class DecisionOut(Out, kw_only=True):
    id: uuid.UUID
    request_id: uuid.UUID
    status: str
    request_status: str
    final: bool


class CommentOut(Out, kw_only=True):
    id: uuid.UUID
    request_id: uuid.UUID
    at: datetime
    comment: str


class FlowStepOut(Out, kw_only=True):
    id: uuid.UUID
    step: int
    name: str
    role_key: str | None
    user_id: uuid.UUID | None
    min_amount: Decimal
    partner_type_id: uuid.UUID | None
    tier_id: uuid.UUID | None
    region_id: uuid.UUID | None
    active: bool


class FlowOut(Out, kw_only=True):
    id: uuid.UUID
    kind: str
    name: str
    position: int
    min_amount: Decimal | None
    partner_type_id: uuid.UUID | None
    tier_id: uuid.UUID | None
    region_id: uuid.UUID | None
    active: bool
    steps: list[FlowStepOut]


class KindOut(Out, kw_only=True):
    key: str
    label: str


class DelegationOut(Out, kw_only=True):
    id: uuid.UUID
    user_id: uuid.UUID
    user_name: str
    delegate_id: uuid.UUID
    delegate_name: str
    starts_on: date
    ends_on: date
    mine: bool


def _label(item: dict[str, Any]) -> dict[str, Any]:
    return {**item, "kind_label": gettext(item["kind_label"])}


def flow_step_out(step: ApprovalFlowStep) -> dict[str, Any]:
    return {
        "id": step.id,
        "step": step.step,
        "name": step.name,
        "role_key": step.role_key,
        "user_id": step.user_id,
        "min_amount": step.min_amount,
        "partner_type_id": step.partner_type_id,
        "tier_id": step.tier_id,
        "region_id": step.region_id,
        "active": step.active,
    }


def flow_out(flow: ApprovalFlow, steps: list[ApprovalFlowStep]) -> FlowOut:
    return typed(
        {
            "id": flow.id,
            "kind": flow.kind,
            "name": flow.name,
            "position": flow.position,
            "min_amount": flow.min_amount,
            "partner_type_id": flow.partner_type_id,
            "tier_id": flow.tier_id,
            "region_id": flow.region_id,
            "active": flow.active,
            "steps": [flow_step_out(s) for s in steps],
        },
        FlowOut,
    )


def _values(data: msgspec.Struct) -> dict[str, Any]:
    return {name: getattr(data, name) for name in data.__struct_fields__}


class ApprovalsController(Controller):
    path = "/api/approvals"
    tags = ["approvals"]
    dependencies = DEPENDENCIES

    @get("", opt=STAFF)
    async def queue(
        self,
        approvals: ApprovalsDep,
        status: FromQuery[Literal["pending", "approved", "rejected"]] = "pending",
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> ItemPage:
        """`pending`: the steps waiting for the caller, across every app: theirs by role or by name, or
        those of a person who named them their delegate for today (`for_name`), oldest first.
        `approved` / `rejected`: the steps the caller decided, newest first. Each item says what it is
        (`kind`, `title`, `amount`, `enterprise_name`) and `link`s to it."""
        items, total = await approvals.queue(status, limit, offset)
        return typed({"items": [_label(i) for i in items], "total": total, "limit": limit, "offset": offset}, ItemPage)

    @get("/kinds", opt=STAFF)
    async def kinds(self, request: AnyRequest) -> list[KindOut]:
        """The kinds of subject the apps registered: what flows are made for."""
        return [KindOut(key=k.key, label=gettext(k.label)) for k in kinds_of(request)]

    @get("/{approval_id:uuid}", opt=STAFF)
    async def detail(self, approval_id: FromPath[uuid.UUID], approvals: ApprovalsDep) -> DetailOut:
        """One step with its request's every step and timeline; `may_take`: the caller may decide it now."""
        return typed(_label(await approvals.detail(approval_id)), DetailOut)

    @post("/{approval_id:uuid}/approve", opt=STAFF, status_code=200)
    async def approve(
        self, approval_id: FromPath[uuid.UUID], approvals: ApprovalsDep, data: JSONBody[DecisionIn | None] = None
    ) -> DecisionOut:
        """Approve this step; the last step approves the subject (the app does what that means). 409
        when the step was already decided (by someone else at the same moment, say)."""
        decision = await approvals.decide(approval_id, "approve", data.comment if data else None)
        return _decision_out(decision)

    @post("/{approval_id:uuid}/reject", opt=STAFF, status_code=200)
    async def reject(
        self, approval_id: FromPath[uuid.UUID], approvals: ApprovalsDep, data: JSONBody[DecisionIn | None] = None
    ) -> DecisionOut:
        """Reject at this step: the request ends (some kinds, orders among them, need a comment saying why)."""
        decision = await approvals.decide(approval_id, "reject", data.comment if data else None)
        return _decision_out(decision)

    @post("/{approval_id:uuid}/reassign", opt=requires(FLOWS, "update", problems=(404, 409)), status_code=200)
    async def reassign(
        self, approval_id: FromPath[uuid.UUID], data: JSONBody[ReassignIn], approvals: ApprovalsDep
    ) -> ReassignedOut:
        """Give a waiting step (stranded or not) to another person: who edits flows does it, for
        someone whose roles grant the kind's permission (422 on `user_id` naming it otherwise). The
        step becomes theirs alone; they are notified when it is the one waiting. 409 once decided.
        Audited (`reassign_step`)."""
        step = await approvals.reassign(approval_id, data.user_id)
        return typed(
            {
                "id": step.id,
                "request_id": step.request_id,
                "step": step.step,
                "user_id": data.user_id,
                "user_name": await approvals.person_name(data.user_id),
            },
            ReassignedOut,
        )

    @post("/{approval_id:uuid}/comments", opt=STAFF)
    async def comment(
        self, approval_id: FromPath[uuid.UUID], data: JSONBody[CommentIn], db: DB, approvals: ApprovalsDep
    ) -> CommentOut:
        """A comment on the request, on its timeline."""
        event = await approvals.comment(approval_id, data.comment)
        return CommentOut(id=event.id, request_id=event.request_id, at=event.at, comment=event.comment or "")


def _decision_out(decision: Any) -> DecisionOut:
    step = decision.step
    return DecisionOut(
        id=step.id,
        request_id=decision.request.id,
        status=step.status,
        request_status=decision.request.status,
        final=decision.final,
    )


class FlowsController(Controller):
    path = "/api/approvals/flows"
    tags = ["approvals"]
    dependencies = DEPENDENCIES

    @get("", opt=requires(FLOWS, "read"))
    async def list_flows(self, flows: FlowsDep, kind: FromQuery[str | None] = None) -> list[FlowOut]:
        """The flows, per kind in the order they are tried: a subject goes through the first active one
        whose conditions it meets (amount from, partner type, tier, region); with none, one step anyone
        who may approve the kind takes."""
        return [flow_out(f, s) for f, s in await flows.flows(kind)]

    @post("", opt=requires(FLOWS, "update"))
    async def create_flow(self, data: JSONBody[FlowIn], db: DB, flows: FlowsDep) -> FlowOut:
        flow = await flows.create_flow(_values(data))
        return flow_out(flow, [])

    @get("/{flow_id:uuid}", opt=requires(FLOWS, "read"))
    async def get_flow(self, flow_id: FromPath[uuid.UUID], flows: FlowsDep) -> FlowOut:
        return flow_out(*(await flows.flow(flow_id)))

    @patch("/{flow_id:uuid}", opt=requires(FLOWS, "update"))
    async def update_flow(self, flow_id: FromPath[uuid.UUID], data: JSONBody[FlowPatch], flows: FlowsDep) -> FlowOut:
        await flows.update_flow(flow_id, _values(data))
        return flow_out(*(await flows.flow(flow_id)))

    @delete("/{flow_id:uuid}", opt=requires(FLOWS, "update"), status_code=HTTP_204_NO_CONTENT)
    async def delete_flow(self, flow_id: FromPath[uuid.UUID], flows: FlowsDep) -> None:
        """Requests already open keep their steps."""
        await flows.delete_flow(flow_id)

    @post("/{flow_id:uuid}/steps", opt=requires(FLOWS, "update"))
    async def add_step(self, flow_id: FromPath[uuid.UUID], data: JSONBody[StepIn], db: DB, flows: FlowsDep) -> FlowOut:
        """A step taken by a role (`role_key`), a named person (`user_id`), or neither: anyone who may
        approve the kind; with conditions of its own (a subject takes it only when it meets them)."""
        await flows.add_step(flow_id, _values(data))
        return flow_out(*(await flows.flow(flow_id)))

    @delete("/{flow_id:uuid}/steps/{step_id:uuid}", opt=requires(FLOWS, "update"), status_code=HTTP_204_NO_CONTENT)
    async def delete_step(self, flow_id: FromPath[uuid.UUID], step_id: FromPath[uuid.UUID], flows: FlowsDep) -> None:
        await flows.delete_step(step_id, flow_id=flow_id)


class DelegationsController(Controller):
    path = "/api/approvals/delegations"
    tags = ["approvals"]
    dependencies = DEPENDENCIES

    @get("", opt=STAFF)
    async def mine(self, delegations: DelegationsDep) -> list[DelegationOut]:
        """The caller's delegations: those they made (`mine`) and those naming them the delegate."""
        return typed(await delegations.mine(), list[DelegationOut])

    @post("", opt=STAFF)
    async def name(self, data: JSONBody[DelegationIn], db: DB, delegations: DelegationsDep) -> DelegationOut:
        """While the caller is away (days in the workspace's time zone, both included), the delegate sees
        and takes the caller's approval steps, recorded as on the caller's behalf."""
        row = await delegations.name(data.delegate_id, data.starts_on, data.ends_on)
        found = next(d for d in await delegations.mine() if d["id"] == row.id)
        return typed(found, DelegationOut)

    @delete("/{delegation_id:uuid}", opt=STAFF, status_code=HTTP_204_NO_CONTENT)
    async def end(self, delegation_id: FromPath[uuid.UUID], delegations: DelegationsDep) -> None:
        await delegations.end(delegation_id)


CONTROLLERS = [FlowsController, DelegationsController, ApprovalsController]
