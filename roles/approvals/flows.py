"""Editing flows (per subject kind: conditions, steps) and people's delegates while they are away."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from interconnect.models import PartnerTier, PartnerType, Region
from portal import timezones
from portal.actor import Actor
from portal.errors import FieldError, NotFound, ValidationFailed
from portal.i18n import N_
from portal.identity.models import InternalUser
from roles.approvals.engine import lacking, permission_text
from roles.approvals.kinds import ApprovalKinds
from roles.approvals.models import ApprovalDelegation, ApprovalFlow, ApprovalFlowStep
from roles.models import Role
from roles.policy import RolePolicy

MAX_AMOUNT = Decimal("100000000000000")  # what the money columns hold
MAX_STEP = 20
MAX_POSITION = 1000
MAX_DELEGATION_DAYS = 366


def _text(errors: list[FieldError], name: str, value: Any, limit: int, required: bool = False) -> str | None:
    cleaned = value.strip() if isinstance(value, str) else "" if value is None else str(value).strip()
    if not cleaned:
        if required:
            errors.append(FieldError(name, N_("is required"), "required"))
        return None
    if len(cleaned) > limit:
        errors.append(FieldError(name, N_("may be at most %(max)s characters"), "too_long", {"max": limit}))
        return None
    return cleaned


def _amount(errors: list[FieldError], name: str, value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        errors.append(FieldError(name, N_("must be a number"), "invalid"))
        return None
    if not amount.is_finite() or amount < 0:
        errors.append(FieldError(name, N_("must be 0 or more"), "out_of_range"))
        return None
    if amount >= MAX_AMOUNT:
        errors.append(FieldError(name, N_("must be less than %(max)s"), "out_of_range", {"max": f"{MAX_AMOUNT:,}"}))
        return None
    if amount != amount.quantize(Decimal("0.01")):
        errors.append(FieldError(name, N_("may have at most 2 decimal places"), "invalid"))
        return None
    return amount


def _number(errors: list[FieldError], name: str, value: Any, low: int, high: int, default: int) -> int:
    if value is None or value == "":
        return default
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors.append(
            FieldError(name, N_("must be between %(low)s and %(high)s"), "out_of_range", {"low": low, "high": high})
        )
        return default
    return value


def _uuid(errors: list[FieldError], name: str, value: Any) -> uuid.UUID | None:
    if value is None or value == "":
        return None
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        errors.append(FieldError(name, N_("is not a valid id"), "invalid"))
        return None


def _flag(value: Any, default: bool = True) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("1", "true", "on", "yes")


class FlowAdmin:
    """The tenant's flows; what the console's flow editor and `/api/approvals/flows` change."""

    def __init__(
        self,
        session: AsyncSession,
        kinds: ApprovalKinds,
        policy: RolePolicy | None = None,
        tenant_id: uuid.UUID | None = None,
    ) -> None:
        self.session = session
        self.kinds = kinds
        # to refuse a step named for someone who may not approve its kind (steps by role need neither)
        self.policy = policy
        self.tenant_id = tenant_id

    async def flows(self, kind: str | None = None) -> list[tuple[ApprovalFlow, list[ApprovalFlowStep]]]:
        query = select(ApprovalFlow).where(ApprovalFlow.kind.in_(list(self.kinds.by_key)))
        if kind is not None:
            query = query.where(ApprovalFlow.kind == kind)
        flows = list(
            await self.session.scalars(query.order_by(ApprovalFlow.kind, ApprovalFlow.position, ApprovalFlow.id))
        )
        steps: dict[uuid.UUID, list[ApprovalFlowStep]] = {f.id: [] for f in flows}
        if flows:
            for step in await self.session.scalars(
                select(ApprovalFlowStep)
                .where(ApprovalFlowStep.flow_id.in_(list(steps)))
                .order_by(ApprovalFlowStep.step, ApprovalFlowStep.min_amount, ApprovalFlowStep.id)
            ):
                steps[step.flow_id].append(step)
        return [(f, steps[f.id]) for f in flows]

    async def flow(self, flow_id: uuid.UUID) -> tuple[ApprovalFlow, list[ApprovalFlowStep]]:
        flow = await self.session.scalar(
            select(ApprovalFlow).where(ApprovalFlow.id == flow_id, ApprovalFlow.kind.in_(list(self.kinds.by_key)))
        )
        if flow is None:
            raise NotFound(N_("No such approval flow"))
        steps = list(
            await self.session.scalars(
                select(ApprovalFlowStep)
                .where(ApprovalFlowStep.flow_id == flow.id)
                .order_by(ApprovalFlowStep.step, ApprovalFlowStep.min_amount, ApprovalFlowStep.id)
            )
        )
        return flow, steps

    async def first_flow(self, kind: str, name: str) -> ApprovalFlow:
        """The kind's first flow by position, made (no conditions, no steps) when it has none."""
        flow = await self.session.scalar(
            select(ApprovalFlow)
            .where(ApprovalFlow.kind == kind)
            .order_by(ApprovalFlow.position, ApprovalFlow.id)
            .limit(1)
        )
        if flow is None:
            flow = ApprovalFlow(kind=kind, name=name, position=1)
            self.session.add(flow)
            await self.session.flush()
        return flow

    async def _conditions(self, errors: list[FieldError], values: Mapping[str, Any]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name, model, message in (
            ("partner_type_id", PartnerType, N_("No such partner type")),
            ("tier_id", PartnerTier, N_("No such tier")),
            ("region_id", Region, N_("No such region")),
        ):
            key = _uuid(errors, name, values.get(name))
            if key is not None and await self.session.scalar(select(model.id).where(model.id == key)) is None:
                errors.append(FieldError(name, message, "unknown"))
            found[name] = key
        return found

    async def _flow_values(self, values: Mapping[str, Any], kind: str | None) -> dict[str, Any]:
        errors: list[FieldError] = []
        if kind is not None and kind not in self.kinds:
            errors.append(FieldError("kind", N_("No such kind of approval"), "unknown"))
        found = {
            "name": _text(errors, "name", values.get("name"), 100, required=True),
            "position": _number(errors, "position", values.get("position"), 1, MAX_POSITION, 1),
            "min_amount": _amount(errors, "min_amount", values.get("min_amount")),
            "active": _flag(values.get("active")),
            **(await self._conditions(errors, values)),
        }
        if errors:
            raise ValidationFailed(errors)
        return found

    async def create_flow(self, values: Mapping[str, Any]) -> ApprovalFlow:
        kind = values.get("kind")
        found = await self._flow_values(values, kind if isinstance(kind, str) else "")
        flow = ApprovalFlow(kind=kind, **found)
        self.session.add(flow)
        await self.session.flush()
        return flow

    async def update_flow(self, flow_id: uuid.UUID, values: Mapping[str, Any]) -> ApprovalFlow:
        flow, _steps = await self.flow(flow_id)
        for name, value in (await self._flow_values(values, None)).items():
            setattr(flow, name, value)
        await self.session.flush()
        return flow

    async def delete_flow(self, flow_id: uuid.UUID) -> None:
        flow, steps = await self.flow(flow_id)
        for step in steps:
            await self.session.delete(step)
        await self.session.flush()
        await self.session.delete(flow)
        await self.session.flush()

    async def add_step(self, flow_id: uuid.UUID, values: Mapping[str, Any]) -> ApprovalFlowStep:
        flow, _steps = await self.flow(flow_id)
        errors: list[FieldError] = []
        name = _text(errors, "name", values.get("name"), 100, required=True)
        number = _number(errors, "step", values.get("step"), 1, MAX_STEP, 1)
        amount = _amount(errors, "min_amount", values.get("min_amount"))
        role_key = _text(errors, "role_key", values.get("role_key"), 64)
        user_id = _uuid(errors, "user_id", values.get("user_id"))
        if role_key is not None and user_id is not None:
            errors.append(FieldError("user_id", N_("Name a role or a person, not both"), "ambiguous"))
        if role_key is not None and (
            await self.session.scalar(select(Role.id).where(Role.key == role_key, Role.kind == "internal")) is None
        ):
            errors.append(FieldError("role_key", N_("No such staff role"), "unknown"))
        if user_id is not None and (
            await self.session.scalar(
                select(InternalUser.id).where(InternalUser.id == user_id, InternalUser.status == "active")
            )
            is None
        ):
            errors.append(FieldError("user_id", N_("No such staff member"), "unknown"))
        elif user_id is not None:
            await self._may_approve(errors, user_id, flow.kind)
        conditions = await self._conditions(errors, values)
        if errors:
            raise ValidationFailed(errors)
        step = ApprovalFlowStep(
            flow_id=flow.id,
            step=number,
            name=name,
            role_key=role_key,
            user_id=user_id,
            min_amount=amount or Decimal(0),
            active=_flag(values.get("active")),
            **conditions,
        )
        self.session.add(step)
        await self.session.flush()
        return step

    async def _may_approve(self, errors: list[FieldError], user_id: uuid.UUID, kind: str) -> None:
        """A step named for a person they can take: their roles grant the kind's permission."""
        if kind not in self.kinds:
            return
        if self.policy is None or self.tenant_id is None:
            raise RuntimeError("a step named for a person needs the role policy to check them")
        permission = self.kinds[kind].permission
        if (await lacking(self.session, self.policy, self.tenant_id, [user_id], [permission]))[user_id]:
            errors.append(
                FieldError(
                    "user_id",
                    N_("This person cannot approve: their roles lack the permission %(permission)s"),
                    "not_allowed",
                    {"permission": permission_text(permission)},
                )
            )

    async def step(
        self, step_id: uuid.UUID, kind: str | None = None, flow_id: uuid.UUID | None = None
    ) -> ApprovalFlowStep:
        query = (
            select(ApprovalFlowStep)
            .join(ApprovalFlow, ApprovalFlow.id == ApprovalFlowStep.flow_id)
            .where(ApprovalFlowStep.id == step_id, ApprovalFlow.kind.in_(list(self.kinds.by_key)))
        )
        if kind is not None:
            query = query.where(ApprovalFlow.kind == kind)
        if flow_id is not None:
            query = query.where(ApprovalFlowStep.flow_id == flow_id)
        step = await self.session.scalar(query)
        if step is None:
            raise NotFound(N_("No such approval step"))
        return step

    async def delete_step(self, step_id: uuid.UUID, kind: str | None = None, flow_id: uuid.UUID | None = None) -> None:
        await self.session.delete(await self.step(step_id, kind, flow_id))
        await self.session.flush()

    async def kind_steps(self, kind: str, *, first_only: bool = False) -> list[ApprovalFlowStep]:
        """Every step of every flow of the kind (`first_only`: of its first flow by position)."""
        query = (
            select(ApprovalFlowStep)
            .join(ApprovalFlow, ApprovalFlow.id == ApprovalFlowStep.flow_id)
            .where(ApprovalFlow.kind == kind)
        )
        if first_only:
            first = (
                select(ApprovalFlow.id)
                .where(ApprovalFlow.kind == kind)
                .order_by(ApprovalFlow.position, ApprovalFlow.id)
                .limit(1)
                .scalar_subquery()
            )
            query = query.where(ApprovalFlow.id == first)
        return list(
            await self.session.scalars(
                query.order_by(ApprovalFlowStep.step, ApprovalFlowStep.min_amount, ApprovalFlowStep.id)
            )
        )


class Delegations:
    """A staff member's delegates while they are away, and whom they stand in for."""

    def __init__(self, session: AsyncSession, actor: Actor, policy: RolePolicy, kinds: ApprovalKinds) -> None:
        self.session = session
        self.actor = actor
        self.policy = policy
        self.kinds = kinds

    async def mine(self) -> list[dict[str, Any]]:
        rows = await self.session.execute(
            select(ApprovalDelegation)
            .where(
                or_(
                    ApprovalDelegation.user_id == self.actor.user_id,
                    ApprovalDelegation.delegate_id == self.actor.user_id,
                )
            )
            .order_by(ApprovalDelegation.starts_on.desc(), ApprovalDelegation.id)
        )
        found = [row[0] for row in rows]
        ids = {d.user_id for d in found} | {d.delegate_id for d in found}
        names = {}
        if ids:
            names = dict(
                (
                    await self.session.execute(
                        select(InternalUser.id, InternalUser.display_name).where(InternalUser.id.in_(ids))
                    )
                ).all()
            )
        return [
            {
                "id": d.id,
                "user_id": d.user_id,
                "user_name": names.get(d.user_id, ""),
                "delegate_id": d.delegate_id,
                "delegate_name": names.get(d.delegate_id, ""),
                "starts_on": d.starts_on,
                "ends_on": d.ends_on,
                "mine": d.user_id == self.actor.user_id,
            }
            for d in found
        ]

    async def name(self, delegate_id: Any, starts_on: Any, ends_on: Any) -> ApprovalDelegation:
        """The actor names a delegate for days from `starts_on` to `ends_on` (inclusive)."""
        errors: list[FieldError] = []
        delegate = _uuid(errors, "delegate_id", delegate_id)
        if delegate is None and not errors:
            errors.append(FieldError("delegate_id", N_("is required"), "required"))
        elif delegate == self.actor.user_id:
            errors.append(FieldError("delegate_id", N_("Name someone else"), "self"))
        elif delegate is not None and (
            await self.session.scalar(
                select(InternalUser.id).where(InternalUser.id == delegate, InternalUser.status == "active")
            )
            is None
        ):
            errors.append(FieldError("delegate_id", N_("No such staff member"), "unknown"))
        elif delegate is not None:
            await self._delegate_may_approve(errors, delegate)
        start = _day(errors, "starts_on", starts_on)
        end = _day(errors, "ends_on", ends_on)
        if end is not None and end < timezones.today(self.actor.time_zone):
            errors.append(FieldError("ends_on", N_("must be today or later"), "past"))
        elif start is not None and end is not None:
            if end < start:
                errors.append(FieldError("ends_on", N_("must be on or after the first day"), "out_of_range"))
            elif (end - start).days >= MAX_DELEGATION_DAYS:
                errors.append(
                    FieldError(
                        "ends_on",
                        N_("A delegation lasts at most %(days)s days"),
                        "too_long",
                        {"days": MAX_DELEGATION_DAYS},
                    )
                )
        if errors:
            raise ValidationFailed(errors)
        row = ApprovalDelegation(user_id=self.actor.user_id, delegate_id=delegate, starts_on=start, ends_on=end)
        self.session.add(row)
        await self.session.flush()
        return row

    async def _delegate_may_approve(self, errors: list[FieldError], delegate: uuid.UUID) -> None:
        """The delegate takes what is the actor's only with a kind's permission of their own: refused when
        they hold none of the permissions of the kinds the actor approves (of any kind, when none)."""
        wanted = [k.permission for k in self.kinds if self.policy.allows(self.actor, k.permission)]
        wanted = wanted or [k.permission for k in self.kinds]
        wanted = list(dict.fromkeys(wanted))
        if not wanted:
            return
        missing = (await lacking(self.session, self.policy, self.actor.tenant_id, [delegate], wanted))[delegate]
        if len(missing) == len(wanted):
            errors.append(
                FieldError(
                    "delegate_id",
                    N_("This person cannot approve: their roles lack the permission %(permission)s"),
                    "not_allowed",
                    {"permission": ", ".join(permission_text(p) for p in missing)},
                )
            )

    async def end(self, delegation_id: uuid.UUID) -> None:
        row = await self.session.scalar(
            select(ApprovalDelegation).where(
                ApprovalDelegation.id == delegation_id, ApprovalDelegation.user_id == self.actor.user_id
            )
        )
        if row is None:
            raise NotFound(N_("No such delegation"))
        await self.session.delete(row)
        await self.session.flush()


def _day(errors: list[FieldError], name: str, value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if not value:
        errors.append(FieldError(name, N_("is required"), "required"))
        return None
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        errors.append(FieldError(name, N_("must be a date (YYYY-MM-DD)"), "invalid"))
        return None
