"""The approvals engine: opening a request on a subject with the steps its flow asks for, taking a step
(by its approver, or their delegate on their behalf), commenting, and each approver's queue across kinds.

Every step taken locks the request (`FOR UPDATE`) and is written only while it is still the pending one,
so of two approvers taking the same step at once one wins and the other is refused (409). A decision
is written with its timeline entry and an audit entry in the caller's transaction, published to the
outbox (`approval.step_approved`, `approval.approved`, `approval.rejected`), and handed to the kind's
hooks; a rejection ends the request."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from interconnect.models import EnterpriseLink
from portal import timezones
from portal.actor import Actor
from portal.audit import record_action
from portal.db.tenancy import unwatched
from portal.db.types import utcnow
from portal.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from portal.i18n import N_
from portal.identity.models import InternalUser
from portal.ids import uuid7
from portal.outbox import publish
from portal.permissions import ADMIN_ROLE, Permission
from roles.approvals.kinds import ApprovalKind, ApprovalKinds, Decision, ExtraStep, Facts, Outcome
from roles.approvals.models import (
    ApprovalDelegation,
    ApprovalEvent,
    ApprovalFlow,
    ApprovalFlowStep,
    ApprovalRequest,
    ApprovalRequestStep,
)
from roles.policy import RolePolicy

COMMENT_LIMIT = 1000
QUEUE_STATUSES = ("pending", "approved", "rejected")
AGGREGATE = "approval.request"
# who edits flows also takes the steps nobody else can (their named person left or lost the permission)
RESCUE: Permission = ("approvals.flow", "update")


class StepTaken(Conflict):
    code, title = "approval_step_taken", N_("This approval step was already decided")


@dataclass(frozen=True, slots=True)
class PlannedStep:
    name: str | None
    role_key: str | None
    user_id: uuid.UUID | None
    reason: str = "rule"


def clean_comment(comment: str | None, field: str = "comment") -> str | None:
    cleaned = (comment or "").strip()
    if len(cleaned) > COMMENT_LIMIT:
        raise ValidationFailed.single(field, N_("may be at most %(max)s characters"), "too_long", max=COMMENT_LIMIT)
    return cleaned or None


def permission_text(permission: Permission) -> str:
    return f"{permission[0]} {permission[1]}"


async def lacking(
    session: AsyncSession,
    policy: RolePolicy,
    tenant_id: uuid.UUID,
    user_ids: Sequence[uuid.UUID],
    permissions: Sequence[Permission],
) -> dict[uuid.UUID, list[Permission]]:
    """Of `permissions`, those each staff member's roles do not grant (every one when they are not active)."""
    if not user_ids:
        return {}
    active = set(
        await session.scalars(
            select(InternalUser.id).where(InternalUser.id.in_(set(user_ids)), InternalUser.status == "active")
        )
    )
    held = await policy.roles_of(session, list(user_ids))
    compiled = policy.current(tenant_id)
    return {
        user_id: [p for p in permissions if user_id not in active or not compiled.allows(held[user_id], p)]
        for user_id in user_ids
    }


def _meets(row: ApprovalFlow | ApprovalFlowStep, facts: Facts, amount_default: bool = False) -> bool:
    applies = row.min_amount is not None and (row.min_amount > 0 or not amount_default)
    if applies and (facts.amount is None or facts.amount < row.min_amount):
        return False
    for column in ("partner_type_id", "tier_id", "region_id"):
        wanted = getattr(row, column)
        if wanted is not None and getattr(facts, column) != wanted:
            return False
    return True


# The active flows of a kind with their active steps, in the order they are tried: built once (every
# order placed reads them), the kind bound per run.
_FLOWS_OF_KIND = (
    select(ApprovalFlow, ApprovalFlowStep)
    .outerjoin(
        ApprovalFlowStep,
        and_(ApprovalFlowStep.flow_id == ApprovalFlow.id, ApprovalFlowStep.active.is_(True)),
    )
    .where(ApprovalFlow.kind == bindparam("kind"), ApprovalFlow.active.is_(True))
    .order_by(
        ApprovalFlow.position,
        ApprovalFlow.id,
        ApprovalFlowStep.step,
        ApprovalFlowStep.min_amount.desc(),
        ApprovalFlowStep.id,
    )
)


