"""Notices to the approvers of a step when it becomes theirs: the subscriber `approvals.notices` on the
engine's outbox events (a request opened: its first step; a step approved: the next one) notifies the
step's named person, the holders of its role, or (a step anyone may take) the holders of a role that may
approve the kind, and the delegates any of them named for today. The event id makes each notice once
per person however often the event is delivered."""

from __future__ import annotations

import uuid
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
from roles.approvals.kinds import ApprovalKinds
from roles.approvals.models import ApprovalDelegation, ApprovalRequest, ApprovalRequestStep
from roles.casbin_model import ROLE_PREFIX, USER_PREFIX
from roles.models import PolicyRule
from roles.policy import RolePolicy

if TYPE_CHECKING:
    from portal.services import Services

STEP_WAITING = "approvals.step_waiting"
EVENTS = frozenset({"approval.requested", "approval.step_approved"})

KINDS = (
    NotificationKind(
        STEP_WAITING,
        N_("An approval step waits for you"),
        "approvals/notifications/step_waiting",
        frozenset({"internal"}),
        sample={"name": "Li Wei", "workspace": "Acme Pumps", "title": "SO000123", "step": 1},
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
        if step is None:
            return
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


SUBSCRIBERS = (
    Subscriber(
        "approvals.notices",
        lambda event_type: event_type in EVENTS,
        _step_notice,
        label=N_("Notices to approvers"),
    ),
)
