"""The small interface an app registers its approvable kinds through.

An app lists its kinds under `Component.extra["approval_kinds"]`; the engine knows nothing of orders or
deals beyond what a kind says:

- `key` ("ordering.order"), `label` (a message to translate) and `permission`: the staff permission a
  person needs to take any step of the kind (the route's own permission where the app has a route);
- `link(subject_id)`: where the subject's console page is;
- `check(decision)`: before a step is taken, lock the subject and refuse what its state does not allow
  (raise the app's own errors); it may put what the hooks need in `decision.state`;
- `approved(decision)` / `rejected(decision)`: what happens when the last step is approved, or any step
  is rejected (a rejection ends the request); `step_approved(decision)`: after a step that is not the
  last (the subject's own timeline, say);
- `reason_required`: a rejection must say why.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from portal.actor import Actor
from portal.permissions import Permission

if TYPE_CHECKING:
    from roles.approvals.models import ApprovalRequest, ApprovalRequestStep
    from roles.policy import RolePolicy

KINDS_KEY = "approval_kinds"
Outcome = Literal["approve", "reject"]


@dataclass(frozen=True, slots=True)
class Facts:
    """What a flow's conditions are checked against: the subject's amount and the partner enterprise it
    is for (its type, tier and region; read from the enterprise when not given)."""

    amount: Decimal | None = None
    currency: str | None = None
    enterprise_id: uuid.UUID | None = None
    partner_type_id: uuid.UUID | None = None
    tier_id: uuid.UUID | None = None
    region_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class ExtraStep:
    """A step an app adds after the flow's for one subject (an order over its credit limit: its approver)."""

    role_key: str
    reason: str
    name: str | None = None


@dataclass
class Decision:
    """One step being decided, as the kind's hooks see it."""

    session: AsyncSession
    policy: RolePolicy
    actor: Actor
    request: ApprovalRequest
    step: ApprovalRequestStep | None
    outcome: Outcome
    comment: str | None
    # an app's own choice among approving outcomes (a registration in conflict: "approve" or "split")
    choice: str | None = None
    final: bool = False
    steps: int = 1
    # what `check` found, for the hooks (the locked order, say)
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def subject_id(self) -> uuid.UUID:
        return self.request.subject_id


Hook = Callable[[Decision], Awaitable[None]]


async def _nothing(decision: Decision) -> None:
    return None


@dataclass(frozen=True)
class ApprovalKind:
    key: str
    label: str
    permission: Permission
    link: Callable[[uuid.UUID], str]
    approved: Hook
    rejected: Hook
    check: Hook = _nothing
    step_approved: Hook = _nothing
    reason_required: bool = False
    choices: Sequence[str] = ()


class ApprovalKinds:
    """The kinds every component registered, by key."""

    def __init__(self, kinds: Iterable[ApprovalKind]) -> None:
        self.by_key: dict[str, ApprovalKind] = {}
        for kind in kinds:
            if kind.key in self.by_key:
                raise ValueError(f"approval kind {kind.key} registered twice")
            self.by_key[kind.key] = kind

    @classmethod
    def of(cls, components: Iterable[Any]) -> ApprovalKinds:
        return cls(k for c in components for k in c.extra.get(KINDS_KEY, ()))

    def __getitem__(self, key: str) -> ApprovalKind:
        return self.by_key[key]

    def __contains__(self, key: object) -> bool:
        return key in self.by_key

    def __iter__(self) -> Any:
        return iter(self.by_key.values())
