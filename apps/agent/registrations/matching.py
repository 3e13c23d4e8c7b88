"""The duplicate check: the CRM accounts a customer's keys meet, and the registrations on them. Each key
is one equality on its own index of `crm_accounts` (see portal.crm.models), so the check costs the same
against a thousand accounts or a million; the registrations of the accounts found are one more indexed
read (`ix_agent_deals_account`)."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, bindparam, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from apps.agent.models import Deal
from portal.crm.matching import email_key, name_key, phone_key, tax_key
from portal.crm.models import Account

MAX_ACCOUNTS = 20  # a customer's keys meet a few accounts; more is noise, not a duplicate


@dataclass(frozen=True)
class Keys:
    name: str | None = None
    tax_id: str | None = None
    phone: str | None = None
    email: str | None = None

    @classmethod
    def of(cls, name: str | None, tax_id: str | None, phone: str | None, email: str | None) -> Keys:
        return cls(name_key(name), tax_key(tax_id), phone_key(phone), email_key(email))

    def given(self) -> dict[str, str]:
        return {
            k: v
            for k, v in (("name", self.name), ("tax_id", self.tax_id), ("phone", self.phone), ("email", self.email))
            if v
        }

    def met(self, account: Account) -> list[str]:
        """Which of these keys the account shares, strongest first."""
        held = {"tax_id": account.tax_id, "name": account.name_key, "phone": account.phone, "email": account.email}
        return [
            key
            for key in ("tax_id", "name", "phone", "email")
            if getattr(self, key) and getattr(self, key) == held[key]
        ]


# tax id and name say "the same company"; a phone or an email shared may be a person who moved on
STRONG = ("tax_id", "name")


@dataclass
class Found:
    """An account the keys meet, which keys, and the live registrations on it (conflict, or approved and
    still protected)."""

    account: Account
    keys: list[str]
    registrations: list[Deal] = field(default_factory=list)

    @property
    def strong(self) -> bool:
        return any(key in STRONG for key in self.keys)


def _statement() -> Select[tuple[Account, Deal]]:
    """The one statement of the check, built once (building it costs more than running it): the keys
    and the clock are its parameters; a key not given is NULL, which equals nothing."""
    met = aliased(
        Account,
        select(Account)
        .where(
            Account.kind == "customer",
            or_(
                Account.name_key == bindparam("name"),
                Account.tax_id == bindparam("tax_id"),
                Account.phone == bindparam("phone"),
                Account.email == bindparam("email"),
            ),
        )
        .order_by(Account.created_at, Account.id)
        .limit(MAX_ACCOUNTS)
        .subquery(),
    )
    now = bindparam("now", type_=Deal.__table__.c.protected_until.type)
    live = or_(Deal.registration == "conflict", (Deal.registration == "approved") & (Deal.protected_until > now))
    return (
        select(met, Deal)
        .outerjoin(Deal, (Deal.tenant_id == met.tenant_id) & (Deal.account_id == met.id) & live)
        .order_by(met.created_at, met.id, Deal.created_at, Deal.id)
    )


FIND = _statement()
LOCK = text("SELECT pg_advisory_xact_lock(n) FROM unnest(CAST(:numbers AS bigint[])) AS n")


async def find(session: AsyncSession, keys: Keys, now: datetime) -> list[Found]:
    """The accounts the keys meet (each key an equality on its index) with the live registrations on
    them, strongest match first."""
    if not keys.given():
        return []
    params = {"name": keys.name, "tax_id": keys.tax_id, "phone": keys.phone, "email": keys.email, "now": now}
    found: dict[uuid.UUID, Found] = {}
    for account, deal in await session.execute(FIND, params):
        entry = found.setdefault(account.id, Found(account, keys.met(account)))
        if deal is not None:
            entry.registrations.append(deal)
    return sorted(found.values(), key=lambda f: (not f.strong, f.account.created_at))


async def lock(session: AsyncSession, keys: Keys) -> None:
    """Registrations sharing a key, one at a time until the transaction ends: PostgreSQL advisory locks,
    taken in one statement in the order of their numbers (so two registrations never wait on each other
    in a circle); on SQLite a writing transaction already holds the database's one write lock."""
    if session.bind.dialect.name != "postgresql":
        return
    numbers = sorted({_lock_number(f"agent.registration:{key}:{value}") for key, value in keys.given().items()})
    if numbers:
        await session.execute(LOCK, {"numbers": numbers})


def _lock_number(name: str) -> int:
    """A stable signed 64-bit number for a lock's name."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)
