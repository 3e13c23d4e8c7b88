"""Reconciliation across deployments: a manufacturer's rule that sends to a paired deployment, compared
with what the partner's deployment holds under the rule standing for it there.

The run is the same `SyncReconciliation` as within one deployment (sync.crosstenant.reconcile), asked for
the same way (the rule page, the API, the daily job); the "peers" subscriber carries it out on the
pairing's line (`peers:<pairing id>`), so one pairing's runs and changes take turns and another peer being
down holds nothing back. Batch after batch:

1. the manufacturer's records in id order (keyset, 1,000), each mapped by the rule, then its digest
   compared with the one the partner's deployment gives for the same record: the partner is asked, by a
   signed request (`kind: digests`, sync.peers.wire, the same signature, window, replay and pairing
   checks as `/api/sync/inbound`), for the digests of the standing rule's mapped records over the same
   id range, a page of at most 1,000 at a time with a cursor; the records whose digests differ are asked
   for again with their values (`kind: values`, 200 at a time), so each differing field is reported with
   both values, and a field the partner keeps by the rule's policy (`downstream` and changed there since
   the last write, or held for a person) is not drift;
2. the partner's mapped records beyond the manufacturer's last record (their upstream records are gone),
   a page at a time: each is **extra**.

Nothing of the partner's is kept but the drift found. A page the partner's deployment does not answer is
asked again a few times; then the run fails with the reason (`error_code` and `error`, shown on the
page), and the line moves on. Repair publishes the same `sync.repair.requested` events; for a paired rule
the "peers" subscriber re-sends the records named, as they are now, on the pairing's line with the fields
found different (`resend`), and the partner's deployment applies them as any change, by the rule's
policy (upstream and newer write the manufacturer's value, downstream keeps the partner's, hold queues a
conflict there).

The partner's side answers (`answer`) in its own workspace's context, from the standing rule's mapping
table and records only, found by the pairing and the manufacturer's rule id: another pairing's rule, an
unknown one and one of another object all answer the same 404, so nothing about other pairings or
tenants can be learnt."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from interconnect.models import EnterpriseLink
from portal.db.context import tenant_context
from portal.db.types import utcnow
from portal.errors import DomainError, FieldError, ValidationFailed
from portal.i18n import N_
from portal.ids import uuid7
from portal.outbox import publish
from sync.crosstenant.mapping import apply_mapping, normalise, passes
from sync.crosstenant.models import SyncDrift, SyncMapping, SyncReconciliation, SyncRule
from sync.crosstenant.objects import SyncObject, sync_objects
from sync.crosstenant.reconcile import (
    BATCH,
    RECONCILE_REQUESTED,
    SLICE_SECONDS,
    count_drift,
    digest,
    drift_row,
    held_fields,
    peer_values,
    reconcilable,
)
from sync.peers import inbound, wire
from sync.peers.models import SyncPeer, SyncPeerInbound
from sync.peers.service import CHANNEL

if TYPE_CHECKING:
    from portal.services import Services

READ_KINDS = ("digests", "values")
PAGE = 1000  # digests a page (about 150 bytes each)
VALUES_PAGE = 200  # records with their values a page
ATTEMPTS = 5  # a question asked this many times before the run fails
RETRY_SECONDS = 0.5


class NoSuchRule(DomainError):
    """The pairing has no rule standing for the manufacturer's rule named (nothing was sent under it yet,
    or it names another pairing's): answered the same either way."""

    status, code, title = 404, "no_such_rule", N_("No rule of this pairing stands for that rule here")


class PeerFailed(Exception):
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


# --- the partner's side: what the manufacturer's deployment asks ---


