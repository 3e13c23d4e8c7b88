"""The inbound endpoint's work: a signed request from a paired deployment, checked, then applied once.

In order, each refusal changing nothing:
- the pairing named in `Portal-Pairing` exists here and is active (else 401 `not_paired`);
- `Portal-Signature` signs the body with the peer's secret, with a timestamp within
  `signing.TOLERANCE_SECONDS` of now (else 401 `bad_signature` or `expired_signature`), and the body
  names the same pairing and event id as the headers;
- the event id has not been taken from this peer yet: one taken before with this very signature (its
  timestamp and the `v1` that verified, whatever else the header holds) is a replay (409 `replayed`);
  one taken before with another (the sender's retry after a lost answer) is answered as it was the
  first time, and nothing is applied again.

Then the change is applied in the paired tenant's context, in one transaction with the record of the
request: `records` (what an upstream's rule sends: its records, mapped by the rule) goes through the same
application as within one deployment (sync.crosstenant.apply.apply_records), under a rule of the
partner's own standing for the upstream's rule (made on first sight, with its mapping table and held
conflicts here); `unpaired` marks the pairing unpaired; `batch` carries several changes, each taken as if it came alone
(sync.peers.batches). Each request leaves an audit entry on the pairing
naming the peer, the rule and the event."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit import record_action
from portal.db.context import SYSTEM, tenant_context
from portal.db.types import utcnow
from portal.errors import Conflict, DomainError, FieldError, ValidationFailed
from portal.i18n import N_
from sync.crosstenant.apply import apply_records, link_allows, serialise
from sync.crosstenant.mapping import apply_mapping, check_policies, normalise, passes
from sync.crosstenant.models import SyncRule
from sync.crosstenant.objects import Handover, Pair, handed, sync_objects
from sync.peers import batches, catchup, wire
from sync.peers.models import SyncPeer, SyncPeerInbound
from sync.peers.service import CHANNEL, peer_secret_of
from sync.webhooks import signing

if TYPE_CHECKING:
    from portal.services import Services

MAX_BODY = 4 * 1024 * 1024
MAX_RECORDS = 1000
KINDS = ("records", "handover", "unpaired", batches.KIND, *catchup.KINDS)


class Unsigned(DomainError):
    status, code, title = 401, "bad_signature", N_("The request is not signed by a paired deployment")


class Replayed(Conflict):
    code = "replayed"


class NoRule(DomainError):
    """The partner sent a record no active rule here takes yet: worth retrying (the rule may be activated)."""

    status, code, title = 503, "no_active_rule", N_("No active sync rule here takes this record yet")


def _timestamp(header: str) -> int | None:
    """The header's timestamp as `signing.verify` reads it (the last `t=`)."""
    found = None
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            found = int(value)
    return found


@dataclass(frozen=True, slots=True)
class Checked:
    """A request whose pairing, signature and body were checked: what it came from and what it says."""

    pairing_id: uuid.UUID
    event_id: uuid.UUID
    tenant_id: uuid.UUID
    document: dict[str, Any]
    signature: str  # what identifies the request: its timestamp and the v1 that verified, hashed


