"""The console's integration key pages (/console/integrations): the keys, a form for a new one, the latest
requests and refusals; a key's page (rotate, revoke, its latest requests). They call the service the staff's
key API calls; a new key is shown on the page that answers the form, once."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Router, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from portal.errors import ValidationFailed
from portal.i18n import N_
from portal.permissions import requires
from portal.ui.forms import MultiForm, form_value, form_values
from portal.ui.refusals import field_errors, refusal_of
from sync.integrations.dependencies import KEY_DEPENDENCIES, KeysDep
from sync.integrations.keys import OVERLAP_HOURS, Keys, key_out
from sync.integrations.models import IntegrationKey
from sync.integrations.objects import KEY, SCOPES

RECENT = 20
STATE_LABELS = {
    "active": N_("Active"),
    "retiring": N_("Rotated, works until the overlap ends"),
    "expired": N_("Expired"),
    "revoked": N_("Revoked"),
}
NOTICES = {"revoked": N_("The key was revoked: it no longer works.")}


def _shared() -> dict[str, Any]:
    return {"scopes": list(SCOPES.items()), "state_labels": STATE_LABELS, "overlaps": OVERLAP_HOURS}


def _form_of(data: MultiForm) -> dict[str, Any]:
    days = form_value(data, "expires_in_days").strip()
    return {
        "name": form_value(data, "name"),
        "scopes": form_values(data, "scopes"),
        "expires_in_days": int(days) if days.isdigit() and len(days) < 7 else (days or None),
    }


async def _list_page(
    keys: Keys,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    return Template(
        "sync/integrations/keys.html",
        context={
            **_shared(),
            "keys": [key_out(k) for k in await keys.list()],
            "requests": await keys.requests(limit=RECENT),
            "failures": await keys.requests(errors_only=True, limit=RECENT),
            "counts": await keys.counts(),
            "form": form or {"scopes": []},
            "errors": errors or {},
        },
        status_code=status_code,
    )


async def _key_page(
    keys: Keys,
    key: IntegrationKey,
    *,
    shown: str | None = None,
    alert: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Template:
    return Template(
        "sync/integrations/key.html",
        context={
            **_shared(),
            "key": key_out(key),
            "shown": shown,
            "alert": alert,
            "notice": NOTICES.get(notice or ""),
            "requests": await keys.requests(key.id, limit=RECENT),
        },
        status_code=status_code,
    )


@get("/console/integrations", opt=requires(KEY, "read"), include_in_schema=False)
async def keys_page(keys: KeysDep) -> Template:
    return await _list_page(keys)


@post("/console/integrations", opt=requires(KEY, "create"), include_in_schema=False)
async def create_key_page(data: MultiForm, keys: KeysDep) -> Template:
    """On success, the new key's page with the key, shown this once."""
    form = _form_of(data)
    try:
        key, shown = await keys.create(form)
    except ValidationFailed as error:
        return await _list_page(keys, form=form, errors=field_errors(error), status_code=422)
    return await _key_page(keys, key, shown=shown, status_code=201)


@get("/console/integrations/{integration_key_id:uuid}", opt=requires(KEY, "read"), include_in_schema=False)
async def key_page(
    integration_key_id: FromPath[uuid.UUID], keys: KeysDep, done: FromQuery[str | None] = None
) -> Template:
    return await _key_page(keys, await keys.get(integration_key_id), notice=done)


@post("/console/integrations/{integration_key_id:uuid}/rotate", opt=requires(KEY, "update"), include_in_schema=False)
async def rotate_key_page(integration_key_id: FromPath[uuid.UUID], data: MultiForm, keys: KeysDep) -> Template:
    """On success, the new key's page with the key, shown this once."""
    hours = form_value(data, "overlap_hours").strip()
    try:
        key, shown = await keys.rotate(integration_key_id, int(hours) if hours.isdigit() and len(hours) < 5 else hours)
    except ValidationFailed as error:
        return await _key_page(keys, await keys.get(integration_key_id), alert=refusal_of(error), status_code=422)
    return await _key_page(keys, key, shown=shown)


@post("/console/integrations/{integration_key_id:uuid}/revoke", opt=requires(KEY, "update"), include_in_schema=False)
async def revoke_key_page(integration_key_id: FromPath[uuid.UUID], keys: KeysDep) -> Redirect:
    await keys.revoke(integration_key_id)
    return Redirect(f"/console/integrations/{integration_key_id}?done=revoked")


PAGES: list[Any] = [
    Router(
        path="/",
        route_handlers=[keys_page, create_key_page, key_page, rotate_key_page, revoke_key_page],
        dependencies=KEY_DEPENDENCIES,
    )
]
