"""argon2id password hashing. The "fast" profile exists for test suites only; production refuses it."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from portal.errors import ValidationFailed
from portal.i18n import N_

MIN_LENGTH = 10
MAX_LENGTH = 256


class Passwords:
    def __init__(self, profile: str = "strong") -> None:
        if profile == "fast":
            self._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
        else:
            self._hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile
        # Verified against when the user does not exist, so timing does not reveal valid emails.
        self._decoy = self._hasher.hash("decoy password for unknown users")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash or self._decoy, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)


def check_strength(password: str, field: str = "password") -> None:
    if len(password) < MIN_LENGTH:
        raise ValidationFailed.single(field, N_("must be at least %(min)s characters"), "too_short", min=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        raise ValidationFailed.single(field, N_("must be at most %(max)s characters"), "too_long", max=MAX_LENGTH)
    if password.isdigit() or len(set(password)) < 4:
        raise ValidationFailed.single(field, N_("is too easy to guess"), "too_weak")
