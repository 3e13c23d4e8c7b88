"""What apps call to apply field rules and data scopes: one place for each.

- `scoped(query, ...)`: the select, narrowed to the records the actor may read (or write).
- `shown(...)`: a record as a dict without the fields the actor may not see; JSON, pages and exports
  all render from it, so a hidden field never leaves the server.
- `check_writable(...)`: refuses a write naming a hidden or read-only field (never a silent drop).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from litestar import Request
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.actor import Actor
from portal.errors import FieldError, ValidationFailed
from portal.i18n import N_
from roles.policy import RolePolicy
from roles.scopes import Access

Q = TypeVar("Q", bound=Select[Any])


def policy_of(request: Request[Any, Any, Any]) -> RolePolicy:
    policy = request.app.state.services.permissions
    assert isinstance(policy, RolePolicy)
    return policy


async def scoped(
    session: AsyncSession, query: Q, policy: RolePolicy, actor: Actor, obj: str, access: Access = "read"
) -> Q:
    return query.where(await policy.scope(session, actor, obj, access))


def shown(policy: RolePolicy, actor: Actor, obj: str, values: Mapping[str, Any]) -> dict[str, Any]:
    rules = policy.fields(actor, obj)
    return {k: v for k, v in values.items() if rules.get(k) != "hidden"}


def hidden_fields(policy: RolePolicy, actor: Actor, obj: str) -> frozenset[str]:
    return frozenset(k for k, v in policy.fields(actor, obj).items() if v == "hidden")


def check_writable(policy: RolePolicy, actor: Actor, obj: str, provided: Iterable[str]) -> None:
    rules = policy.fields(actor, obj)
    errors = [
        FieldError(name, N_("you may not change this field"), "field_read_only")
        for name in sorted(provided)
        if rules.get(name) in ("hidden", "read_only")
    ]
    if errors:
        raise ValidationFailed(errors)
