"""The partner domain service of a request, named once by the API controller and the console page."""

from __future__ import annotations

from urllib.parse import urlsplit

from litestar.di import NamedDependency, Provide

from channels.domains.resolver import DnsResolver, TxtResolver
from channels.domains.service import PartnerDomains
from portal.http.deps import DB, CurrentActor, ServicesDep

EXTENSION = "domains"


class DomainChecks:
    """Process-wide: how TXT records are read (tests put their own resolver here)."""

    def __init__(self) -> None:
        self.resolver: TxtResolver = DnsResolver()


def provide_partner_domains(db: DB, actor: CurrentActor, services: ServicesDep) -> PartnerDomains:
    checks: DomainChecks = services.extensions[EXTENSION]
    platform_host = (urlsplit(services.settings.base_url).hostname or "").lower()
    return PartnerDomains(db, actor, checks.resolver, services.partner_hosts, platform_host)


DEPENDENCIES = {"partner_domains": Provide(provide_partner_domains, sync_to_thread=False)}
PartnerDomainsDep = NamedDependency[PartnerDomains]
