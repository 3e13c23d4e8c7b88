"""Pairing two deployments, for the console and the API.

1. An admin of the upstream makes a one-time pairing code for an enterprise link whose partner runs its
   workspace on another deployment (`Peers.new_code`): shown once, kept as a hash, valid for
   `CODE_MINUTES`, used once.
2. The partner's admin enters the code and the upstream deployment's URL on its own console
   (`Peers.pair`): its deployment makes a signing secret of its own and calls the upstream's
   `POST /api/sync/pairing` with the code, its URL, its workspace and that secret.
3. The upstream (`accept`, no session: the code is the credential) uses the code up, records the pairing
   on its side (the link, the partner's deployment and workspace, the partner's secret and one of its
   own) and answers with its own secret; the partner's deployment records the pairing on its side.

From then on each side signs what it sends with its own secret and verifies what it receives with the
other's (sync.peers.wire). Unpairing (`Peers.unpair`, either side) stops traffic at once on that side,
and tells the other side, through the workers, to stop too."""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from interconnect.models import EnterpriseLink
from portal.actor import Actor
from portal.audit import record_action
from portal.db.context import SYSTEM, tenant_context
from portal.db.tenancy import within
from portal.db.types import utcnow
from portal.errors import Conflict, FieldError, NotFound, ValidationFailed
from portal.i18n import N_
from portal.identity.models import Tenant
from portal.ids import uuid7
from portal.outbox import publish
from sync.crosstenant.models import SyncBackfill, SyncRule
from sync.crosstenant.subscriber import BACKFILL_REQUESTED
from sync.peers import wire
from sync.peers.models import SyncPeer, SyncPeerCode
from sync.webhooks import addresses
from sync.webhooks.addresses import Refused
from sync.webhooks.secrets import SecretBox

if TYPE_CHECKING:
    from portal.services import Services

CODE_MINUTES = 10
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 16
UNPAIRED = "sync.peer.unpaired"
CHANNEL = "sync"
MAX_URL = 500


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def code_hash(code: str) -> str:
    cleaned = re.sub(r"[\s-]", "", code).upper()
    return hashlib.sha256(cleaned.encode()).hexdigest()


def new_secret() -> str:
    return "pssec_" + secrets.token_urlsafe(32)


def box_of(services: Services) -> SecretBox:
    return wire.webhooks_of(services).box


def target_of(services: Services, peer: SyncPeer) -> wire.PeerTarget:
    return wire.PeerTarget(
        peer.id, peer.peer_url, peer.peer_pairing_id, box_of(services).open(peer.id, peer.own_secret)
    )


def peer_secret_of(services: Services, peer: SyncPeer) -> str:
    return box_of(services).open(peer.id, peer.peer_secret)


def _text(values: dict[str, Any], name: str, limit: int) -> str:
    value = values.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed([FieldError(name, N_("is required"), "required")])
    if len(value.strip()) > limit:
        raise ValidationFailed([FieldError(name, N_("At most %(n)s characters"), "too_long", {"n": limit})])
    return value.strip()


