"""What goes over the wire between paired deployments: one signed JSON POST, sent the way webhooks are
(sync.webhooks: checked address, no redirects, bounded answer, timeouts, kept-alive clients) and signed
the same way (`Portal-Signature: t=…,v1=HMAC-SHA256(secret, "t.body")`), with the receiver's pairing id
and the event id in headers of their own.

Each side signs with a secret of its own and verifies with the other's: a shared secret per direction,
exchanged once when the deployments pair. HMAC rather than a key pair because it is what the delivery
machinery already signs and verifies with (one code path, one tolerance window), and because each side
keeps the other's secret only to verify: neither can speak for the other to a third party, since the
secrets name one pairing and nothing else."""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sync.webhooks import addresses, sender, signing
from sync.webhooks.addresses import Refused

if TYPE_CHECKING:
    from portal.services import Services
    from sync.webhooks.service import Webhooks

INBOUND_PATH = "/api/sync/inbound"
# what a reconciliation asks the partner's deployment (sync.peers.reconcile): the same signed request,
# whose answer is read whole (a page of digests), not only its excerpt
DIGESTS_PATH = "/api/sync/inbound/digests"
ANSWER_LIMIT = 16 * 1024 * 1024
PAIRING_PATH = "/api/sync/pairing"
PAIRING_HEADER = "Portal-Pairing"
USER_AGENT = "Portal-Sync/1"


@dataclass(frozen=True, slots=True)
class PeerTarget:
    """What sending to a peer needs, read in a unit of work that is over before the request."""

    id: uuid.UUID
    url: str
    peer_pairing_id: uuid.UUID
    secret: str


def encode(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def webhooks_of(services: Services) -> Webhooks:
    return services.extensions["webhooks"]  # type: ignore[no-any-return]


async def post(
    services: Services, url: str, body: bytes, headers: dict[str, str] | None = None, keep: int | None = None
) -> sender.Result:
    """POST `body` to `url` through the webhooks' sender (address checks, pinned address, timeouts); with
    `keep`, the whole answer up to that many bytes."""
    webhooks = webhooks_of(services)
    try:
        destination = addresses.parse(url, webhooks.config)
    except Refused as refused:
        return sender.Result("refused", error=str(refused))
    sent = {"User-Agent": USER_AGENT, **(headers or {})}
    return await sender.send(destination, body, sent, webhooks.config, webhooks.clients, keep=keep)


def signed(
    target: PeerTarget, kind: str, event_id: uuid.UUID, document: dict[str, Any]
) -> tuple[bytes, dict[str, str]]:
    """A request's body and headers, signed with this side's secret. A nonce makes every attempt's
    signature its own: a retry is a new request, while the same request sent twice is a replay the
    receiver refuses."""
    body = encode(
        {
            "kind": kind,
            "event": str(event_id),
            "pairing": str(target.peer_pairing_id),
            "nonce": secrets.token_hex(8),
            **document,
        }
    )
    headers = {
        PAIRING_HEADER: str(target.peer_pairing_id),
        signing.EVENT_ID_HEADER: str(event_id),
        signing.EVENT_TYPE_HEADER: kind,
        signing.SIGNATURE_HEADER: signing.signature_header([target.secret], body),
    }
    return body, headers


async def send_signed(
    services: Services,
    target: PeerTarget,
    kind: str,
    event_id: uuid.UUID,
    document: dict[str, Any],
    keep: int | None = None,
) -> sender.Result:
    """One signed request to the peer's inbound endpoint; with `keep`, its whole answer up to that many
    bytes."""
    body, headers = signed(target, kind, event_id, document)
    return await post(services, target.url.rstrip("/") + INBOUND_PATH, body, headers, keep)


BATCH_ANSWER_BYTES = 2 * 1024 * 1024


async def send_batch(services: Services, target: PeerTarget, items: list[dict[str, Any]]) -> sender.Result:
    """Several changes in one signed request (sync.peers.batches), under an id of its own for this
    attempt: the answer (a result per item) is read whole."""
    return await send_signed(services, target, "batch", uuid.uuid4(), {"items": items}, keep=BATCH_ANSWER_BYTES)


async def ask_signed(
    services: Services, target: PeerTarget, kind: str, event_id: uuid.UUID, document: dict[str, Any]
) -> tuple[sender.Result, dict[str, Any]]:
    """One signed question to the peer's digests endpoint, and its whole JSON answer (empty when none)."""
    body, headers = signed(target, kind, event_id, document)
    result = await post(services, target.url.rstrip("/") + DIGESTS_PATH, body, headers, keep=ANSWER_LIMIT)
    try:
        found = json.loads(result.body or b"{}")
    except ValueError:
        found = {}
    return result, found if isinstance(found, dict) else {}


def answer_of(result: sender.Result) -> dict[str, Any]:
    """The JSON the peer answered (whole when the request kept it, else within the sender's excerpt), or an
    empty document."""
    try:
        found = json.loads(result.body or result.excerpt or "{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}
