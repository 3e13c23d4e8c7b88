"""The `can` template test: whether the signed-in person may do something, so a page does not offer it."""

from __future__ import annotations

from typing import Any

from jinja2 import pass_context


@pass_context
def can(context: Any, obj: str, action: str) -> bool:
    """For templates: whether the signed-in actor holds a permission, so a page does not offer forms the
    actor could not submit. Display only: the guard still decides on every request."""
    request = context.get("request")
    actor = request.scope.get("user") if request is not None else None
    return actor is not None and request.app.state.services.permissions.allows(actor, (obj, action))
