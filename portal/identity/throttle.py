"""The one gate every password check goes through, shared by every app process through the database.

An attempt is counted before its password is verified, in one atomic statement committed on its own, so
parallel guesses cannot all be evaluated: at most the limit is. Attempts are counted per sign-in name
(a partner's global login, or a workspace's staff email) and per client address. A browser that has
signed in before carries a device cookie bound to that sign-in name; its attempts are counted on its own
key instead, so someone guessing a dealer's password from elsewhere slows only the untrusted clients of
that name, never the dealer's own browser (OWASP's device cookies).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from portal.db.context import PUBLIC
from portal.db.engine import Database
from portal.db.types import utcnow
from portal.errors import Throttled
from portal.identity.models import LoginThrottle
from portal.identity.passwords import Passwords
from portal.identity.tokens import derive_key

DEVICE_COOKIE = "portal_device"
DEVICE_COOKIE_SECONDS = 365 * 24 * 3600


@dataclass(frozen=True, slots=True)
class SignInClient:
    """Who is knocking, as far as the request tells: its address and the device cookie it sent."""

    address: str | None = None
    user_agent: str | None = None
    device: str | None = None


@dataclass(frozen=True, slots=True)
class ThrottleKey:
    key: str
    limit: int
    refundable: bool = False  # a success gives the attempt back (addresses: one office, many people)


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def staff_login(workspace: str, email: str) -> str:
    return f"staff:{workspace.strip().lower()}:{email.strip().lower()}"


def partner_login(name: str) -> str:
    """A partner's sign-in name is global: the same counter whichever manufacturer's portal is used."""
    return f"partner:{name.strip().lower()}"


class SignInGuard:
    def __init__(
        self, db: Database, passwords: Passwords, secret_key: str, window_seconds: int, per_login: int, per_address: int
    ) -> None:
        self.db, self.passwords = db, passwords
        self.window = timedelta(seconds=window_seconds)
        self.per_login, self.per_address = per_login, per_address
        self._device_key = derive_key(secret_key, "device-cookie")

    # --- device cookies ---------------------------------------------------------------------------

    def _device_mac(self, nonce: str, login: str) -> str:
        return hmac.new(self._device_key, f"{nonce}:{login}".encode(), hashlib.sha256).hexdigest()[:32]

    def device_cookie(self, login: str) -> str:
        """A new device cookie for a browser that has just proved it knows `login`'s password."""
        nonce = secrets.token_urlsafe(16)
        return f"{nonce}.{self._device_mac(nonce, login)}"

    def _device_nonce(self, cookie: str | None, login: str) -> str | None:
        nonce, _, mac = (cookie or "").partition(".")
        if nonce and mac and hmac.compare_digest(mac, self._device_mac(nonce, login)):
            return nonce
        return None

    # --- counting ---------------------------------------------------------------------------------

    def keys(self, login: str, client: SignInClient) -> list[ThrottleKey]:
        nonce = self._device_nonce(client.device, login)
        keys = [ThrottleKey(_hash(f"device:{nonce}" if nonce else f"login:{login}"), self.per_login)]
        if client.address:
            keys.append(ThrottleKey(_hash(f"address:{client.address}"), self.per_address, refundable=True))
        return keys

    async def _bump(self, session: AsyncSession, key: ThrottleKey) -> int | None:
        """One more on `key` in `session`'s transaction; over its limit: the seconds until its window ends."""
        now = utcnow()
        stale = LoginThrottle.window_started_at < now - self.window
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        stmt = insert(LoginThrottle).values(key=key.key, attempts=1, window_started_at=now)
        stmt = stmt.on_conflict_do_update(
            index_elements=[LoginThrottle.key],
            set_={
                "attempts": case((stale, 1), else_=LoginThrottle.attempts + 1),
                "window_started_at": case((stale, now), else_=LoginThrottle.window_started_at),
            },
        ).returning(LoginThrottle.attempts, LoginThrottle.window_started_at)
        attempts, started = (await session.execute(stmt)).one()
        return _seconds_until(started + self.window, now) if attempts > key.limit else None

    async def _count(self, keys: list[ThrottleKey]) -> dict[str, int]:
        """Count one attempt on each key in a transaction of its own; the keys over their limit, with the
        seconds until their window ends."""
        over: dict[str, int] = {}
        async with self.db.session(PUBLIC) as session:
            for k in keys:
                wait = await self._bump(session, k)
                if wait is not None:
                    over[k.key] = wait
        return over

    async def count_action(self, session: AsyncSession, key: str, limit: int, detail: str | None = None) -> None:
        """Count one action on `key` (the invitations one person sends) within the window, in the caller's
        transaction: an action that fails and rolls back is not counted. Over `limit`: Throttled, saying
        `detail` (a message id with %(seconds)s) if given."""
        wait = await self._bump(session, ThrottleKey(_hash(f"action:{key}"), limit))
        if wait is not None:
            raise Throttled(wait, detail)

    async def count_attempt(self, login: str, client: SignInClient) -> list[ThrottleKey]:
        """Count one attempt on each key, committed before anything is verified; over a limit: Throttled.
        Its own transaction, because a refused guess must stay counted though the caller's rolls back; the
        caller makes its reads in a `read_phase` (portal.db.engine) first, so on SQLite its unit of work
        holds no write lock that this one would wait for."""
        keys = self.keys(login, client)
        over = await self._count(keys)
        if over:
            raise Throttled(max(over.values()))
        return keys

    async def count_link_attempt(self, client: SignInClient) -> list[ThrottleKey]:
        """Count one try of a one-time link (a password reset's) from the client's address, before the link
        is checked, as a sign-in is counted before its password: over the address's limit, Throttled. The
        caller gives the attempt back (`succeeded`) when the link was real, so only guesses stay counted.
        Apart from the address's sign-in attempts: guessing links locks nobody out of signing in."""
        keys = [ThrottleKey(_hash(f"link:address:{client.address}"), self.per_address, refundable=True)]
        over = await self._count(keys if client.address else [])
        if over:
            raise Throttled(max(over.values()))
        return keys if client.address else []

    async def count_requests(self, limits: Sequence[tuple[str, int]]) -> None:
        """Count one request on each (key, limit) of a public form (a device page's ticket), committed on
        its own like a sign-in attempt, so a refused or failed one stays counted; over a limit: Throttled.
        Keys of their own (prefixed "public:"): they lock nobody out of signing in."""
        over = await self._count([ThrottleKey(_hash(f"public:{key}"), limit) for key, limit in limits])
        if over:
            raise Throttled(max(over.values()))

    async def count_reset_request(self, login: str, client: SignInClient) -> bool:
        """Count a password reset asked for `login`: refused (Throttled) when the client's address asked
        for too many (whatever the logins); else whether a link may be sent, which is so while fewer than
        the per-login limit were asked for this login in the window. Past it nothing more is sent, silently
        (the answer is the same either way): nobody can flood a person's mailbox, and nobody's asking ever
        refuses the person's own, nor counts on their sign-in (keys of their own, apart from sign-ins)."""
        address = [ThrottleKey(_hash(f"reset:address:{client.address}"), self.per_address)] if client.address else []
        per_login = ThrottleKey(_hash(f"reset:login:{login}"), self.per_login)
        over = await self._count([*address, per_login])
        refused = [seconds for key, seconds in over.items() if key != per_login.key]
        if refused:
            raise Throttled(max(refused))
        return per_login.key not in over

    async def succeeded(self, keys: list[ThrottleKey]) -> None:
        """Give the attempt back, in its own transaction as it was counted (between the caller's reads
        and its writes)."""
        async with self.db.session(PUBLIC) as session:
            for k in keys:
                if k.refundable:
                    await session.execute(
                        update(LoginThrottle)
                        .where(LoginThrottle.key == k.key, LoginThrottle.attempts > 0)
                        .values(attempts=LoginThrottle.attempts - 1)
                    )
                else:
                    await session.execute(delete(LoginThrottle).where(LoginThrottle.key == k.key))

    async def verify(self, login: str, client: SignInClient, password_hash: str | None, password: str) -> bool:
        """Count the attempt, then verify (the same work for an unknown name: no timing oracle)."""
        keys = await self.count_attempt(login, client)
        ok = self.passwords.verify(password_hash, password)
        if ok:
            await self.succeeded(keys)
        return ok


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, int((moment - now).total_seconds()) + 1)
