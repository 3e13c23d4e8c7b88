"""A tenant's partner domain, for the console and the API: claiming a host, proving it with a TXT record,
and giving it up.

A claim holds a random token; the tenant publishes `_portal-verify.<domain>` with that token as a TXT
record, and asks for the check. A claim not verified within CLAIM_DAYS expires (its token is refused; a new
claim gets a new one). A verified domain is one tenant's: no other tenant may claim it while it is, and the
unique `tenants.partner_domain` holds that even against two verifications at once.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from channels.domains.models import DomainClaim
from channels.domains.names import checked_domain, record_name
from channels.domains.resolver import LookupFailed, TxtResolver
from portal.actor import Actor
from portal.brand import tenant_of
from portal.db.types import utcnow
from portal.errors import Conflict, NotFound, ValidationFailed
from portal.http.hosts import PartnerHosts
from portal.i18n import N_
from portal.identity.models import Tenant

CLAIM_DAYS = 7
# what a failed check found, as the API names it (the console says it in words)
RECORD_NOT_FOUND, RECORD_MISMATCH, DNS_UNAVAILABLE = "record_not_found", "record_mismatch", "dns_unavailable"


def status_of(claim: DomainClaim, now: datetime) -> str:
    if claim.verified_at is not None:
        return "verified"
    return "expired" if claim.expires_at <= now else "pending"


def domain_out(claim: DomainClaim) -> dict[str, Any]:
    return {
        "domain": claim.domain,
        "status": status_of(claim, utcnow()),
        "record_name": record_name(claim.domain),
        "record_type": "TXT",
        "record_value": claim.token,
        "expires_at": None if claim.verified_at else claim.expires_at,
        "verified_at": claim.verified_at,
        "checked_at": claim.checked_at,
        "problem": None if claim.verified_at else claim.problem,
        "created_at": claim.created_at,
        "updated_at": claim.updated_at,
    }


def _taken() -> Conflict:
    return Conflict(N_("This domain is another workspace's partner domain"), code="domain_taken")


class PartnerDomains:
    """The tenant's partner domain, in the request's unit of work (the actor's tenant)."""

    def __init__(
        self, session: AsyncSession, actor: Actor, resolver: TxtResolver, hosts: PartnerHosts, platform_host: str
    ) -> None:
        self.session, self.actor, self.resolver, self.hosts = session, actor, resolver, hosts
        self.platform_host = platform_host

    async def find(self) -> DomainClaim | None:
        return await self.session.scalar(select(DomainClaim))

    async def get(self) -> DomainClaim:
        claim = await self.find()
        if claim is None:
            raise NotFound(N_("No partner domain is set"), code="no_partner_domain")
        return claim

    async def _taken_elsewhere(self, domain: str) -> bool:
        owner = await self.session.scalar(select(Tenant.id).where(Tenant.partner_domain == domain))
        return owner is not None and owner != self.actor.tenant_id

    async def claim(self, value: str) -> DomainClaim:
        """Ask for `value` as the partner domain. The same domain again keeps its claim (and token) while it
        is valid; another domain replaces the claim, and the verified domain before it stops at once."""
        domain, problem = checked_domain(value, self.platform_host)
        if problem is not None:
            raise ValidationFailed([problem])
        if await self._taken_elsewhere(domain):
            raise _taken()
        claim = await self.find()
        now = utcnow()
        if claim is not None and claim.domain == domain and status_of(claim, now) != "expired":
            return claim
        await self._stop_serving()
        if claim is None:
            claim = DomainClaim(created_by=self.actor.user_id)
            self.session.add(claim)
        claim.domain, claim.token = domain, secrets.token_urlsafe(24)
        claim.expires_at, claim.verified_at = now + timedelta(days=CLAIM_DAYS), None
        claim.checked_at = claim.problem = None
        await self.session.flush()
        return claim

    async def verify(self) -> DomainClaim:
        """Look the TXT record up; on a match the domain serves the partner portal from now on."""
        claim = await self.get()
        now = utcnow()
        status = status_of(claim, now)
        if status == "verified":
            return claim
        if status == "expired":
            raise Conflict(N_("This claim expired: set the domain again for a new record"), code="claim_expired")
        if await self._taken_elsewhere(claim.domain):
            raise _taken()
        claim.checked_at, claim.problem = now, await self._problem_with_record(claim)
        if claim.problem is None:
            tenant = await tenant_of(self.session, self.actor.tenant_id)
            try:
                async with self.session.begin_nested():
                    claim.verified_at, tenant.partner_domain = now, claim.domain
                    await self.session.flush()
            except IntegrityError:
                raise _taken() from None  # verified by another tenant in the same moment
            self.hosts.forget([claim.domain])
        await self.session.flush()
        return claim

    async def _problem_with_record(self, claim: DomainClaim) -> str | None:
        try:
            values = await self.resolver.txt(record_name(claim.domain))
        except LookupFailed:
            return DNS_UNAVAILABLE
        if claim.token in (value.strip() for value in values):
            return None
        return RECORD_MISMATCH if values else RECORD_NOT_FOUND

    async def remove(self) -> None:
        """Give the domain up: its requests are no longer the partner portal's."""
        claim = await self.get()
        await self._stop_serving()
        await self.session.delete(claim)
        await self.session.flush()

    async def _stop_serving(self) -> None:
        tenant = await tenant_of(self.session, self.actor.tenant_id)
        if tenant.partner_domain is not None:
            self.hosts.forget([tenant.partner_domain])
            tenant.partner_domain = None
            await self.session.flush()


async def foreign_redirect(session: AsyncSession, tenant_id: uuid.UUID, uris: list[str]) -> str | None:
    """The first of `uris` whose host is another tenant's verified partner domain: a client may send codes
    to its own tenant's domain, never to another's (whose pages would then receive this tenant's codes)."""
    hosts = {(urlsplit(uri).hostname or "").lower(): uri for uri in uris if uri.lower().startswith("https://")}
    hosts.pop("", None)
    if not hosts:
        return None
    owned = await session.scalars(
        select(Tenant.partner_domain).where(Tenant.partner_domain.in_(hosts), Tenant.id != tenant_id)
    )
    return next((hosts[host] for host in owned if host), None)