async def check(services: Services, headers: dict[str, str], body: bytes, kinds: tuple[str, ...]) -> Checked:
    """The checks every signed request from a peer passes before anything is read or changed: an active
    pairing, a signature by the peer's secret within the window, a body naming the same pairing and
    event, of one of `kinds`. (Whether the event was taken before is the caller's, in its transaction.)"""
    if len(body) > MAX_BODY:
        raise ValidationFailed([FieldError("body", N_("The request is too large"), "too_large")])
    try:
        pairing_id = uuid.UUID(headers.get("portal-pairing", ""))
        event_id = uuid.UUID(headers.get(signing.EVENT_ID_HEADER.lower(), ""))
    except ValueError:
        raise Unsigned(N_("The request does not name a pairing and an event")) from None
    header = headers.get(signing.SIGNATURE_HEADER.lower(), "")
    async with services.db.session(SYSTEM, write=False) as session:
        peer = await session.scalar(select(SyncPeer).where(SyncPeer.id == pairing_id))
        if peer is None or peer.status != "active":
            raise Unsigned(N_("No active pairing with this deployment"), code="not_paired")
        secret = peer_secret_of(services, peer)
        tenant_id = peer.tenant_id
    stamp = _timestamp(header)
    if stamp is not None and abs(time.time() - stamp) > signing.TOLERANCE_SECONDS:
        raise Unsigned(N_("The signature's time is outside the accepted window"), code="expired_signature")
    if not signing.verify(secret, header, body):
        raise Unsigned(N_("The signature does not match"))
    try:
        document = json.loads(body)
    except ValueError:
        raise ValidationFailed([FieldError("body", N_("is not JSON"), "invalid")]) from None
    if (
        not isinstance(document, dict)
        or document.get("pairing") != str(pairing_id)
        or document.get("event") != str(event_id)
        or document.get("kind") not in kinds
    ):
        raise Unsigned(N_("The signed body does not match the request's pairing and event"))
    # What identifies the request is what was verified: its timestamp and the v1 that matched, not the
    # header as written (an extra `v1=…` or spaces would make a replay look new).
    assert stamp is not None  # verify() refuses a header without one
    verified = f"t={stamp},v1={signing.signature(secret, stamp, body)}"
    signature = hashlib.sha256(verified.encode()).hexdigest()
    return Checked(pairing_id, event_id, tenant_id, document, signature)


async def taken_before(
    session: AsyncSession, pairing_id: uuid.UUID, event_id: uuid.UUID, signature: str
) -> SyncPeerInbound | None:
    """The event as taken before from this peer, if it was; the very same request is a replay (409),
    refused."""
    seen = await session.scalar(
        select(SyncPeerInbound).where(SyncPeerInbound.peer_id == pairing_id, SyncPeerInbound.event_id == event_id)
    )
    if seen is not None and seen.signature == signature:
        raise Replayed(N_("This request was received already"))
    return seen


async def active_peer(session: AsyncSession, pairing_id: uuid.UUID) -> SyncPeer:
    """The pairing, locked, still active (it may have been unpaired since the check)."""
    peer = await session.scalar(select(SyncPeer).where(SyncPeer.id == pairing_id).with_for_update())
    if peer is None or peer.status != "active":
        raise Unsigned(N_("No active pairing with this deployment"), code="not_paired")
    return peer


