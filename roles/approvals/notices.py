"""Notices to the approvers of a step when it becomes theirs: the subscriber `approvals.notices` on the
engine's outbox events (a request opened: its first step; a step approved: the next one; a step
reassigned while it waits) notifies the step's named person, the holders of its role, or (a step anyone
may take) the holders of a role that may approve the kind, and the delegates any of them named for today.
The event id makes each notice once per person however often the event is delivered.

Stranded steps: a waiting step whose named person can no longer take it (disabled, or their roles lost
the kind's permission) is told to whoever may edit flows (`approvals.flow` update), who take or reassign
it. A person loses a permission in many places (their roles, a role's permissions, their account), so
the job `approvals.stranded` looks for such steps every few minutes, and the subscriber looks at once
when a step becomes the waiting one; each step is told once per stranded person and recipient."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal import timezones
from portal.db.context import tenant_context
from portal.i18n import N_
from portal.identity.models import InternalUser, Tenant
from portal.notifications.kinds import NotificationKind
from portal.notifications.service import Recipient
from portal.outbox import Event, Subscriber
from portal.permissions import ADMIN_ROLE
from portal.schedules import ScheduledJob, for_each_tenant
from roles.approvals.engine import RESCUE, lacking
from roles.approvals.kinds import ApprovalKinds
from roles.approvals.models import ApprovalDelegation, ApprovalRequest, ApprovalRequestStep
from roles.casbin_model import ROLE_PREFIX, USER_PREFIX
from roles.models import PolicyRule
from roles.policy import RolePolicy

if TYPE_CHECKING:
    from portal.services import Services

STEP_WAITING = "approvals.step_waiting"
STEP_STRANDED = "approvals.step_stranded"
EVENTS = frozenset({"approval.requested", "approval.step_approved", "approval.reassigned"})

KINDS = (
    NotificationKind(
        STEP_WAITING,
        N_("An approval step waits for you"),
        "approvals/notifications/step_waiting",
        frozenset({"internal"}),
        sample={"name": "Li Wei", "workspace": "Acme Pumps", "title": "SO000123", "step": 1},
    ),
    NotificationKind(
        STEP_STRANDED,
        N_("An approval step nobody can take"),
        "approvals/notifications/step_stranded",
        frozenset({"internal"}),
        sample={"name": "Li Wei", "workspace": "Acme Pumps", "title": "SO000123", "step": 2, "person": "Wang Fang"},
    ),
)


async def _holders(session: AsyncSession, role_keys: set[str]) -> set[uuid.UUID]:
    if not role_keys:
        return set()
    subjects = await session.scalars(
        select(PolicyRule.v0).where(PolicyRule.ptype == "g", PolicyRule.v1.in_([ROLE_PREFIX + k for k in role_keys]))
    )
    return {uuid.UUID(s.removeprefix(USER_PREFIX)) for s in subjects if s.startswith(USER_PREFIX)}


async def _step_notice(services: Services, event: Event) -> None:
    if event.event_type not in EVENTS:
        return
    kinds: ApprovalKinds = services.extensions["approval_kinds"]
    async with services.db.session(tenant_context(event.tenant_id, channel="system")) as session:
        request = await session.scalar(select(ApprovalRequest).where(ApprovalRequest.id == event.aggregate_id))
        if request is None or request.status != "pending" or request.kind not in kinds:
            return
        step = await session.scalar(
            select(ApprovalRequestStep).where(
                ApprovalRequestStep.request_id == request.id,
                ApprovalRequestStep.step == request.current_step,
                ApprovalRequestStep.status == "pending",
            )
        )
        if step is None or (event.event_type == "approval.reassigned" and event.payload.get("step") != step.step):
            return  # a later step was reassigned: nothing waits for its new person yet
        tenant = (await session.scalars(select(Tenant).where(Tenant.id == event.tenant_id))).one()
        if step.user_id is not None:
            people = {step.user_id}
        elif step.role_key is not None:
            people = await _holders(session, {step.role_key})
        else:
            policy = services.permissions
            assert isinstance(policy, RolePolicy)
            compiled = await policy.compiled(session, tenant.id, tenant.policy_version)
            permission = kinds[request.kind].permission
            roles = {
                k
                for k, r in compiled.roles.items()
                if r.kind == "internal" and compiled.allows(frozenset({k}), permission)
            }
            people = await _holders(session, roles | {ADMIN_ROLE})
        if people:
            today = timezones.today(tenant.time_zone)
            people |= set(
                await session.scalars(
                    select(ApprovalDelegation.delegate_id).where(
                        ApprovalDelegation.user_id.in_(people),
                        ApprovalDelegation.starts_on <= today,
                        ApprovalDelegation.ends_on >= today,
                    )
                )
            )
        users = await session.scalars(
            select(InternalUser).where(InternalUser.id.in_(people), InternalUser.status == "active")
        )
        for user in users:
            await services.notifications.notify(
                session,
                Recipient(
                    "internal", user.id, user.display_name, user.email, None, user.locale or tenant.default_locale
                ),
                STEP_WAITING,
                {"name": user.display_name, "workspace": tenant.name, "title": request.title, "step": step.step},
                dedup_key=f"{event.id.hex}:{user.id.hex}",
            )


async def _stranded_notice(services: Services, event: Event) -> None:
    if event.event_type in EVENTS:
        await notify_stranded(services, event.tenant_id, event.aggregate_id)


async def notify_stranded(services: Services, tenant_id: uuid.UUID, request_id: uuid.UUID | None = None) -> int:
    """Tell whoever may edit flows of each waiting step (of one request, or all) whose named person can no
    longer take it; how many such steps there are. Once per step, stranded person and recipient."""
    kinds: ApprovalKinds = services.extensions["approval_kinds"]
    policy = services.permissions
    assert isinstance(policy, RolePolicy)
    step, request = ApprovalRequestStep, ApprovalRequest
    async with services.db.session(tenant_context(tenant_id, channel="system")) as session:
        query = (
            select(step, request)
            .join(request, request.id == step.request_id)
            .where(
                request.status == "pending",
                step.step == request.current_step,
                step.status == "pending",
                step.user_id.is_not(None),
                request.kind.in_(list(kinds.by_key) or [""]),
            )
        )
        if request_id is not None:
            query = query.where(request.id == request_id)
        rows = list(await session.execute(query))
        if not rows:
            return 0
        tenant = (await session.scalars(select(Tenant).where(Tenant.id == tenant_id))).one()
        compiled = await policy.compiled(session, tenant.id, tenant.policy_version)
        people = sorted({s.user_id for s, _r in rows if s.user_id is not None})
        missing = await lacking(session, policy, tenant_id, people, [k.permission for k in kinds])
        lost = [(s, r) for s, r in rows if s.user_id is not None and kinds[r.kind].permission in missing[s.user_id]]
        if not lost:
            return 0
        editors = {
            k for k, r in compiled.roles.items() if r.kind == "internal" and compiled.allows(frozenset({k}), RESCUE)
        }
        recipients = list(
            await session.scalars(
                select(InternalUser).where(
                    InternalUser.id.in_(await _holders(session, editors | {ADMIN_ROLE})),
                    InternalUser.status == "active",
                )
            )
        )
        names = dict(
            (
                await session.execute(
                    select(InternalUser.id, InternalUser.display_name).where(InternalUser.id.in_(people))
                )
            ).all()
        )
        for lost_step, lost_request in lost:
            assert lost_step.user_id is not None
            for user in recipients:
                await services.notifications.notify(
                    session,
                    Recipient(
                        "internal", user.id, user.display_name, user.email, None, user.locale or tenant.default_locale
                    ),
                    STEP_STRANDED,
                    {
                        "name": user.display_name,
                        "workspace": tenant.name,
                        "title": lost_request.title,
                        "step": lost_step.step,
                        "person": names.get(lost_step.user_id, ""),
                    },
                    dedup_key=f"stranded:{lost_step.id.hex}:{lost_step.user_id.hex}:{user.id.hex}",
                )
        return len(lost)


async def stranded_steps(services: Services) -> int:
    """One pass over every tenant: the notices written for steps that became stranded since the last."""
    return await for_each_tenant(services, lambda tenant_id: notify_stranded(services, tenant_id))


STRANDED = ScheduledJob("approvals.stranded", stranded_steps, every=timedelta(minutes=5))

SUBSCRIBERS = (
    Subscriber(
        "approvals.notices",
        lambda event_type: event_type in EVENTS,
        _step_notice,
        label=N_("Notices to approvers"),
    ),
    Subscriber(
        "approvals.stranded_notices",
        lambda event_type: event_type in EVENTS,
        _stranded_notice,
        label=N_("Notices of approval steps nobody can take"),
    ),
)
