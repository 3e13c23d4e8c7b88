"""The console's pages for OAuth clients (/console/channels/oauth-clients/...): the list with a form for a new
one, and a client's page (what its developer needs, edit, disable, rotate the secret). They call the services
the API calls; a new or rotated secret is shown on the page that answers the form, once."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Router, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from channels.oauth.clients import Clients, client_out
from channels.oauth.dependencies import DEPENDENCIES, ClientsDep
from channels.oauth.models import CLIENT_CHANNELS, OAuthClient
from channels.oauth.objects import CLIENT
from channels.oauth.scopes import SCOPE_KEYS, scope_label
from channels.oauth.service import OAuth
from portal.errors import ValidationFailed
from portal.http.deps import CurrentActor, ServicesDep
from portal.i18n import N_, gettext
from portal.permissions import requires
from portal.ui.forms import MultiForm, form_value, form_values
from portal.ui.labels import label
from portal.ui.refusals import field_errors

BASE = "/console/channels/oauth-clients"
KIND_LABELS = {
    "public": N_("Public: an app on phones (no secret; PKCE proves it)"),
    "confidential": N_("Confidential: a server that keeps a secret"),
}
NOTICES = {"updated": N_("The application was saved.")}


def _shared() -> dict[str, Any]:
    return {
        "kind_labels": KIND_LABELS,
        # the channels' names are the audit log's (portal.ui.labels)
        "channel_choices": [(key, gettext(label("channel", key))) for key in CLIENT_CHANNELS],
        "scope_choices": [(key, scope_label(key)) for key in SCOPE_KEYS],
    }


def _form_of(data: MultiForm, *, creating: bool) -> dict[str, Any]:
    form: dict[str, Any] = {
        "name": form_value(data, "name").strip(),
        "channel": form_value(data, "channel") or None,
        "redirect_uris": form_values(data, "redirect_uris"),
        "scopes": form_values(data, "scopes"),
    }
    if creating:
        form["kind"] = form_value(data, "kind")
    else:
        form["status"] = "active" if form_value(data, "active") else "disabled"
    return form


async def _list_page(
    clients: Clients,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    return Template(
        "channels/console/clients.html",
        context={
            **_shared(),
            "clients": [client_out(c) for c in await clients.list()],
            "form": form or {"kind": "public", "redirect_uris": [], "scopes": list(SCOPE_KEYS)},
            "errors": errors or {},
        },
        status_code=status_code,
    )


async def _client_page(
    clients: Clients,
    client: OAuthClient,
    oauth: OAuth,
    slug: str,
    *,
    secret: str | None = None,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Template:
    shown = client_out(client)
    return Template(
        "channels/console/client.html",
        context={
            **_shared(),
            "client": shown,
            "secret": secret,
            "form": form or shown,
            "errors": errors or {},
            "notice": NOTICES.get(notice or ""),
            "live_families": await clients.live_families(client.id),
            "endpoints": oauth.metadata(slug),
            "discovery": f"{oauth.base_url}/.well-known/oauth-authorization-server/p/{slug}",
        },
        status_code=status_code,
    )


@get(BASE, opt=requires(CLIENT, "read"), include_in_schema=False)
async def clients_page(oauth_clients: ClientsDep) -> Template:
    return await _list_page(oauth_clients)


@post(BASE, opt=requires(CLIENT, "create"), include_in_schema=False)
async def create_client_page(
    data: MultiForm, oauth_clients: ClientsDep, actor: CurrentActor, services: ServicesDep
) -> Template:
    """On success, the new client's page, with its secret (a confidential client's) shown this once."""
    form = _form_of(data, creating=True)
    try:
        client, secret = await oauth_clients.create(form)
    except ValidationFailed as error:
        return await _list_page(oauth_clients, form=form, errors=field_errors(error), status_code=422)
    oauth: OAuth = services.extensions["oauth"]
    return await _client_page(oauth_clients, client, oauth, actor.tenant_slug, secret=secret, status_code=201)


@get(BASE + "/{client_id:uuid}", opt=requires(CLIENT, "read"), include_in_schema=False)
async def client_page(
    client_id: FromPath[uuid.UUID],
    oauth_clients: ClientsDep,
    actor: CurrentActor,
    services: ServicesDep,
    done: FromQuery[str | None] = None,
) -> Template:
    client = await oauth_clients.get(client_id)
    return await _client_page(oauth_clients, client, services.extensions["oauth"], actor.tenant_slug, notice=done)


@post(BASE + "/{client_id:uuid}", opt=requires(CLIENT, "update"), include_in_schema=False)
async def update_client_page(
    client_id: FromPath[uuid.UUID],
    data: MultiForm,
    oauth_clients: ClientsDep,
    actor: CurrentActor,
    services: ServicesDep,
) -> Template | Redirect:
    client = await oauth_clients.get(client_id)
    form = _form_of(data, creating=False)
    try:
        await oauth_clients.update(client_id, form)
    except ValidationFailed as error:
        return await _client_page(
            oauth_clients,
            client,
            services.extensions["oauth"],
            actor.tenant_slug,
            form={**client_out(client), **form},
            errors=field_errors(error),
            status_code=422,
        )
    return Redirect(f"{BASE}/{client_id}?done=updated")


@post(BASE + "/{client_id:uuid}/rotate", opt=requires(CLIENT, "update"), include_in_schema=False)
async def rotate_secret_page(
    client_id: FromPath[uuid.UUID], oauth_clients: ClientsDep, actor: CurrentActor, services: ServicesDep
) -> Template:
    client, secret = await oauth_clients.rotate(client_id)
    return await _client_page(oauth_clients, client, services.extensions["oauth"], actor.tenant_slug, secret=secret)


PAGES: list[Any] = [
    Router(
        path="/",
        route_handlers=[clients_page, create_client_page, client_page, update_client_page, rotate_secret_page],
        dependencies=DEPENDENCIES,
    )
]
