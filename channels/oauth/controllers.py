"""The API under /api/channels/oauth-clients: a workspace's admin registers the applications its partners
may sign in to, changes or disables them and rotates a confidential client's secret."""

from __future__ import annotations

import uuid

from litestar import Controller, get, patch, post
from litestar.params import FromPath, JSONBody

from channels.oauth.clients import client_out
from channels.oauth.dependencies import DEPENDENCIES, ClientsDep
from channels.oauth.objects import CLIENT
from channels.oauth.schemas import ClientCreated, ClientIn, ClientOut, ClientPatch, SecretOut
from portal.http.deps import DB
from portal.identity.schemas import sent, typed
from portal.permissions import requires


class OAuthClientsController(Controller):
    """Partners' applications sign partners in through OAuth 2.1 (see docs/channels.md)."""

    path = "/api/channels/oauth-clients"
    tags = ["channels"]
    dependencies = DEPENDENCIES

    @get("/", opt=requires(CLIENT, "read"))
    async def list_clients(self, oauth_clients: ClientsDep) -> list[ClientOut]:
        return typed([client_out(c) for c in await oauth_clients.list()], list[ClientOut])

    @post("/", opt=requires(CLIENT, "create"))
    async def create_client(self, data: JSONBody[ClientIn], db: DB, oauth_clients: ClientsDep) -> ClientCreated:
        """Register an application. A confidential client's secret is in the answer, this once. Send an
        Idempotency-Key header to make retries safe."""
        client, secret = await oauth_clients.create(sent(data))
        return typed({"client": client_out(client), "client_secret": secret}, ClientCreated)

    @get("/{client_id:uuid}", opt=requires(CLIENT, "read"))
    async def get_client(self, client_id: FromPath[uuid.UUID], oauth_clients: ClientsDep) -> ClientOut:
        return typed(client_out(await oauth_clients.get(client_id)), ClientOut)

    @patch("/{client_id:uuid}", opt=requires(CLIENT, "update"))
    async def update_client(
        self, client_id: FromPath[uuid.UUID], data: JSONBody[ClientPatch], oauth_clients: ClientsDep
    ) -> ClientOut:
        """Change the fields sent. Disabling the client, or taking a scope away, ends every token issued to it."""
        return typed(client_out(await oauth_clients.update(client_id, sent(data))), ClientOut)

    @post("/{client_id:uuid}/rotate-secret", opt=requires(CLIENT, "update"), status_code=200)
    async def rotate_secret(self, client_id: FromPath[uuid.UUID], oauth_clients: ClientsDep) -> SecretOut:
        """A confidential client's new secret, shown this once; the old one stops working at once."""
        client, secret = await oauth_clients.rotate(client_id)
        return typed({"client": client_out(client), "client_secret": secret}, SecretOut)


CONTROLLERS = [OAuthClientsController]
