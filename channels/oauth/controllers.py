"""The API of OAuth clients: under /api/channels/oauth-clients a workspace's admin registers the applications
its partners may sign in to, changes or disables them and rotates a confidential client's secret; under
/api/partner/oauth-grants a partner sees the applications they are signed in to and signs out of one."""

from __future__ import annotations

import uuid
from dataclasses import asdict

from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, JSONBody

from channels.oauth.clients import client_out
from channels.oauth.dependencies import DEPENDENCIES, ClientsDep
from channels.oauth.grants import grants_of, sign_out_of
from channels.oauth.objects import CLIENT
from channels.oauth.schemas import ClientCreated, ClientIn, ClientOut, ClientPatch, GrantOut, SecretOut
from portal.http.deps import DB, CurrentActor
from portal.identity.schemas import sent, typed
from portal.permissions import not_delegated, requires, signed_in


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


class PartnerGrantsController(Controller):
    """A partner's own sign-ins to applications in this workspace: theirs to manage, not an application's."""

    path = "/api/partner/oauth-grants"
    tags = ["partner: self"]

    @get("/", opt=not_delegated(signed_in("external")))
    async def list_grants(self, db: DB, actor: CurrentActor) -> list[GrantOut]:
        """The applications this person is signed in to here, newest first."""
        return typed([asdict(g) for g in await grants_of(db, actor)], list[GrantOut])

    @delete("/{grant_id:uuid}", opt=not_delegated(signed_in("external")))
    async def sign_out(self, grant_id: FromPath[uuid.UUID], db: DB, actor: CurrentActor) -> None:
        """Sign out of one application: its tokens stop at once, and it must ask for consent again."""
        await sign_out_of(db, actor, grant_id)


CONTROLLERS = [OAuthClientsController, PartnerGrantsController]