async def planned_steps(session: AsyncSession, kind: str, facts: Facts) -> tuple[str | None, list[PlannedStep]]:
    """The flow a subject of `kind` with `facts` goes through (its name) and its steps in order. Of the
    kind's active flows, the first by position whose conditions hold; of its active steps, those whose
    conditions hold, the one with the highest amount from per step number. No flow, or no step: one
    step anyone who may approve the kind takes."""
    rows = list(await session.execute(_FLOWS_OF_KIND, {"kind": kind}))
    if not rows:
        return None, [PlannedStep(None, None, None)]
    needs_link = facts.enterprise_id is not None and any(
        (getattr(row, c) is not None and getattr(facts, c) is None)
        for flow, step in rows
        for row in (flow, step)
        if row is not None
        for c in ("partner_type_id", "tier_id", "region_id")
    )
    if needs_link:
        link = await session.scalar(select(EnterpriseLink).where(EnterpriseLink.id == facts.enterprise_id))
        if link is not None:
            facts = Facts(
                facts.amount,
                facts.currency,
                facts.enterprise_id,
                facts.partner_type_id or link.partner_type_id,
                facts.tier_id or link.tier_id,
                facts.region_id or link.region_id,
            )
    chosen: ApprovalFlow | None = None
    by_step: dict[int, ApprovalFlowStep] = {}
    for flow, step in rows:
        if chosen is None:
            if not _meets(flow, facts):
                continue
            chosen = flow
        if flow.id != chosen.id:
            break
        if step is not None and _meets(step, facts, amount_default=True):
            by_step.setdefault(step.step, step)
    if chosen is None:
        return None, [PlannedStep(None, None, None)]
    steps = [PlannedStep(s.name, s.role_key, s.user_id) for _n, s in sorted(by_step.items())]
    return chosen.name, steps or [PlannedStep(None, None, None)]


async def open_request(
    session: AsyncSession,
    actor: Actor,
    kind: str,
    subject_id: uuid.UUID,
    title: str,
    facts: Facts,
    extra: Sequence[ExtraStep] = (),
    *,
    announce: bool = True,
    add: bool = True,
) -> tuple[ApprovalRequest, list[ApprovalRequestStep]]:
    """A request on the subject with the steps its flow asks for (and `extra` after them), every column
    set (they read complete before they are written), added to the session. `add=False`: the caller
    queues them itself (`queue_insert`, the request first; they are built for that, never to be added to a
    session: portal.db.tenancy.unwatched). `announce=False`: the caller calls `announce_request()` once
    they are written (after its flush, so the event goes with the COMMIT)."""
    flow_name, planned = await planned_steps(session, kind, facts)
    planned = [*planned, *(PlannedStep(e.name, e.role_key, None, e.reason) for e in extra)]
    now = utcnow()
    build: Any = unwatched if not add else lambda model, **values: model(**values)
    request = build(
        ApprovalRequest,
        id=uuid7(),
        kind=kind,
        subject_id=subject_id,
        title=title[:200],
        flow_name=flow_name,
        status="pending",
        current_step=1,
        amount=facts.amount,
        currency=facts.currency,
        enterprise_id=facts.enterprise_id,
        requested_by=actor.user_id,
        requested_by_name=(actor.display_name or actor.email or None),
        created_at=now,
        updated_at=now,
    )
    steps = [
        build(
            ApprovalRequestStep,
            id=uuid7(),
            request_id=request.id,
            step=n,
            name=p.name,
            role_key=p.role_key,
            user_id=p.user_id,
            reason=p.reason,
            status="pending",
        )
        for n, p in enumerate(planned, start=1)
    ]
    if not add:
        return request, steps
    session.add(request)
    session.add_all(steps)
    if announce:
        await session.flush()
        announce_request(session, request)
    return request, steps


