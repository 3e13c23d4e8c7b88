"""Integration keys: made by an administrator with a name, scopes and an expiry, shown once, kept as a
keyed hash; rotated (a new key, the old one working on for an overlap), revoked; and how a request's
bearer key is read.

A key reads `pik_<tenant>.<key id>.<secret>`: the tenant tells the request which tenant to look the key
up in (the lookup runs in that tenant's context, so a key of tenant A is never even looked for in B's
rows), the id finds the row, and the secret (32 random bytes) is checked against `secret_hash`, an
HMAC-SHA256 under the deployment's secret key. A password hash is slow on purpose, to make guessing a
weak human secret expensive; a secret of 256 random bits cannot be guessed however fast each try is, so a
slow hash would only cost every request its time (argon2 at our settings: tens of milliseconds). The key
of the HMAC means a copy of the database alone does not let anyone check a guess."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portal.actor import Actor
from portal.db.context import tenant_context
from portal.db.types import utcnow
from portal.errors import FieldError, NotFound, ValidationFailed
from portal.i18n import N_
from portal.identity.models import Tenant
from portal.identity.sessions import KeyScheme, SessionLookup
from portal.ids import uuid7
from portal.services import Services
from sync.integrations.models import IntegrationKey, KeyRequest
from sync.integrations.objects import SCOPES

PREFIX = "pik_"
PATHS = "/api/integration/"
OVERLAP_HOURS = (0, 1, 24, 72, 168)  # the overlap a rotation may give the old key
MAX_DAYS = 730
STATES = ("active", "retiring", "expired", "revoked")


def digest(secret_key: str, secret: str) -> str:
    return hmac.new(secret_key.encode(), secret.encode(), hashlib.sha256).hexdigest()


def state_of(key: IntegrationKey, now: datetime | None = None) -> str:
    now = now or utcnow()
    if key.revoked_at is not None:
        return "revoked"
    if (key.expires_at is not None and key.expires_at <= now) or (key.retires_at is not None and key.retires_at <= now):
        return "expired"
    return "retiring" if key.retires_at is not None else "active"


def key_out(key: IntegrationKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "name": key.name,
        "hint": key.hint,
        "scopes": list(key.scopes),
        "state": state_of(key),
        "expires_at": key.expires_at,
        "retires_at": key.retires_at,
        "revoked_at": key.revoked_at,
        "replaced_by": key.replaced_by,
        "last_used_at": key.last_used_at,
        "created_at": key.created_at,
    }


def request_out(row: KeyRequest, names: Mapping[uuid.UUID, str]) -> dict[str, Any]:
    return {
        "key_id": row.key_id,
        "key_name": names.get(row.key_id, ""),
        "method": row.method,
        "path": row.path,
        "status": row.status,
        "problem": row.problem,
        "at": row.at,
    }


class Keys:
    """A tenant's keys as its staff manage them, in the request's unit of work."""

    def __init__(self, session: AsyncSession, actor: Actor, secret_key: str) -> None:
        self.session = session
        self.actor = actor
        self.secret_key = secret_key

    async def list(self) -> list[IntegrationKey]:
        return list(await self.session.scalars(select(IntegrationKey).order_by(IntegrationKey.created_at.desc())))

    async def get(self, key_id: uuid.UUID, lock: bool = False) -> IntegrationKey:
        query = select(IntegrationKey).where(IntegrationKey.id == key_id)
        found = await self.session.scalar(query.with_for_update() if lock else query)
        if found is None:
            raise NotFound(N_("No such integration key"))
        return found

    def _new(self, name: str, scopes: Sequence[str], expires_at: datetime | None) -> tuple[IntegrationKey, str]:
        secret = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
        key = IntegrationKey(
            id=uuid7(),
            name=name,
            hint=secret[:6],
            secret_hash=digest(self.secret_key, secret),
            scopes=sorted(scopes),
            expires_at=expires_at,
            created_by=self.actor.user_id,
        )
        self.session.add(key)
        return key, f"{PREFIX}{self.actor.tenant_id.hex}.{key.id.hex}.{secret}"

    async def create(self, values: Mapping[str, Any]) -> tuple[IntegrationKey, str]:
        """`name`, `scopes` (of SCOPES) and `expires_in_days` (1 to 730; none: never). The answer's second
        part is the key itself, which is shown this once."""
        errors: list[FieldError] = []
        name = str(values.get("name") or "").strip()
        if not name:
            errors.append(FieldError("name", N_("is required"), "required"))
        elif len(name) > 100:
            errors.append(FieldError("name", N_("may be at most %(max)s characters"), "too_long", {"max": 100}))
        scopes = values.get("scopes") or []
        if not isinstance(scopes, list) or not scopes:
            errors.append(FieldError("scopes", N_("choose at least one"), "required"))
        elif any(s not in SCOPES for s in scopes):
            errors.append(
                FieldError("scopes", N_("must be among %(choices)s"), "invalid", {"choices": ", ".join(SCOPES)})
            )
        days = values.get("expires_in_days")
        if days is not None and (isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS):
            errors.append(
                FieldError(
                    "expires_in_days",
                    N_("must be between %(low)s and %(high)s"),
                    "out_of_range",
                    {"low": 1, "high": MAX_DAYS},
                )
            )
        if errors:
            raise ValidationFailed(errors)
        expires_at = None if days is None else utcnow() + timedelta(days=days)
        key, shown = self._new(name, sorted(set(scopes)), expires_at)
        await self.session.flush()
        return key, shown

    async def rotate(self, key_id: uuid.UUID, overlap_hours: Any) -> tuple[IntegrationKey, str]:
        """A new key with the old one's name, scopes and expiry; the old one works on for `overlap_hours`
        (one of OVERLAP_HOURS; 0: it stops now), then stops."""
        if overlap_hours not in OVERLAP_HOURS or isinstance(overlap_hours, bool):
            raise ValidationFailed.single(
                "overlap_hours",
                N_("must be one of %(choices)s"),
                "invalid",
                choices=", ".join(str(h) for h in OVERLAP_HOURS),
            )
        old = await self.get(key_id, lock=True)
        if state_of(old) not in ("active",):
            raise ValidationFailed.single("key", N_("Only an active key that was not rotated is rotated"), "state")
        key, shown = self._new(old.name, old.scopes, old.expires_at)
        await self.session.flush()
        old.replaced_by = key.id
        old.retires_at = utcnow() + timedelta(hours=overlap_hours)
        await self.session.flush()
        return key, shown

    async def revoke(self, key_id: uuid.UUID) -> IntegrationKey:
        key = await self.get(key_id, lock=True)
        if key.revoked_at is None:
            key.revoked_at = utcnow()
            await self.session.flush()
        return key

    async def requests(
        self, key_id: uuid.UUID | None = None, errors_only: bool = False, limit: int = 50
    ) -> list[dict[str, Any]]:
        query = select(KeyRequest).order_by(KeyRequest.at.desc(), KeyRequest.id.desc()).limit(limit)
        if key_id is not None:
            query = query.where(KeyRequest.key_id == key_id)
        if errors_only:
            query = query.where(KeyRequest.status >= 400)
        rows = list(await self.session.scalars(query))
        names = dict((await self.session.execute(select(IntegrationKey.id, IntegrationKey.name))).all())
        return [request_out(r, names) for r in rows]

    async def counts(self) -> dict[str, int]:
        """Requests and refusals of the last 24 hours."""
        since = utcnow() - timedelta(hours=24)
        total, failed = (
            await self.session.execute(
                select(func.count(), func.count().filter(KeyRequest.status >= 400)).where(KeyRequest.at >= since)
            )
        ).one()
        return {"total": int(total), "failed": int(failed)}


def parse(credential: str) -> tuple[uuid.UUID, uuid.UUID, str] | None:
    if not credential.startswith(PREFIX):
        return None
    parts = credential[len(PREFIX) :].split(".")
    if len(parts) != 3 or len(parts[2]) < 40:
        return None
    try:
        return uuid.UUID(hex=parts[0]), uuid.UUID(hex=parts[1]), parts[2]
    except ValueError:
        return None


def key_scheme(services: Services) -> KeyScheme:
    """How the request's unit of work reads a bearer key on the integration API: in the tenant the key
    names, the row by its id; the secret checked in constant time; refused when revoked, expired, past its
    rotation overlap or of a suspended tenant. After the answer, the key's last use and the request are
    recorded in a transaction of their own (a refused request too)."""
    secret_key = services.settings.secret_key

    def lookup(credential: str) -> SessionLookup | None:
        parsed = parse(credential)
        if parsed is None:
            return None
        tenant_id, key_id, secret = parsed
        expected = digest(secret_key, secret)

        async def load(session: AsyncSession) -> Actor | None:
            now = utcnow()
            row = (
                await session.execute(
                    select(IntegrationKey, Tenant)
                    .join(Tenant, Tenant.id == IntegrationKey.tenant_id)
                    .where(IntegrationKey.id == key_id, IntegrationKey.revoked_at.is_(None))
                )
            ).first()
            if row is None:
                return None
            key, tenant = row
            if not hmac.compare_digest(key.secret_hash, expected) or tenant.status != "active":
                return None
            if state_of(key, now) not in ("active", "retiring"):
                return None
            return Actor(
                user_id=key.id,
                tenant_id=tenant_id,
                kind="integration",
                channel="integration",
                display_name=key.name,
                scopes=frozenset(key.scopes),
                time_zone=tenant.time_zone,
                tenant_slug=tenant.slug,
                tenant_name=tenant.name,
            )

        async def after(actor: Actor, method: str, path: str, status: int, problem: str | None) -> None:
            async with services.db.session(tenant_context(tenant_id, actor, "integration")) as session:
                now = utcnow()
                session.add(
                    KeyRequest(
                        key_id=key_id, method=method[:8], path=path[:200], status=status, problem=problem, at=now
                    )
                )
                await session.execute(
                    update(IntegrationKey)
                    .where(IntegrationKey.id == key_id)
                    .values(last_used_at=now, updated_at=IntegrationKey.updated_at)
                    .execution_options(synchronize_session=False)
                )

        return SessionLookup(tenant_id, key_id, "integration", lambda _row: True, load=load, after=after)

    return KeyScheme(PREFIX, PATHS, lookup)