class Peers:
    """In the request's unit of work (the actor's tenant)."""

    def __init__(self, session: AsyncSession, actor: Actor, services: Services) -> None:
        self.session = session
        self.actor = actor
        self.services = services

    async def list(self) -> list[SyncPeer]:
        return list(await self.session.scalars(select(SyncPeer).order_by(SyncPeer.created_at.desc())))

    async def get(self, peer_id: uuid.UUID, lock: bool = False) -> SyncPeer:
        query = select(SyncPeer).where(SyncPeer.id == peer_id)
        found = await self.session.scalar(query.with_for_update() if lock else query)
        if found is None:
            raise NotFound(N_("No such paired deployment"))
        return found

    async def remote_links(self) -> list[EnterpriseLink]:
        """Active partner links whose partner does not run its workspace on this deployment."""
        return list(
            await self.session.scalars(
                select(EnterpriseLink)
                .where(EnterpriseLink.downstream_tenant_id.is_(None), EnterpriseLink.status == "active")
                .order_by(EnterpriseLink.name)
            )
        )

    async def new_code(self, values: dict[str, Any]) -> tuple[SyncPeerCode, str]:
        """A one-time pairing code for the link (shown this once)."""
        link_id = values.get("link_id")
        link = None
        if isinstance(link_id, uuid.UUID):
            link = await self.session.scalar(select(EnterpriseLink).where(EnterpriseLink.id == link_id))
        if link is None:
            raise ValidationFailed([FieldError("link_id", N_("No such enterprise"), "unknown")])
        if link.status != "active":
            raise ValidationFailed([FieldError("link_id", N_("This partner is not active"), "not_active")])
        if link.downstream_tenant_id is not None:
            raise ValidationFailed(
                [FieldError("link_id", N_("This partner runs its workspace on this deployment"), "local")]
            )
        if await active_pairing(self.session, link.id) is not None:
            raise Conflict(N_("This partner is paired already: unpair it first"), code="paired")
        code = new_code()
        row = SyncPeerCode(
            link_id=link.id,
            code_hash=code_hash(code),
            expires_at=utcnow() + timedelta(minutes=CODE_MINUTES),
            created_by=self.actor.user_id,
        )
        self.session.add(row)
        await self.session.flush()
        return row, code

    async def pair(self, values: dict[str, Any]) -> SyncPeer:
        """The partner's side: the upstream deployment's URL and the code its admin gave."""
        url = _text(values, "upstream_url", MAX_URL).rstrip("/")
        code = _text(values, "code", 40)
        config = wire.webhooks_of(self.services).config
        try:
            addresses.parse(url, config)
        except Refused as refused:
            raise ValidationFailed(
                [FieldError("upstream_url", refused.message, "refused", dict(refused.params))]
            ) from None
        tenant = await self.session.scalar(select(Tenant).where(Tenant.id == self.actor.tenant_id))
        assert tenant is not None
        peer_id = uuid7()
        own = new_secret()
        body = wire.encode(
            {
                "code": code,
                "url": self.services.settings.base_url,
                "tenant_id": str(tenant.id),
                "tenant_name": tenant.name,
                "pairing_id": str(peer_id),
                "secret": own,
            }
        )
        result = await wire.post(self.services, url + wire.PAIRING_PATH, body, {"Content-Type": "application/json"})
        answer = wire.answer_of(result)
        if result.outcome != "succeeded":
            if result.status in (404, 409, 410, 422) and answer.get("code") in ("invalid_code", "used_code"):
                raise ValidationFailed(
                    [FieldError("code", N_("This pairing code is not valid, was used or has expired"), "invalid")]
                )
            raise ValidationFailed(
                [
                    FieldError(
                        "upstream_url",
                        N_("The deployment at this address did not take the pairing: %(reason)s"),
                        "unreachable",
                        {"reason": (result.error or f"HTTP {result.status}")[:300]},
                    )
                ]
            )
        try:
            their_pairing = uuid.UUID(str(answer["pairing_id"]))
            their_tenant = uuid.UUID(str(answer["tenant_id"]))
            their_name = str(answer["tenant_name"])[:200]
            their_secret = str(answer["secret"])
        except (KeyError, ValueError):
            raise ValidationFailed(
                [FieldError("upstream_url", N_("The deployment at this address did not answer as one of ours"), "bad")]
            ) from None
        box = box_of(self.services)
        peer = SyncPeer(
            id=peer_id,
            role="downstream",
            link_id=None,
            peer_url=url,
            peer_tenant_id=their_tenant,
            peer_tenant_name=their_name,
            peer_pairing_id=their_pairing,
            own_secret=box.seal(peer_id, own),
            peer_secret=box.seal(peer_id, their_secret),
            last_contact_at=utcnow(),
        )
        self.session.add(peer)
        await self.session.flush()
        record_action(self.session, peer, "sync.paired", {"peer_url": url, "peer_tenant": their_tenant})
        await carry_rules_over(self.session, peer)
        return peer

    async def unpair(self, peer_id: uuid.UUID) -> SyncPeer:
        """Nothing is sent or taken on this side from now on; the other side is told through the workers."""
        peer = await self.get(peer_id, lock=True)
        if peer.status != "active":
            raise Conflict(N_("This deployment is unpaired already"), code="unpaired")
        peer.status, peer.unpaired_at = "unpaired", utcnow()
        await self.session.flush()
        record_action(self.session, peer, "sync.unpaired", {"by": "here"})
        publish(self.session, UNPAIRED, "sync.peer", peer.id, {"peer": str(peer.id)})
        return peer


async def active_pairing(session: AsyncSession, link_id: uuid.UUID | None) -> SyncPeer | None:
    if link_id is None:
        return None
    return await session.scalar(
        select(SyncPeer).where(SyncPeer.link_id == link_id, SyncPeer.status == "active", SyncPeer.role == "upstream")
    )


async def carry_rules_over(session: AsyncSession, peer: SyncPeer) -> list[SyncRule]:
    """The same partner paired again (its workspace, the same link on the manufacturer's side): the rules of
    its earlier pairings travel through this one from now on, each with an audit entry (`sync.carried`)
    on both sides. On the manufacturer's side they are its rules for the link, and each active one catches
    up by a backfill (what changed while unpaired was not sent); on the partner's, the rules standing for
    the manufacturer's, so its mapping table goes on (the copies made before are updated, not met as
    clashes). The rules carried over."""
    earlier = select(SyncPeer.id).where(
        SyncPeer.id != peer.id,
        SyncPeer.status == "unpaired",
        SyncPeer.role == peer.role,
        SyncPeer.peer_tenant_id == peer.peer_tenant_id,
    )
    if peer.role == "upstream":
        earlier = earlier.where(SyncPeer.link_id == peer.link_id)
    old = list(await session.scalars(earlier))
    if not old:
        return []
    query = select(SyncRule).where(SyncRule.pairing_id.in_(old))
    if peer.role == "upstream":
        query = query.where(SyncRule.link_id == peer.link_id)
    rules = list(await session.scalars(query.order_by(SyncRule.id).with_for_update()))
    for rule in rules:
        details = {"from": rule.pairing_id, "to": peer.id, "peer": peer.peer_tenant_name, "peer_url": peer.peer_url}
        rule.pairing_id = peer.id
        record_action(session, rule, "sync.carried", details)
        if peer.role == "upstream" and rule.status == "active" and rule.peer_paused_at is None:
            backfill = SyncBackfill(rule_id=rule.id)
            session.add(backfill)
            await session.flush()
            publish(session, BACKFILL_REQUESTED, "sync.rule", rule.id, {"backfill": str(backfill.id)})
    if rules:
        record_action(session, peer, "sync.carried", {"rules": [r.id for r in rules]})
    await session.flush()
    return rules