async def receive(services: Services, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """Check and apply one request; its answer (the first time's, for a retry)."""
    c = await check(services, headers, body, KINDS)
    if c.document["kind"] == batches.KIND:
        return await batches.receive(services, c.tenant_id, c.pairing_id, c.event_id, c.signature, c.document, take_in)
    async with services.db.session(tenant_context(c.tenant_id, channel=CHANNEL)) as session:
        return await take_in(session, services, c.pairing_id, c.event_id, c.signature, c.document)


async def take_in(
    session: AsyncSession,
    services: Services,
    pairing_id: uuid.UUID,
    event_id: uuid.UUID,
    signature: str,
    document: dict[str, Any],
) -> dict[str, Any]:
    """One verified event applied once, in the caller's transaction (its own, or a batch's with one
    savepoint per event), with its record: a retry gets the first answer."""
    seen = await taken_before(session, pairing_id, event_id, signature)
    if seen is not None:
        return {**seen.answer, "duplicate": True}
    peer = await active_peer(session, pairing_id)
    kind = str(document["kind"])
    if kind == "records":
        answer = await _records(session, services, peer, event_id, document)
    elif kind == "handover":
        answer = await _handover(session, services, peer, event_id, document)
    elif kind in catchup.KINDS:
        answer = await catchup.take(session, services, peer, event_id, kind, document)
    else:
        peer.status, peer.unpaired_at = "unpaired", utcnow()
        record_action(session, peer, "sync.unpaired", {"by": "peer", "event": event_id})
        answer = {}
    peer.last_contact_at = utcnow()
    session.add(SyncPeerInbound(peer_id=peer.id, event_id=event_id, kind=kind, signature=signature, answer=answer))
    await session.flush()
    return answer


async def _records(
    session: AsyncSession, services: Services, peer: SyncPeer, event_id: uuid.UUID, document: dict[str, Any]
) -> dict[str, Any]:
    if peer.role != "downstream":
        raise ValidationFailed(
            [FieldError("kind", N_("This deployment's side of the pairing takes no records"), "side")]
        )
    rule_doc = document.get("rule")
    obj = sync_objects(services).get(str((rule_doc or {}).get("object", "")))
    if not isinstance(rule_doc, dict) or obj is None or handed(obj):
        raise ValidationFailed([FieldError("rule.object", N_("No such object"), "unknown")])
    try:
        remote_rule = uuid.UUID(str(rule_doc.get("id")))
        occurred_at = datetime.fromisoformat(str(document.get("occurred_at")))
    except ValueError:
        raise ValidationFailed([FieldError("rule.id", N_("is not valid"), "invalid")]) from None
    if occurred_at.tzinfo is None:
        raise ValidationFailed([FieldError("occurred_at", N_("is not valid"), "invalid")])
    fields = rule_doc.get("fields")
    if not isinstance(fields, list) or not fields or any(f not in obj.target_fields for f in fields):
        raise ValidationFailed([FieldError("rule.fields", N_("No such field"), "unknown")])
    policies = check_policies(rule_doc.get("policies") or {}, obj.target_fields)
    records = document.get("records")
    if not isinstance(records, list) or len(records) > MAX_RECORDS:
        raise ValidationFailed([FieldError("records", N_("is not valid"), "invalid")])
    parsed: list[tuple[uuid.UUID, tuple[dict[str, Any], bool] | None]] = []
    for record in records:
        try:
            local_id = uuid.UUID(str(record["id"]))
            values = record.get("values") or {}
            present = bool(record.get("present"))
        except (KeyError, ValueError, TypeError, AttributeError):
            raise ValidationFailed([FieldError("records", N_("is not valid"), "invalid")]) from None
        if not isinstance(values, dict):
            raise ValidationFailed([FieldError("records", N_("is not valid"), "invalid")])
        parsed.append((local_id, ({f: values.get(f) for f in fields}, present)))
    # a reconciliation's repair: per record, the fields found different, counted as changed upstream
    resend: dict[uuid.UUID, list[str]] = {}
    asked = document.get("resend") or {}
    if not isinstance(asked, dict) or not all(isinstance(names, list) for names in asked.values()):
        raise ValidationFailed([FieldError("resend", N_("is not valid"), "invalid")])
    for key, names in asked.items():
        try:
            resend[uuid.UUID(str(key))] = [str(n) for n in names if n in fields]
        except ValueError:
            raise ValidationFailed([FieldError("resend", N_("is not valid"), "invalid")]) from None
    rule = await standing_rule(session, peer, obj.name, remote_rule, str(rule_doc.get("name") or obj.name), fields)
    rule.policies = policies
    done = await apply_records(
        session, obj, rule, parsed, event_id=event_id, occurred_at=occurred_at, resend=resend or None
    )
    outcomes = {
        str(local_id): d.outcome for (local_id, _r), d in zip(sorted(parsed, key=lambda r: r[0]), done, strict=True)
    }
    record_action(
        session,
        peer,
        "sync.inbound",
        {
            "peer": peer.peer_tenant_name,
            "peer_tenant": peer.peer_tenant_id,
            "rule": remote_rule,
            "local_rule": rule.id,
            "event": event_id,
            "outcomes": outcomes,
        },
    )
    return {"outcomes": outcomes}


async def _handover(
    session: AsyncSession, services: Services, peer: SyncPeer, event_id: uuid.UUID, document: dict[str, Any]
) -> dict[str, Any]:
    """A record the app applies here (sync.crosstenant.objects.HandedObject): a purchase order of the
    partner's, here the manufacturer's, placed as a sales order under the active rule of the pairing's link
    (mapped by it here); or the sales order's progress, here the partner's, followed by its purchase order
    (mapped by the manufacturer's rule before it left). What the app did is the answer."""
    obj: Any = sync_objects(services).get(str(document.get("object", "")))
    if obj is None or not handed(obj):
        raise ValidationFailed([FieldError("object", N_("No such object"), "unknown")])
    try:
        source_id = uuid.UUID(str(document.get("source_id")))
    except ValueError:
        raise ValidationFailed([FieldError("source_id", N_("is not valid"), "invalid")]) from None
    values, mapped, translations = document.get("values"), document.get("mapped"), document.get("translations")
    if not isinstance(values, dict) or not isinstance(mapped, dict) or not isinstance(translations, dict):
        raise ValidationFailed([FieldError("values", N_("is not valid"), "invalid")])
    try:
        translated = {uuid.UUID(str(k)): uuid.UUID(str(v)) for k, v in translations.items()}
    except ValueError:
        raise ValidationFailed([FieldError("translations", N_("is not valid"), "invalid")]) from None
    rule: SyncRule | None = None
    if peer.role == "upstream":
        if obj.direction != "up":
            raise ValidationFailed([FieldError("object", N_("No such object"), "unknown")])
        rule = await session.scalar(
            select(SyncRule).where(
                SyncRule.pairing_id == peer.id,
                SyncRule.link_id.is_not(None),
                SyncRule.object == obj.name,
                SyncRule.status == "active",
            )
        )
        if rule is None or rule.link_id is None:
            raise NoRule()
        await serialise(session, rule.id, [source_id])
        # a partnership suspended takes nothing: its re-establishment asks for what waits (sync.peers.catchup)
        if not passes(rule.filter, values) or not await link_allows(session, rule):
            await catchup.progressed(session, peer, document, "skipped")
            return {"handled": {"outcome": "skipped"}}
        mapped = apply_mapping(rule.mapping, values, obj.target_fields)
        pair = Pair(rule.link_id, peer.tenant_id, peer.peer_tenant_id)
    else:
        if obj.direction != "down":
            raise ValidationFailed([FieldError("object", N_("No such object"), "unknown")])
        mapped = {k: normalise(v, obj.target_fields[k]) for k, v in mapped.items() if k in obj.target_fields}
        pair = Pair(peer.id, peer.peer_tenant_id, peer.tenant_id)

    async def translate(_object: str, ids: Any) -> dict[uuid.UUID, uuid.UUID]:
        return {i: translated[i] for i in ids if i in translated}

    try:
        done = await obj.apply(session, services, Handover(pair, source_id, values, mapped, None, translate))
    except (KeyError, ValueError, TypeError, AttributeError):
        raise ValidationFailed([FieldError("values", N_("is not valid"), "invalid")]) from None
    details: dict[str, Any] = {
        "peer": peer.peer_tenant_name,
        "rule": rule.id if rule is not None else document.get("rule"),
        "event": event_id,
        "source": source_id,
        "target": done.target_id,
        "outcome": done.outcome,
    }
    if done.target_row is not None and done.outcome != "unchanged":
        record_action(session, done.target_row, "sync.applied", details)
    if rule is not None and done.outcome != "unchanged":
        record_action(session, rule, "sync.applied", details)
    record_action(session, peer, "sync.inbound", details)
    await catchup.progressed(session, peer, document, done.outcome)
    answer = json.loads(wire.encode(done.answer or {}))
    handled = {"outcome": done.outcome, "target_id": str(done.target_id) if done.target_id else None, "answer": answer}
    return {"handled": handled}


async def standing_rule(
    session: AsyncSession,
    peer: SyncPeer,
    object_name: str,
    remote_rule: uuid.UUID,
    name: str,
    fields: list[str],
) -> SyncRule:
    """The partner's own rule standing for the upstream's: the fields it sends, as they come (the upstream
    mapped and filtered them), written into this workspace's records."""
    rule = await session.scalar(
        select(SyncRule).where(SyncRule.pairing_id == peer.id, SyncRule.remote_rule_id == remote_rule).with_for_update()
    )
    mapping = [{"target": f, "kind": "rename", "source": f} for f in fields]
    if rule is None:
        rule = SyncRule(
            link_id=None,
            peer_tenant_id=peer.tenant_id,
            pairing_id=peer.id,
            remote_rule_id=remote_rule,
            object=object_name,
            direction="down",
            name=name[:100],
            mapping=mapping,
            filter=[],
            policies={},
            status="active",
            activated_at=utcnow(),
        )
        session.add(rule)
        await session.flush()
    elif rule.mapping != mapping or rule.name != name[:100]:
        rule.mapping, rule.name = mapping, name[:100]
    return rule
