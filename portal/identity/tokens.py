"""Credentials handed to clients, and nothing else: their formats, signing and parsing.

- Web: cookie `<tenant>.<session>.<secret>`; the server keeps only sha256(secret).
- API: a short-lived HS256 JWT access token naming the session, and an opaque refresh token
  `prt_<tenant>.<session>.<secret>` that is rotated on every use.
Secrets are 256-bit random values, so a fast hash is the right one for them (passwords use argon2).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

ALGORITHMS = ["HS256"]  # always an explicit list: never trust the token's own "alg"
REFRESH_PREFIX = "prt_"


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def same_digest(secret: str, expected_digest: str) -> bool:
    return hmac.compare_digest(digest(secret), expected_digest)


def derive_key(secret_key: str, purpose: str) -> bytes:
    if not secret_key:
        raise ValueError("an empty signing key is never acceptable")
    return hmac.new(secret_key.encode(), purpose.encode(), hashlib.sha256).digest()


@dataclass(frozen=True, slots=True)
class SessionCredential:
    tenant_id: uuid.UUID
    session_id: uuid.UUID
    secret: str


def format_credential(tenant_id: uuid.UUID, session_id: uuid.UUID, secret: str, prefix: str = "") -> str:
    return f"{prefix}{tenant_id.hex}.{session_id.hex}.{secret}"


def parse_credential(value: str | None, prefix: str = "") -> SessionCredential | None:
    if not value or not value.startswith(prefix) or len(value) > 300:
        return None
    parts = value[len(prefix) :].split(".")
    if len(parts) != 3 or not parts[2]:
        return None
    try:
        return SessionCredential(uuid.UUID(hex=parts[0]), uuid.UUID(hex=parts[1]), parts[2])
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: uuid.UUID
    tenant_id: uuid.UUID
    session_id: uuid.UUID
    kind: str
    # when a token read was issued and expires (what OAuth introspection reports); minting sets its own
    issued_at: int = field(default=0, compare=False)
    expires_at: int = field(default=0, compare=False)


class AccessTokens:
    def __init__(self, secret_key: str, issuer: str, lifetime_seconds: int) -> None:
        self._key = OctKey.import_key(derive_key(secret_key, "access-token"))
        self._issuer = issuer
        self.lifetime = lifetime_seconds
        self._claims = jwt.JWTClaimsRegistry(
            leeway=5,
            iss={"essential": True, "value": issuer},
            typ={"essential": True, "value": "access"},
            exp={"essential": True},
            sub={"essential": True},
            tid={"essential": True},
            sid={"essential": True},
        )
        # Tokens read before, with what their claims say but for the time: a client sends its token on every
        # request, and the same string always carries the same signature and claims, so each is verified
        # and validated once; only its time window is checked again on every read.
        self._read: dict[str, tuple[AccessClaims, float, float]] = {}

    def _verify(self, token: str) -> Mapping[str, Any]:
        return MappingProxyType(jwt.decode(token, self._key, algorithms=ALGORITHMS).claims)

    def _first_read(self, token: str) -> tuple[AccessClaims, float, float] | None:
        """The token's claims, and the window in which it is valid (with the registry's leeway), as the
        registry finds them now; None if they are not valid now."""
        try:
            c = self._verify(token)
            self._claims.validate(dict(c))
            claims = AccessClaims(
                uuid.UUID(c["sub"]),
                uuid.UUID(c["tid"]),
                uuid.UUID(c["sid"]),
                str(c.get("knd")),
                int(c.get("iat", 0)),
                int(c["exp"]),
            )
        except (JoseError, ValueError, KeyError, TypeError):
            return None
        leeway = self._claims.leeway
        starts = max((c[k] for k in ("iat", "nbf") if k in c), default=float("-inf"))
        return claims, starts - leeway, c["exp"] + leeway

    def mint(self, claims: AccessClaims, now: float | None = None) -> str:
        issued = int(now if now is not None else time.time())
        payload = {
            "iss": self._issuer,
            "typ": "access",
            "sub": str(claims.user_id),
            "tid": str(claims.tenant_id),
            "sid": str(claims.session_id),
            "knd": claims.kind,
            "iat": issued,
            "exp": issued + self.lifetime,
        }
        return jwt.encode({"alg": ALGORITHMS[0]}, payload, self._key, algorithms=ALGORITHMS)

    def read(self, token: str) -> AccessClaims | None:
        """The claims of a valid, unexpired token of ours; None for anything else."""
        if len(token) > 2000:
            return None
        known = self._read.get(token)
        if known is None:
            known = self._first_read(token)
            if known is None:
                return None
            if len(self._read) >= _TOKENS_KEPT:
                self._read.clear()
            self._read[token] = known
        claims, starts, ends = known
        now = int(time.time())  # as the claims registry counts it
        # the registry's own comparisons: issued (or valid from) no later than now, expiry still ahead
        return claims if starts <= now < ends else None


_TOKENS_KEPT = 4096