async def answer(services: Services, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """Check a signed question from the manufacturer's deployment and answer it from the standing rule's
    records. A retry (the same event signed anew) is answered afresh: reading changes nothing."""
    checked = await inbound.check(services, headers, body, READ_KINDS)
    document = checked.document
    async with services.db.session(tenant_context(checked.tenant_id, channel=CHANNEL)) as session:
        seen = await inbound.taken_before(session, checked.pairing_id, checked.event_id, checked.signature)
        peer = await inbound.active_peer(session, checked.pairing_id)
        if peer.role != "downstream":
            raise ValidationFailed(
                [FieldError("kind", N_("This deployment's side of the pairing holds no copies to compare"), "side")]
            )
        rule, obj, fields = await _standing(session, services, peer, document)
        if document["kind"] == "digests":
            found = await _digests(session, obj, rule, fields, document)
        else:
            found = await _values(session, obj, rule, fields, document)
        peer.last_contact_at = utcnow()
        if seen is None:
            session.add(
                SyncPeerInbound(
                    peer_id=peer.id,
                    event_id=checked.event_id,
                    kind=str(document["kind"]),
                    signature=checked.signature,
                    answer={},
                )
            )
    return found


def _uuid_or_none(document: dict[str, Any], name: str) -> uuid.UUID | None:
    value = document.get(name)
    if value is None:
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ValidationFailed([FieldError(name, N_("is not valid"), "invalid")]) from None


async def _standing(
    session: AsyncSession, services: Services, peer: SyncPeer, document: dict[str, Any]
) -> tuple[SyncRule, SyncObject, list[str]]:
    remote_rule = _uuid_or_none(document, "rule")
    fields = document.get("fields")
    rule = None
    if remote_rule is not None:
        rule = await session.scalar(
            select(SyncRule).where(SyncRule.pairing_id == peer.id, SyncRule.remote_rule_id == remote_rule)
        )
    obj = sync_objects(services).get(rule.object) if rule is not None else None
    if rule is None or obj is None or rule.object != document.get("object") or not reconcilable(obj):
        raise NoSuchRule()
    if (
        not isinstance(fields, list)
        or not fields
        or len(fields) > len(obj.target_fields)
        or any(f not in obj.target_fields for f in fields)
    ):
        raise ValidationFailed([FieldError("fields", N_("No such field"), "unknown")])
    return rule, obj, [str(f) for f in fields]


def _live(rule: SyncRule) -> Any:
    return select(SyncMapping.id, SyncMapping.local_id, SyncMapping.peer_id, SyncMapping.written).where(
        SyncMapping.rule_id == rule.id, SyncMapping.withdrawn.is_(False)
    )


async def _digests(
    session: AsyncSession, obj: SyncObject, rule: SyncRule, fields: list[str], document: dict[str, Any]
) -> dict[str, Any]:
    """The standing rule's live mapped records after `after` (up to `upto`, when given), a page of at most
    `limit` mapping entries in the manufacturer's id order: each whose record is here, with the digest of
    its mapped fields and its key (to name it in a report); `next` is where the following page starts."""
    after, upto = _uuid_or_none(document, "after"), _uuid_or_none(document, "upto")
    limit = document.get("limit", PAGE)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= PAGE:
        raise ValidationFailed([FieldError("limit", N_("is not valid"), "invalid")])
    query = _live(rule).order_by(SyncMapping.local_id).limit(limit)
    if after is not None:
        query = query.where(SyncMapping.local_id > after)
    if upto is not None:
        query = query.where(SyncMapping.local_id <= upto)
    rows = (await session.execute(query)).all()
    theirs = await peer_values(session, obj, rule, [r.peer_id for r in rows])
    entries = [
        {
            "id": str(r.local_id),
            "peer": str(r.peer_id),
            "digest": digest({f: theirs[r.peer_id].get(f) for f in fields}),
            "key": _text(theirs[r.peer_id].get(obj.key_field)),
        }
        for r in rows
        if r.peer_id in theirs
    ]
    return {"entries": entries, "next": str(rows[-1].local_id) if len(rows) == limit else None}


def _text(value: Any) -> str | None:
    """A record's key as a report names it: its text, whatever the column's type."""
    return None if value is None else str(value)


async def _values(
    session: AsyncSession, obj: SyncObject, rule: SyncRule, fields: list[str], document: dict[str, Any]
) -> dict[str, Any]:
    """The records named (by the manufacturer's ids) as the partner holds them: the mapped fields' values,
    what the last write left in them, and the fields held for a person."""
    ids = document.get("ids")
    if not isinstance(ids, list) or len(ids) > VALUES_PAGE:
        raise ValidationFailed([FieldError("ids", N_("is not valid"), "invalid")])
    try:
        wanted = sorted({uuid.UUID(str(i)) for i in ids})
    except ValueError:
        raise ValidationFailed([FieldError("ids", N_("is not valid"), "invalid")]) from None
    if not wanted:
        return {"entries": []}
    rows = (await session.execute(_live(rule).where(SyncMapping.local_id.in_(wanted)))).all()
    theirs = await peer_values(session, obj, rule, [r.peer_id for r in rows])
    held = await held_fields(session, rule, [r.id for r in rows])
    return {
        "entries": [
            {
                "id": str(r.local_id),
                "values": {f: theirs[r.peer_id].get(f) for f in fields},
                "written": {f: (r.written or {}).get(f) for f in fields},
                "held": [f for f in fields if (r.id, f) in held],
            }
            for r in rows
            if r.peer_id in theirs
        ]
    }


# --- the manufacturer's side: the run, on the pairing's line ---


@dataclass(frozen=True, slots=True)
class Theirs:
    peer_id: uuid.UUID
    digest: str
    key: Any


async def _ask(services: Services, target: wire.PeerTarget, kind: str, document: dict[str, Any]) -> dict[str, Any]:
    """One question, asked again after a failure up to ATTEMPTS times (each a new signed request); the
    answer, or PeerFailed with the reason. A rule the partner does not know (nothing was ever sent under
    it) answers an empty page."""
    reason = ""
    for attempt in range(ATTEMPTS):
        if attempt:
            await asyncio.sleep(RETRY_SECONDS * attempt)
        result, found = await wire.ask_signed(services, target, kind, uuid7(), document)
        if result.outcome == "succeeded":
            return found
        if result.status == 404 and found.get("code") == NoSuchRule.code:
            return {"entries": [], "next": None}
        if result.outcome == "refused":
            code = "not_paired" if found.get("code") == "not_paired" else "peer_refused"
            detail = found.get("detail") or found.get("title") or result.error or ""
            raise PeerFailed(code, f"{target.url}: {result.error or ''} {detail}".strip()[:1000])
        reason = f"{target.url}: {result.error or f'HTTP {result.status}'}"
    raise PeerFailed("peer_unreachable", reason[:1000])


def _rule_document(rule: SyncRule) -> dict[str, Any]:
    return {"rule": str(rule.id), "object": rule.object, "fields": [e["target"] for e in rule.mapping]}


async def _digests_between(
    services: Services, target: wire.PeerTarget, rule: SyncRule, after: uuid.UUID | None, upto: uuid.UUID
) -> dict[uuid.UUID, Theirs]:
    """Every digest the partner has over (after, upto], page after page."""
    found: dict[uuid.UUID, Theirs] = {}
    cursor = after
    while True:
        page = await _ask(
            services,
            target,
            "digests",
            {
                **_rule_document(rule),
                "after": str(cursor) if cursor else None,
                "upto": str(upto),
                "limit": PAGE,
            },
        )
        found.update(_entries(page))
        following = page.get("next")
        if not following:
            return found
        cursor = uuid.UUID(str(following))


def _entries(page: dict[str, Any]) -> dict[uuid.UUID, Theirs]:
    entries = page.get("entries")
    if not isinstance(entries, list):
        raise PeerFailed("peer_refused", "the partner's deployment answered no list of digests")
    try:
        return {
            uuid.UUID(str(e["id"])): Theirs(uuid.UUID(str(e["peer"])), str(e["digest"]), e.get("key")) for e in entries
        }
    except (KeyError, ValueError, TypeError):
        raise PeerFailed("peer_refused", "the partner's deployment answered digests that cannot be read") from None


async def _values_of(
    services: Services, target: wire.PeerTarget, rule: SyncRule, obj: SyncObject, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[str, Any]]:
    """The partner's values of the records named (normalised as here), what was last written, what is held."""
    out: dict[uuid.UUID, dict[str, Any]] = {}
    kinds = obj.target_fields
    for start in range(0, len(ids), VALUES_PAGE):
        chunk = [str(i) for i in ids[start : start + VALUES_PAGE]]
        page = await _ask(services, target, "values", {**_rule_document(rule), "ids": chunk})
        for entry in page.get("entries") or ():
            try:
                values = {f: normalise(v, kinds[f]) for f, v in dict(entry["values"]).items() if f in kinds}
                written = {f: normalise(v, kinds[f]) for f, v in dict(entry.get("written") or {}).items() if f in kinds}
                out[uuid.UUID(str(entry["id"]))] = {
                    "values": values,
                    "written": written,
                    "held": {str(f) for f in entry.get("held") or ()},
                }
            except (KeyError, ValueError, TypeError, AttributeError):
                unreadable = "the partner's deployment answered values that cannot be read"
                raise PeerFailed("peer_refused", unreadable) from None
    return out


async def _compare(
    services: Services,
    target: wire.PeerTarget,
    obj: SyncObject,
    rule: SyncRule,
    run: SyncReconciliation,
    records: Sequence[tuple[uuid.UUID, dict[str, Any], bool]],
    theirs: dict[uuid.UUID, Theirs],
) -> tuple[int, list[dict[str, Any]]]:
    """One batch of the manufacturer's records against the partner's digests over the same range: (how
    many were compared, the drift rows). The partner's records in the range whose upstream record is gone
    are extra."""
    kinds = obj.target_fields
    found: list[dict[str, Any]] = []
    expected_of: dict[uuid.UUID, tuple[dict[str, Any], Any]] = {}
    compared = 0
    seen: set[uuid.UUID] = set()
    for local_id, values, present in records:
        seen.add(local_id)
        current = theirs.get(local_id)
        label = values.get(obj.key_field)
        if not (present and passes(rule.filter, values)):
            if current is not None:
                found.append(drift_row(run, "extra", local_id, current.peer_id, label))
            continue
        expected = apply_mapping(rule.mapping, values, kinds)
        label = expected.get(obj.key_field, label)
        if current is None:
            found.append(drift_row(run, "missing", local_id, None, label, digests=(digest(expected), None)))
            continue
        compared += 1
        if digest(expected) != current.digest:
            expected_of[local_id] = (expected, label)
    for local_id, current in sorted(theirs.items()):
        if local_id not in seen:
            found.append(drift_row(run, "extra", local_id, current.peer_id, current.key))
    if expected_of:
        held_there = await _values_of(services, target, rule, obj, sorted(expected_of))
        for local_id, (expected, label) in sorted(expected_of.items()):
            there = held_there.get(local_id)
            if there is None:  # gone since its digest was read: missing
                found.append(drift_row(run, "missing", local_id, None, label, digests=(digest(expected), None)))
                continue
            mine, written, held = there["values"], there["written"], there["held"]
            fields = [
                {"field": f, "expected": v, "actual": mine.get(f)}
                for f, v in expected.items()
                if v != mine.get(f)
                and f not in held
                and not (rule.policies.get(f) == "downstream" and mine.get(f) != written.get(f))
            ]
            if fields:
                peer_digest = digest({f: mine.get(f) for f in expected})
                found.append(
                    drift_row(
                        run,
                        "different",
                        local_id,
                        theirs[local_id].peer_id,
                        label,
                        fields,
                        (digest(expected), peer_digest),
                    )
                )
    return compared, found


async def _pairing_allows(session: AsyncSession, rule: SyncRule, target: wire.PeerTarget) -> bool:
    peer = await session.scalar(select(SyncPeer).where(SyncPeer.id == target.id))
    link = await session.scalar(select(EnterpriseLink).where(EnterpriseLink.id == rule.link_id))
    return (
        peer is not None
        and peer.status == "active"
        and rule.pairing_id == peer.id
        and link is not None
        and link.status == "active"
    )


def _fail(run: SyncReconciliation, code: str, reason: str) -> None:
    run.status, run.finished_at = "failed", utcnow()
    run.error_code, run.error = code, reason[:1000]


async def carry_out(services: Services, tenant_id: uuid.UUID, run_id: uuid.UUID, target: wire.PeerTarget) -> None:
    """The run, batch after batch, from where its cursor stands: each batch's records read here in one
    unit of work, the partner asked with none open, then the drift and the cursor written in another (a
    worker that took the run over meanwhile wins: this one stops). After SLICE_SECONDS the rest is asked
    for by the same event, so no delivery outlasts the workers' attempt timeout."""
    ctx = tenant_context(tenant_id, channel=CHANNEL)
    began = time.monotonic()
    while True:
        async with services.db.session(ctx) as session:
            run = await session.scalar(
                select(SyncReconciliation).where(SyncReconciliation.id == run_id).with_for_update()
            )
            if run is None or run.status in ("done", "failed"):
                return
            rule = await session.scalar(select(SyncRule).where(SyncRule.id == run.rule_id))
            obj = sync_objects(services).get(rule.object) if rule is not None else None
            if rule is None or obj is None or not reconcilable(obj):
                _fail(run, "not_comparable", "The rule or its object is gone")
                return
            if not await _pairing_allows(session, rule, target):
                _fail(run, "not_paired", "The pairing is no longer active, or the partner link is suspended")
                return
            if run.status == "queued":
                run.status, run.started_at = "running", utcnow()
                run.total = await obj.count(session)
            phase, cursor = run.phase, run.cursor
            records: list[tuple[uuid.UUID, dict[str, Any], bool]] = []
            if phase == "source":
                records = list(await obj.read(session, rule.link_id, None, cursor, BATCH))
                if not records:
                    run.phase = "mappings"  # from the cursor on: beyond the manufacturer's last record
                    continue
        try:
            if phase == "source":
                theirs = await _digests_between(services, target, rule, cursor, records[-1][0])
                compared, found = await _compare(services, target, obj, rule, run, records, theirs)
                done, last = len(records), records[-1][0]
            else:
                page = await _ask(
                    services,
                    target,
                    "digests",
                    {**_rule_document(rule), "after": str(cursor) if cursor else None, "limit": PAGE},
                )
                beyond = _entries(page)
                compared = 0
                found = [drift_row(run, "extra", local_id, t.peer_id, t.key) for local_id, t in sorted(beyond.items())]
                following = page.get("next")
                done, last = len(beyond), uuid.UUID(str(following)) if following else None
        except PeerFailed as failed:
            async with services.db.session(ctx) as session:
                run = await session.scalar(
                    select(SyncReconciliation).where(SyncReconciliation.id == run_id).with_for_update()
                )
                if run is not None and run.status == "running" and run.cursor == cursor:
                    _fail(run, failed.code, failed.reason)
            return
        async with services.db.session(ctx) as session:
            run = await session.scalar(
                select(SyncReconciliation).where(SyncReconciliation.id == run_id).with_for_update()
            )
            if run is None or run.status != "running" or run.cursor != cursor or run.phase != phase:
                return  # taken over by another delivery meanwhile
            if found:
                await session.execute(SyncDrift.__table__.insert(), found)
                count_drift(run, found)
            run.compared += compared
            run.done += done
            if phase == "mappings":
                run.total += done
                if last is None:
                    run.status, run.finished_at = "done", utcnow()
                    run.total = max(run.total, run.done)
                    return
            run.cursor = last
            if time.monotonic() - began > SLICE_SECONDS:
                publish(session, RECONCILE_REQUESTED, "sync.rule", rule.id, {"reconciliation": str(run.id)})
                return