class PairingRefused(Exception):
    """The code is unknown, used or expired (`code`: invalid_code) or the request is malformed."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


async def accept(services: Services, document: dict[str, Any]) -> dict[str, Any]:
    """The upstream's side of step 3, with no session: the code is looked up by its hash in the system
    context and used up by a conditional update (of two requests with one code, one pairs)."""
    try:
        code = str(document["code"])
        url = str(document["url"]).rstrip("/")
        their_tenant = uuid.UUID(str(document["tenant_id"]))
        their_name = str(document["tenant_name"]).strip()[:200]
        their_pairing = uuid.UUID(str(document["pairing_id"]))
        their_secret = str(document["secret"])
    except (KeyError, ValueError, TypeError):
        raise PairingRefused("bad_request", "The pairing request lacks a field or has one malformed") from None
    if not their_secret or len(their_secret) > 100 or len(url) > MAX_URL or not their_name or len(code) > 40:
        raise PairingRefused("bad_request", "The pairing request has a field out of bounds")
    try:
        addresses.parse(url, wire.webhooks_of(services).config)
    except Refused as refused:
        raise PairingRefused("bad_request", f"The partner's address is refused: {refused}") from None
    now = utcnow()
    async with services.db.session(SYSTEM) as session:
        found = await session.scalar(select(SyncPeerCode).where(SyncPeerCode.code_hash == code_hash(code)))
        if found is None or found.used_at is not None or found.expires_at <= now:
            raise PairingRefused("invalid_code", "This pairing code is not valid, was used or has expired")
        used = await session.execute(
            update(SyncPeerCode)
            .where(SyncPeerCode.id == found.id, SyncPeerCode.used_at.is_(None))
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        if used.rowcount != 1:  # type: ignore[attr-defined]
            raise PairingRefused("used_code", "This pairing code was used already")
        tenant_id, link_id = found.tenant_id, found.link_id
        async with within(session, tenant_context(tenant_id, channel=CHANNEL)):
            link = await session.scalar(select(EnterpriseLink).where(EnterpriseLink.id == link_id))
            if link is None or link.status != "active" or await active_pairing(session, link_id) is not None:
                raise PairingRefused("invalid_code", "This pairing code is not valid, was used or has expired")
            tenant = await session.scalar(select(Tenant).where(Tenant.id == tenant_id))
            assert tenant is not None
            box = box_of(services)
            peer_id = uuid7()
            own = new_secret()
            peer = SyncPeer(
                id=peer_id,
                role="upstream",
                link_id=link_id,
                peer_url=url,
                peer_tenant_id=their_tenant,
                peer_tenant_name=their_name,
                peer_pairing_id=their_pairing,
                own_secret=box.seal(peer_id, own),
                peer_secret=box.seal(peer_id, their_secret),
                last_contact_at=now,
            )
            session.add(peer)
            await session.flush()
            record_action(session, peer, "sync.paired", {"peer_url": url, "peer_tenant": their_tenant, "link": link_id})
            await carry_rules_over(session, peer)
            answer = {
                "pairing_id": str(peer_id),
                "tenant_id": str(tenant.id),
                "tenant_name": tenant.name,
                "secret": own,
            }
    return answer


def peer_out(peer: SyncPeer, link_name: str | None = None) -> dict[str, Any]:
    return {
        "id": peer.id,
        "role": peer.role,
        "link_id": peer.link_id,
        "link_name": link_name,
        "peer_url": peer.peer_url,
        "peer_tenant_id": peer.peer_tenant_id,
        "peer_tenant_name": peer.peer_tenant_name,
        "status": peer.status,
        "last_contact_at": peer.last_contact_at,
        "last_error": peer.last_error,
        "failures": peer.failures,
        "created_at": peer.created_at,
        "unpaired_at": peer.unpaired_at,
    }


async def paired_suppliers(session: AsyncSession, tenant_id: uuid.UUID) -> list[tuple[uuid.UUID, str]]:
    """The manufacturers this workspace is paired with on other deployments, as purchasing's suppliers
    (listed in the component's `extra["purchase_suppliers"]`): their workspace's id there and its name."""
    rows = await session.execute(
        select(SyncPeer.peer_tenant_id, SyncPeer.peer_tenant_name)
        .where(SyncPeer.role == "downstream", SyncPeer.status == "active")
        .order_by(SyncPeer.peer_tenant_name)
    )
    return [(peer_tenant_id, name) for peer_tenant_id, name in rows]
