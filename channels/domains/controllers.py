"""The API of the partner domain: /api/channels/domain (see docs/channels.md)."""

from __future__ import annotations

from litestar import Controller, delete, get, post, put
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from channels.domains.dependencies import DEPENDENCIES, PartnerDomainsDep
from channels.domains.objects import PARTNER_DOMAIN
from channels.domains.schemas import PartnerDomainIn, PartnerDomainOut
from channels.domains.service import domain_out
from portal.identity.schemas import typed
from portal.permissions import requires


class PartnerDomainController(Controller):
    """The workspace's own host for its partner portal, proved with a DNS TXT record."""

    path = "/api/channels/domain"
    tags = ["channels"]
    dependencies = DEPENDENCIES

    @get("/", opt=requires(PARTNER_DOMAIN, "read", problems=(404,)))
    async def get_partner_domain(self, partner_domains: PartnerDomainsDep) -> PartnerDomainOut:
        return typed(domain_out(await partner_domains.get()), PartnerDomainOut)

    @put("/", opt=requires(PARTNER_DOMAIN, "update", problems=(409,)))
    async def set_partner_domain(
        self, data: JSONBody[PartnerDomainIn], partner_domains: PartnerDomainsDep
    ) -> PartnerDomainOut:
        """Claim a domain: the answer names the TXT record to publish before `POST …/verify`. The same
        domain again keeps its record; another domain replaces the claim, and a verified domain before it
        stops serving the partner portal at once."""
        return typed(domain_out(await partner_domains.claim(data.domain)), PartnerDomainOut)

    @post("/verify", opt=requires(PARTNER_DOMAIN, "update", problems=(404, 409)), status_code=HTTP_200_OK)
    async def verify_partner_domain(self, partner_domains: PartnerDomainsDep) -> PartnerDomainOut:
        """Look the TXT record up. Found: `status` is `verified` and the domain serves the partner portal;
        else `problem` says what the lookup found (`record_not_found`, `record_mismatch`, `dns_unavailable`)."""
        return typed(domain_out(await partner_domains.verify()), PartnerDomainOut)

    @delete("/", opt=requires(PARTNER_DOMAIN, "update", problems=(404,)), status_code=HTTP_204_NO_CONTENT)
    async def remove_partner_domain(self, partner_domains: PartnerDomainsDep) -> None:
        """Give the domain up: the partner portal is again only at `/p/<workspace>`."""
        await partner_domains.remove()


CONTROLLERS = [PartnerDomainController]
