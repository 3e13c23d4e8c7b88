"""The pairing API under /api/sync: pairing codes, paired deployments and unpairing (staff with the sync
rules permission), and the routes another deployment calls: `POST /api/sync/pairing` (the one-time
code is its credential), `POST /api/sync/inbound` (signed requests; sync.peers.inbound) and
`POST /api/sync/inbound/digests` (signed questions of a reconciliation; sync.peers.reconcile)."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody

from portal.errors import DomainError
from portal.http.deps import DB, CurrentActor, ServicesDep
from portal.http.idempotent import shown_once
from portal.i18n import N_
from portal.identity.schemas import sent, typed
from portal.permissions import public, requires
from portal.services import Services
from sync.crosstenant.objects import RULE
from sync.peers import inbound, reconcile
from sync.peers.schemas import CodeIn, CodeOut, DigestsOut, InboundOut, PairIn, PairingIn, PairingOut, PeerOut
from sync.peers.service import PairingRefused, Peers, accept, peer_out


def provide_peers(db: DB, actor: CurrentActor, services: ServicesDep) -> Peers:
    return Peers(db, actor, services)


DEPENDENCIES = {"peers": Provide(provide_peers, sync_to_thread=False)}
PeersDep = NamedDependency[Peers]


class CodeRefused(DomainError):
    status, code, title = 422, "invalid_code", N_("This pairing code is not valid, was used or has expired")


async def peers_out(peers: Peers) -> list[dict[str, Any]]:
    names = {link.id: link.name for link in await peers.remote_links()}
    return [peer_out(p, names.get(p.link_id) if p.link_id else None) for p in await peers.list()]


class PeersController(Controller):
    """Pairing with a partner whose workspace runs on another deployment (docs/sync.md)."""

    path = "/api/sync"
    tags = ["sync"]
    dependencies = DEPENDENCIES

    @post("/peer-codes", opt={**requires(RULE, "create", problems=(409,)), **shown_once("code")})
    async def new_code(self, data: JSONBody[CodeIn], db: DB, peers: PeersDep) -> CodeOut:
        """A one-time pairing code for a partner link whose partner runs its workspace elsewhere: shown this
        once, valid for 10 minutes, used once. The partner's admin enters it, with this deployment's URL,
        on its own console."""
        row, code = await peers.new_code(sent(data))
        return typed({"link_id": row.link_id, "expires_at": row.expires_at, "code": code}, CodeOut)

    @post("/peers", opt=requires(RULE, "create", problems=(409,)))
    async def pair(self, data: JSONBody[PairIn], db: DB, peers: PeersDep) -> PeerOut:
        """The partner's side: pair this workspace with its upstream on the deployment at `upstream_url`,
        with the code the upstream's admin gave. Send an Idempotency-Key header to make retries safe."""
        return typed(peer_out(await peers.pair(sent(data))), PeerOut)

    @get("/peers", opt=requires(RULE, "read"))
    async def list_peers(self, peers: PeersDep) -> list[PeerOut]:
        """This workspace's pairings, with their state, last contact and last error."""
        return typed(await peers_out(peers), list[PeerOut])

    @get("/peers/{peer_id:uuid}", opt=requires(RULE, "read"))
    async def get_peer(self, peer_id: FromPath[uuid.UUID], peers: PeersDep) -> PeerOut:
        found = [p for p in await peers_out(peers) if p["id"] == peer_id]
        if not found:
            await peers.get(peer_id)
        return typed(found[0], PeerOut)

    @post("/peers/{peer_id:uuid}/unpair", opt=requires(RULE, "delete", problems=(409,)), status_code=200)
    async def unpair(self, peer_id: FromPath[uuid.UUID], db: DB, peers: PeersDep) -> PeerOut:
        """Stop sending and taking changes at once; the other deployment is told to stop too."""
        return typed(peer_out(await peers.unpair(peer_id)), PeerOut)


class PeerInboundController(Controller):
    """What another deployment calls: no session, the code or the signature is the credential."""

    path = "/api/sync"
    tags = ["sync"]

    @post("/pairing", opt=public(422), status_code=200)
    async def pairing(self, data: JSONBody[PairingIn], services: ServicesDep) -> PairingOut:
        """Called by the partner's deployment with the one-time code its admin entered: records the pairing
        here and answers with this side's signing secret."""
        try:
            answer = await accept(services, {k: str(v) for k, v in sent(data).items()})
        except PairingRefused as refused:
            if refused.code == "bad_request":
                raise DomainError(N_("The pairing request is not valid"), code="bad_request") from None
            raise CodeRefused(code=refused.code) from None
        return typed(answer, PairingOut)

    @post("/inbound", opt=public(401, 409, 422), status_code=200)
    async def receive(self, request: Request[Any, Any, Any], services: ServicesDep) -> InboundOut:
        """A signed change from a paired deployment (`Portal-Pairing`, `Portal-Event-Id`,
        `Portal-Signature`): applied once per event id. 401 for an unknown pairing or a wrong or expired
        signature, 409 for a request received already (a replay); nothing changes either way."""
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        service: Services = services
        return typed(await inbound.receive(service, headers, body), InboundOut)

    @post("/inbound/digests", opt=public(401, 404, 409, 422), status_code=200)
    async def digests(self, request: Request[Any, Any, Any], services: ServicesDep) -> DigestsOut:
        """A paired manufacturer's reconciliation asks what this side holds under the rule standing for
        its rule (signed like `/api/sync/inbound`, refused the same way): a page of digests of the mapped
        records in its id order (`kind: digests`, `after`, `upto`, `limit` ≤ 1000), or the values of the
        records named (`kind: values`, `ids`, ≤ 200). 404 for a rule this pairing has no standing rule for.
        Nothing changes here."""
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        service: Services = services
        return typed(await reconcile.answer(service, headers, body), DigestsOut)


CONTROLLERS = [PeersController, PeerInboundController]