def announce_request(session: AsyncSession, request: ApprovalRequest) -> None:
    """The request's first step is waiting: its approvers are notified (roles.approvals.notices)."""
    publish(session, "approval.requested", AGGREGATE, request.id, _payload(request, request.current_step))


async def withdraw(session: AsyncSession, kind: str, subject_ids: Sequence[uuid.UUID]) -> None:
    """The subjects' pending requests end without a decision: their app ended them otherwise (an order
    cancelled, a registration settled by another's approval). They leave every queue."""
    if not subject_ids:
        return
    requests = await session.scalars(
        select(ApprovalRequest)
        .where(
            ApprovalRequest.kind == kind,
            ApprovalRequest.subject_id.in_(list(subject_ids)),
            ApprovalRequest.status == "pending",
        )
        .with_for_update()
    )
    for request in requests:
        request.status, request.decided_at = "withdrawn", utcnow()
        record_action(session, request, "withdraw", {"kind": kind, "subject_id": request.subject_id})
        publish(session, "approval.withdrawn", AGGREGATE, request.id, _payload(request, request.current_step))
    await session.flush()


class Approvals:
    """The engine as one actor uses it, in the request's transaction."""

    def __init__(self, session: AsyncSession, policy: RolePolicy, actor: Actor, kinds: ApprovalKinds) -> None:
        self.session = session
        self.policy = policy
        self.actor = actor
        self.kinds = kinds

    # --- reading ---

    async def latest(self, kind: str, subject_id: uuid.UUID) -> ApprovalRequest | None:
        return await self.session.scalar(
            select(ApprovalRequest)
            .where(ApprovalRequest.kind == kind, ApprovalRequest.subject_id == subject_id)
            .order_by(ApprovalRequest.created_at.desc(), ApprovalRequest.id.desc())
            .limit(1)
        )

    async def steps_of(self, request_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[ApprovalRequestStep]]:
        ids = list(request_ids)
        found: dict[uuid.UUID, list[ApprovalRequestStep]] = {i: [] for i in ids}
        if ids:
            for step in await self.session.scalars(
                select(ApprovalRequestStep)
                .where(ApprovalRequestStep.request_id.in_(ids))
                .order_by(ApprovalRequestStep.request_id, ApprovalRequestStep.step)
            ):
                found[step.request_id].append(step)
        return found

    async def subject_steps(self, kind: str, subject_id: uuid.UUID) -> list[ApprovalRequestStep]:
        """The steps of the subject's latest request, in order (none without a request)."""
        request = await self.latest(kind, subject_id)
        return [] if request is None else (await self.steps_of([request.id]))[request.id]

    # --- who takes a step ---

    def may_approve(self, kind: ApprovalKind) -> bool:
        return self.actor.kind == "internal" and self.policy.allows(self.actor, kind.permission)

    def may_rescue(self) -> bool:
        """Whether the actor may take a stranded step: one named for a person who may no longer take it."""
        return self.actor.kind == "internal" and self.policy.allows(self.actor, RESCUE)

    async def stranded(self) -> dict[tuple[uuid.UUID, str], str]:
        """The named people of pending steps who can no longer take them (left, or lost the kind's
        permission), by (person, kind), with their names: empty unless the actor may take such steps."""
        if not self.may_rescue():
            return {}
        step, request = ApprovalRequestStep, ApprovalRequest
        rows = list(
            await self.session.execute(
                select(step.user_id, request.kind)
                .join(request, request.id == step.request_id)
                .where(
                    request.status == "pending",
                    step.step == request.current_step,
                    step.status == "pending",
                    step.user_id.is_not(None),
                    request.kind.in_(list(self.kinds.by_key)),
                )
                .distinct()
            )
        )
        if not rows:
            return {}
        users = sorted({u for u, _k in rows})
        missing = await lacking(
            self.session, self.policy, self.actor.tenant_id, users, [k.permission for k in self.kinds]
        )
        names = await self._people(users)
        return {
            (user_id, kind): names.get(user_id, "")
            for user_id, kind in rows
            if self.kinds[kind].permission in missing[user_id]
        }

    async def delegators(self) -> dict[uuid.UUID, str]:
        """The people who named the actor their delegate for today (the tenant's day), by id, with names."""
        if self.actor.kind != "internal":
            return {}
        today = timezones.today(self.actor.time_zone)
        rows = await self.session.execute(
            select(ApprovalDelegation.user_id, InternalUser.display_name)
            .join(InternalUser, InternalUser.id == ApprovalDelegation.user_id)
            .where(
                ApprovalDelegation.delegate_id == self.actor.user_id,
                ApprovalDelegation.starts_on <= today,
                ApprovalDelegation.ends_on >= today,
                InternalUser.status == "active",
            )
        )
        return {user_id: name for user_id, name in rows}

    def _qualifies(self, user_id: uuid.UUID, roles: frozenset[str], step: ApprovalRequestStep) -> bool:
        if step.user_id is not None:
            return step.user_id == user_id
        if step.role_key is not None:
            return step.role_key in roles or ADMIN_ROLE in roles
        return True

    async def taker(self, kind: ApprovalKind, step: ApprovalRequestStep) -> tuple[uuid.UUID, str] | None:
        """Whom the actor takes `step` for: None for themselves, (id, name) of the person they stand in
        for (as their delegate, or, for who edits flows, as the named person who can no longer take it);
        refused when neither."""
        if step.user_id is not None and step.user_id != self.actor.user_id and self.may_rescue():
            name = (await self.stranded()).get((step.user_id, kind.key))
            if name is not None:
                return step.user_id, name
        if not self.may_approve(kind):
            raise PermissionDenied(N_("You may not approve this"))
        if step.user_id is None and (step.role_key is None or self.policy.acts_for(self.actor, step.role_key)):
            return None
        if step.user_id == self.actor.user_id:
            return None
        delegators = await self.delegators()
        if delegators:
            held = await self.policy.roles_of(self.session, list(delegators))
            for user_id, name in delegators.items():
                if self._qualifies(user_id, held[user_id], step):
                    return user_id, name
        if step.user_id is not None:
            raise PermissionDenied(
                N_("Step %(step)s of this approval is for %(name)s"),
                step=step.step,
                name=await self._name(step.user_id),
            )
        raise PermissionDenied(
            N_("Step %(step)s of this approval is for the role %(role)s"), step=step.step, role=step.role_key
        )

    async def person_name(self, user_id: uuid.UUID) -> str:
        return await self._name(user_id)

    async def _name(self, user_id: uuid.UUID) -> str:
        return await self.session.scalar(select(InternalUser.display_name).where(InternalUser.id == user_id)) or ""

    # --- deciding ---

    async def decide_subject(
        self,
        kind: str,
        subject_id: uuid.UUID,
        outcome: Outcome,
        comment: str | None,
        choice: str | None = None,
        state: dict[str, Any] | None = None,
    ) -> Decision | None:
        """Take the current step of the subject's pending request (None: it has none)."""
        request = await self.session.scalar(
            select(ApprovalRequest)
            .where(
                ApprovalRequest.kind == kind,
                ApprovalRequest.subject_id == subject_id,
                ApprovalRequest.status == "pending",
            )
            .order_by(ApprovalRequest.created_at.desc())
            .limit(1)
        )
        if request is None:
            return None
        return await self._decide(request, None, outcome, comment, choice, state)

    async def decide(
        self, step_id: uuid.UUID, outcome: Outcome, comment: str | None, choice: str | None = None
    ) -> Decision:
        """Take exactly this step (an item of the queue): refused (409) once it is no longer the pending
        one, whoever took it."""
        step = await self.session.scalar(select(ApprovalRequestStep).where(ApprovalRequestStep.id == step_id))
        request = None
        if step is not None:
            request = await self.session.scalar(select(ApprovalRequest).where(ApprovalRequest.id == step.request_id))
        if step is None or request is None or request.kind not in self.kinds:
            raise NotFound(N_("No such approval"))
        if not self.may_approve(self.kinds[request.kind]) and not await self._is_stranded(step, request):
            raise NotFound(N_("No such approval"))
        return await self._decide(request, step_id, outcome, comment, choice)

    async def _decide(
        self,
        request: ApprovalRequest,
        step_id: uuid.UUID | None,
        outcome: Outcome,
        comment: str | None,
        choice: str | None,
        state: dict[str, Any] | None = None,
    ) -> Decision:
        kind = self.kinds[request.kind]
        if not self.may_approve(kind) and not self.may_rescue():
            raise PermissionDenied(N_("You may not approve this"))
        comment = clean_comment(comment)
        if outcome == "reject" and kind.reason_required and comment is None:
            raise ValidationFailed.single("comment", N_("Say why"), "required")
        if choice is not None and choice not in kind.choices:
            raise ValidationFailed.single(
                "outcome", N_("must be one of %(choices)s"), "invalid", choices=", ".join(kind.choices)
            )
        decision = Decision(self.session, self.policy, self.actor, request, None, outcome, comment, choice)
        decision.state.update(state or {})
        await kind.check(decision)
        request = await self.session.scalar(
            select(ApprovalRequest)
            .where(ApprovalRequest.id == request.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if request is None:
            raise NotFound(N_("No such approval"))
        decision.request = request
        steps = (await self.steps_of([request.id]))[request.id]
        current = next((s for s in steps if s.step == request.current_step), None)
        if request.status != "pending" or current is None or current.status != "pending":
            raise StepTaken(N_("This approval was already decided"))
        if step_id is not None and current.id != step_id:
            raise StepTaken(N_("This approval step was already decided"))
        behalf = await self.taker(kind, current)
        now = utcnow()
        actor_name = self.actor.display_name or self.actor.email or None
        current.status = "approved" if outcome == "approve" else "rejected"
        current.decided_by, current.decided_by_name, current.decided_at = self.actor.user_id, actor_name, now
        current.comment = comment
        if behalf is not None:
            current.on_behalf_of, current.on_behalf_of_name = behalf
        self.session.add(
            ApprovalEvent(
                request_id=request.id,
                at=now,
                action=current.status,
                step=current.step,
                actor_id=self.actor.user_id,
                actor_name=actor_name,
                on_behalf_of=behalf[0] if behalf else None,
                on_behalf_of_name=behalf[1] if behalf else None,
                comment=comment,
            )
        )
        details: dict[str, Any] = {"kind": request.kind, "subject_id": request.subject_id, "step": current.step}
        if behalf is not None:
            details["on_behalf_of"] = behalf[0]
        if comment:
            details["comment"] = comment
        if choice:
            details["choice"] = choice
        record_action(self.session, request, "approve_step" if outcome == "approve" else "reject", details)
        decision.step, decision.steps = current, len(steps)
        later = [s for s in steps if s.step > current.step and s.status == "pending"]
        if outcome == "reject":
            request.status, request.decided_at = "rejected", now
            decision.final = True
            await self.session.flush()
            publish(self.session, "approval.rejected", AGGREGATE, request.id, _payload(request, current.step))
            await kind.rejected(decision)
        elif later:
            request.current_step = later[0].step
            await self.session.flush()
            publish(self.session, "approval.step_approved", AGGREGATE, request.id, _payload(request, current.step))
            await kind.step_approved(decision)
        else:
            request.status, request.decided_at = "approved", now
            decision.final = True
            await self.session.flush()
            publish(self.session, "approval.approved", AGGREGATE, request.id, _payload(request, current.step))
            await kind.approved(decision)
        return decision

    # --- reassigning ---

    async def approvers(self, kind: ApprovalKind) -> list[tuple[uuid.UUID, str]]:
        """The active staff whose roles grant the kind's permission: whom a step may be given to."""
        rows = list(
            await self.session.execute(
                select(InternalUser.id, InternalUser.display_name)
                .where(InternalUser.status == "active")
                .order_by(InternalUser.display_name, InternalUser.id)
            )
        )
        missing = await lacking(
            self.session, self.policy, self.actor.tenant_id, [u for u, _n in rows], [kind.permission]
        )
        return [(user_id, name) for user_id, name in rows if not missing[user_id]]

    async def reassign(self, step_id: uuid.UUID, user_id: uuid.UUID) -> ApprovalRequestStep:
        """Give a pending step (stranded or not) to another person who can take it: only who edits flows
        may; the person must be active staff whose roles grant the kind's permission (422 on `user_id`
        naming it). The step becomes theirs alone (its role, if any, no longer applies); audited
        (`reassign_step`) and published (`approval.reassigned`), which notifies them when it is the
        step waiting now."""
        if not self.may_rescue():
            raise PermissionDenied(N_("You may not reassign approval steps"))
        step = await self.session.scalar(select(ApprovalRequestStep).where(ApprovalRequestStep.id == step_id))
        request = None
        if step is not None:
            request = await self.session.scalar(
                select(ApprovalRequest).where(ApprovalRequest.id == step.request_id).with_for_update()
            )
        if step is None or request is None or request.kind not in self.kinds:
            raise NotFound(N_("No such approval"))
        await self.session.refresh(step, with_for_update=True)
        if request.status != "pending" or step.status != "pending":
            raise StepTaken(N_("This approval step was already decided"))
        kind = self.kinds[request.kind]
        if (await lacking(self.session, self.policy, self.actor.tenant_id, [user_id], [kind.permission]))[user_id]:
            raise ValidationFailed.single(
                "user_id",
                N_("This person cannot approve: their roles lack the permission %(permission)s"),
                "not_allowed",
                permission=permission_text(kind.permission),
            )
        if step.user_id == user_id and step.role_key is None:
            return step  # theirs already: nothing changes, so nothing is audited and nobody is told again
        before = {"user_id": step.user_id, "role_key": step.role_key}
        step.user_id, step.role_key = user_id, None
        record_action(
            self.session,
            request,
            "reassign_step",
            {
                "kind": request.kind,
                "subject_id": request.subject_id,
                "step": step.step,
                "from_user_id": before["user_id"],
                "from_role": before["role_key"],
                "to_user_id": user_id,
            },
        )
        await self.session.flush()
        publish(self.session, "approval.reassigned", AGGREGATE, request.id, _payload(request, step.step))
        return step

    # --- comments ---

    async def comment(self, step_id: uuid.UUID, text: str | None) -> ApprovalEvent:
        step, request = await self.visible(step_id)
        cleaned = clean_comment(text)
        if cleaned is None:
            raise ValidationFailed.single("comment", N_("is required"), "required")
        event = ApprovalEvent(
            request_id=request.id,
            action="commented",
            step=request.current_step if request.status == "pending" else None,
            actor_id=self.actor.user_id,
            actor_name=self.actor.display_name or self.actor.email or None,
            comment=cleaned,
        )
        self.session.add(event)
        await self.session.flush()
        publish(self.session, "approval.commented", AGGREGATE, request.id, _payload(request, step.step))
        return event

    # --- the queue ---

    def _kinds_allowed(self) -> list[str]:
        return [k.key for k in self.kinds if self.may_approve(k)]

    async def visible(self, step_id: uuid.UUID) -> tuple[ApprovalRequestStep, ApprovalRequest]:
        """A step of a request of a kind the actor may approve (not found otherwise)."""
        row = (
            await self.session.execute(
                select(ApprovalRequestStep, ApprovalRequest)
                .join(ApprovalRequest, ApprovalRequest.id == ApprovalRequestStep.request_id)
                .where(ApprovalRequestStep.id == step_id, ApprovalRequest.kind.in_(list(self.kinds.by_key) or [""]))
            )
        ).first()
        if row is None:
            raise NotFound(N_("No such approval"))
        step, request = row[0], row[1]
        if request.kind not in self._kinds_allowed() and not await self._is_stranded(step, request):
            raise NotFound(N_("No such approval"))
        return step, request

    async def _is_stranded(self, step: ApprovalRequestStep, request: ApprovalRequest) -> bool:
        """A pending step (the current one) whose named person can no longer take it, for who may take it."""
        if step.user_id is None or request.status != "pending" or step.step != request.current_step:
            return False
        return (step.user_id, request.kind) in await self.stranded()

    async def _mine(self) -> tuple[ColumnElement[bool], dict[uuid.UUID, str]]:
        """Which pending steps are the actor's to take (their own, or a delegator's)."""
        step = ApprovalRequestStep
        conditions: list[ColumnElement[bool]] = [and_(step.role_key.is_(None), step.user_id.is_(None))]
        people = {self.actor.user_id: frozenset(self.actor.roles)}
        delegators = await self.delegators()
        if delegators:
            people.update(await self.policy.roles_of(self.session, list(delegators)))
        conditions.append(step.user_id.in_(list(people)))
        roles = frozenset().union(*people.values())
        if ADMIN_ROLE in roles:
            conditions.append(step.role_key.is_not(None))
        elif roles:
            conditions.append(step.role_key.in_(sorted(roles)))
        return or_(*conditions), delegators

    async def queue(
        self, status: str = "pending", limit: int = 50, offset: int = 0
    ) -> tuple[list[dict[str, Any]], int]:
        """The pending steps the actor may take now (status "pending", oldest first), or the steps they
        decided (approved / rejected, newest first), across every kind they may approve."""
        if status not in QUEUE_STATUSES:
            raise ValidationFailed.single(
                "status", N_("must be one of %(choices)s"), "invalid", choices=", ".join(QUEUE_STATUSES)
            )
        kinds = self._kinds_allowed()
        stranded = await self.stranded() if status == "pending" else {}
        if not kinds and not stranded:
            return [], 0
        step, request = ApprovalRequestStep, ApprovalRequest
        query = select(step, request).join(request, request.id == step.request_id).where(step.status == status)
        delegators: dict[uuid.UUID, str] = {}
        if status == "pending":
            mine, delegators = await self._mine()
            theirs: list[ColumnElement[bool]] = [and_(request.kind.in_(kinds or [""]), mine)]
            theirs += [and_(step.user_id == user_id, request.kind == kind) for user_id, kind in stranded]
            query = query.where(request.status == "pending", step.step == request.current_step, or_(*theirs))
            order: tuple[Any, ...] = (request.created_at, step.id)
        else:
            query = query.where(request.kind.in_(kinds), step.decided_by == self.actor.user_id)
            order = (step.decided_at.desc(), step.id.desc())
        total = await self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = list(await self.session.execute(query.order_by(*order).limit(limit).offset(offset)))
        return await self.items(rows, delegators, stranded), total

    async def items(
        self,
        rows: Sequence[Any],
        delegators: Mapping[uuid.UUID, str] | None = None,
        stranded: Mapping[tuple[uuid.UUID, str], str] | None = None,
    ) -> list[dict[str, Any]]:
        requests = [r for _s, r in rows]
        counts = await self._counts([r.id for r in requests])
        names = await self._enterprise_names([r.enterprise_id for r in requests if r.enterprise_id])
        people = await self._people([s.user_id for s, _r in rows if s.user_id])
        held = await self.policy.roles_of(self.session, list(delegators)) if delegators else {}
        own = frozenset(self.actor.roles)
        items = []
        for step, request in rows:
            kind = self.kinds[request.kind]
            behalf = None
            lost = (
                step.status == "pending"
                and request.status == "pending"
                and step.step == request.current_step
                and step.user_id is not None
                and (step.user_id, request.kind) in (stranded or {})
            )
            if lost:
                behalf = (stranded or {})[(step.user_id, request.kind)]
            elif step.status == "pending" and delegators and not self._qualifies(self.actor.user_id, own, step):
                behalf = next((n for u, n in delegators.items() if self._qualifies(u, held[u], step)), None)
            items.append(
                {
                    "id": step.id,
                    "request_id": request.id,
                    "kind": request.kind,
                    "kind_label": kind.label,
                    "subject_id": request.subject_id,
                    "title": request.title,
                    "link": kind.link(request.subject_id),
                    "amount": request.amount,
                    "currency": request.currency,
                    "enterprise_name": names.get(request.enterprise_id) if request.enterprise_id else None,
                    "requested_by": request.requested_by_name,
                    "requested_at": request.created_at,
                    "request_status": request.status,
                    "step": step.step,
                    "steps": counts.get(request.id, 1),
                    "step_name": step.name,
                    "role_key": step.role_key,
                    "user_name": people.get(step.user_id) if step.user_id else None,
                    "reason": step.reason,
                    "status": step.status,
                    "for_name": behalf,
                    "stranded": lost,
                    "decided_by": step.decided_by_name,
                    "on_behalf_of": step.on_behalf_of_name,
                    "decided_at": step.decided_at,
                    "comment": step.comment,
                }
            )
        return items

    async def detail(self, step_id: uuid.UUID) -> dict[str, Any]:
        """One item with its request's every step and timeline (opened, decisions, comments)."""
        step, request = await self.visible(step_id)
        delegators = await self.delegators() if step.status == "pending" else {}
        stranded = await self.stranded() if step.status == "pending" else {}
        item = (await self.items([(step, request)], delegators, stranded))[0]
        steps = (await self.steps_of([request.id]))[request.id]
        people = await self._people([s.user_id for s in steps if s.user_id])
        item["all_steps"] = [
            {
                "id": s.id,
                "step": s.step,
                "name": s.name,
                "role_key": s.role_key,
                "user_name": people.get(s.user_id) if s.user_id else None,
                "reason": s.reason,
                "status": s.status,
                "current": request.status == "pending" and s.step == request.current_step,
                "decided_by": s.decided_by_name,
                "on_behalf_of": s.on_behalf_of_name,
                "decided_at": s.decided_at,
                "comment": s.comment,
            }
            for s in steps
        ]
        events = await self.session.scalars(
            select(ApprovalEvent)
            .where(ApprovalEvent.request_id == request.id)
            .order_by(ApprovalEvent.at, ApprovalEvent.id)
        )
        item["timeline"] = [
            {
                "at": request.created_at,
                "action": "requested",
                "step": None,
                "by": request.requested_by_name,
                "on_behalf_of": None,
                "comment": None,
            },
            *(
                {
                    "at": e.at,
                    "action": e.action,
                    "step": e.step,
                    "by": e.actor_name,
                    "on_behalf_of": e.on_behalf_of_name,
                    "comment": e.comment,
                }
                for e in events
            ),
        ]
        item["may_reassign"] = self.may_rescue() and request.status == "pending" and step.status == "pending"
        item["may_take"] = False
        if request.status == "pending" and step.step == request.current_step:
            try:
                await self.taker(self.kinds[request.kind], step)
                item["may_take"] = True
            except PermissionDenied:
                pass
        return item

    async def pending_count(self) -> int:
        return (await self.queue("pending", limit=1))[1]

    async def _counts(self, request_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
        if not request_ids:
            return {}
        rows = await self.session.execute(
            select(ApprovalRequestStep.request_id, func.count())
            .where(ApprovalRequestStep.request_id.in_(request_ids))
            .group_by(ApprovalRequestStep.request_id)
        )
        return {request_id: count for request_id, count in rows}

    async def _enterprise_names(self, ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
        if not ids:
            return {}
        rows = await self.session.execute(
            select(EnterpriseLink.id, EnterpriseLink.name).where(EnterpriseLink.id.in_(set(ids)))
        )
        return {link_id: name for link_id, name in rows}

    async def _people(self, ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
        if not ids:
            return {}
        rows = await self.session.execute(
            select(InternalUser.id, InternalUser.display_name).where(InternalUser.id.in_(set(ids)))
        )
        return {user_id: name for user_id, name in rows}


def _payload(request: ApprovalRequest, step: int) -> dict[str, Any]:
    return {
        "kind": request.kind,
        "subject_id": str(request.subject_id),
        "status": request.status,
        "step": step,
        "current_step": request.current_step,
    }
