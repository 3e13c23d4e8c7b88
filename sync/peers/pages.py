"""The console's page of paired deployments (/console/sync/peers): this workspace's pairings with their
state, last contact and last error, unpairing; for an upstream, a one-time pairing code for a partner whose
workspace runs on another deployment; for a partner, pairing with its manufacturer's deployment. They call
the service the API calls (sync.peers.service), so both refuse and show the same things."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Router, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from portal.errors import Conflict, ValidationFailed
from portal.i18n import N_, gettext
from portal.permissions import requires
from portal.ui.forms import Form, uuid_or_none
from portal.ui.refusals import field_errors, refusal_of
from sync.crosstenant.objects import RULE
from sync.peers.controllers import DEPENDENCIES, PeersDep, peers_out
from sync.peers.service import CODE_MINUTES

STATUS_LABELS = {"active": N_("Paired"), "unpaired": N_("Unpaired")}
ROLE_LABELS = {"upstream": N_("Your partner runs there"), "downstream": N_("Your manufacturer runs there")}
NOTICES = {
    "paired": N_("This workspace is paired with the manufacturer's deployment."),
    "unpaired": N_("Unpaired: nothing is sent or taken any more."),
}


async def _page(
    peers: PeersDep,
    *,
    notice: str | None = None,
    alert: str | None = None,
    code: dict[str, Any] | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    links = [(str(link.id), link.name) for link in await peers.remote_links()]
    return Template(
        "sync/peers.html",
        context={
            "peers": await peers_out(peers),
            "links": links,
            "status_labels": STATUS_LABELS,
            "role_labels": ROLE_LABELS,
            "notice": gettext(NOTICES[notice]) if notice in NOTICES else None,
            "alert": alert,
            "code": code,
            "code_minutes": CODE_MINUTES,
            "form": form or {},
            "errors": errors or {},
        },
        status_code=status_code,
    )


@get("/console/sync/peers", opt=requires(RULE, "read"), include_in_schema=False)
async def peers_page(peers: PeersDep, done: FromQuery[str | None] = None) -> Template:
    return await _page(peers, notice=done)


@post("/console/sync/peers/codes", opt=requires(RULE, "create"), include_in_schema=False)
async def code_page(data: Form, peers: PeersDep) -> Template:
    """The code is shown on the answer to this form, once."""
    form = {"link_id": data.get("link_id", "").strip()}
    try:
        row, code = await peers.new_code({"link_id": uuid_or_none(form["link_id"])})
    except ValidationFailed as error:
        return await _page(peers, form=form, errors=field_errors(error), status_code=422)
    except Conflict as error:
        return await _page(peers, form=form, alert=refusal_of(error), status_code=409)
    return await _page(peers, code={"code": code, "expires_at": row.expires_at})


@post("/console/sync/peers", opt=requires(RULE, "create"), include_in_schema=False)
async def pair_page(data: Form, peers: PeersDep) -> Template | Redirect:
    form = {k: data.get(k, "").strip() for k in ("upstream_url", "code")}
    try:
        await peers.pair(form)
    except ValidationFailed as error:
        return await _page(peers, form=form, errors=field_errors(error), status_code=422)
    return Redirect("/console/sync/peers?done=paired")


@post("/console/sync/peers/{sync_peer_id:uuid}/unpair", opt=requires(RULE, "delete"), include_in_schema=False)
async def unpair_page(sync_peer_id: FromPath[uuid.UUID], peers: PeersDep) -> Template | Redirect:
    try:
        await peers.unpair(sync_peer_id)
    except Conflict as error:
        return await _page(peers, alert=refusal_of(error), status_code=409)
    return Redirect("/console/sync/peers?done=unpaired")


PAGES: list[Any] = [
    Router(path="/", route_handlers=[peers_page, code_page, pair_page, unpair_page], dependencies=DEPENDENCIES)
]
