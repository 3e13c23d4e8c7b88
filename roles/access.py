"""What apps call to apply field rules and data scopes: one place for each.

- `scoped(query, ...)`: the select, narrowed to the records the actor may read (or write).
- `shown(...)` (`shown_to(...)` for a list): a record's dict without the fields the actor may not see;
  JSON, pages and exports all render from it, so a hidden field never leaves the server.
- `check_writable(...)`: refuses a write naming a hidden or read-only field (never a silent drop).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from litestar import Request
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.actor import Actor
from portal.errors import FieldError, ValidationFailed
from portal.i18n import N_
from portal.services import Services
from roles.policy import RolePolicy
from roles.scopes import Access

Q = TypeVar("Q", bound=Select[Any])


def role_policy(services: Services) -> RolePolicy:
    policy = services.permissions
    assert isinstance(policy, RolePolicy)
    return policy


def policy_of(request: Request[Any, Any, Any]) -> RolePolicy:
    return role_policy(request.app.state.services)


async def scoped(
    session: AsyncSession, query: Q, policy: RolePolicy, actor: Actor, obj: str, access: Access = "read"
) -> Q:
    return query.where(await policy.scope(session, actor, obj, access))


@dataclass(frozen=True, slots=True)
class Shown:
    """What one actor may see of one object's records: called with each record's dict (one of the
    caller's own), it takes out the fields the actor may not see and returns it."""

    hidden: frozenset[str]

    def __call__(self, values: dict[str, Any]) -> dict[str, Any]:
        for name in self.hidden:
            values.pop(name, None)
        return values


def shown_to(policy: RolePolicy, actor: Actor, obj: str) -> Shown:
    """`shown()` worked out once, for the many records of a list."""
    return Shown(policy.hidden(actor, obj))


def shown(policy: RolePolicy, actor: Actor, obj: str, values: dict[str, Any]) -> dict[str, Any]:
    """`values`, a record's fields in a dict of the caller's own, without the fields the actor may not see."""
    return shown_to(policy, actor, obj)(values)


def hidden_fields(policy: RolePolicy, actor: Actor, obj: str) -> frozenset[str]:
    return policy.hidden(actor, obj)


def check_writable(policy: RolePolicy, actor: Actor, obj: str, provided: Iterable[str]) -> None:
    rules = policy.fields(actor, obj)
    errors = [
        FieldError(name, N_("you may not change this field"), "field_read_only")
        for name in sorted(provided)
        if rules.get(name) in ("hidden", "read_only")
    ]
    if errors:
        raise ValidationFailed(errors)
