"""The console's page of the partner domain (/console/channels/domain): the domain asked for, the TXT record
that proves it, the check, and giving it up. It calls the service the API calls."""

from __future__ import annotations

from typing import Any

from litestar import Router, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from channels.domains.dependencies import DEPENDENCIES, PartnerDomainsDep
from channels.domains.objects import PARTNER_DOMAIN
from channels.domains.service import DNS_UNAVAILABLE, RECORD_MISMATCH, RECORD_NOT_FOUND, PartnerDomains, domain_out
from portal.errors import Conflict, NotFound, ValidationFailed
from portal.http.deps import ServicesDep
from portal.i18n import N_
from portal.permissions import requires
from portal.services import Services
from portal.ui.forms import Form
from portal.ui.refusals import field_errors, message_of

PATH = "/console/channels/domain"
NOTICES = {
    "saved": N_("Publish the TXT record below, then check it."),
    "verified": N_("The domain is verified: your partner portal is now served at it."),
    "removed": N_("The partner domain was removed."),
}
PROBLEMS = {
    RECORD_NOT_FOUND: N_("No TXT record was found at that name. DNS changes can take a while to be seen."),
    RECORD_MISMATCH: N_("A TXT record was found at that name, but not with this value."),
    DNS_UNAVAILABLE: N_("DNS did not answer. Try again in a moment."),
}
STATUSES = {"pending": N_("Waiting for the record"), "verified": N_("Verified"), "expired": N_("Expired")}


async def _page(
    partner_domains: PartnerDomains,
    services: Services,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    alert: str | None = None,
    status_code: int = 200,
) -> Template:
    claim = await partner_domains.find()
    shown = None if claim is None else domain_out(claim)
    return Template(
        "channels/console/domain.html",
        context={
            "claim": shown,
            "form": form or ({"domain": shown["domain"]} if shown else {}),
            "errors": errors or {},
            "notice": NOTICES.get(notice or ""),
            "alert": alert,
            "problem": PROBLEMS.get(shown["problem"] or "") if shown else None,
            "statuses": STATUSES,
            "scheme": "https" if services.settings.secure_cookies else "http",
        },
        status_code=status_code,
    )


@get(PATH, opt=requires(PARTNER_DOMAIN, "read"), include_in_schema=False)
async def domain_page(
    partner_domains: PartnerDomainsDep, services: ServicesDep, done: FromQuery[str | None] = None
) -> Template:
    return await _page(partner_domains, services, notice=done)


@post(PATH, opt=requires(PARTNER_DOMAIN, "update"), include_in_schema=False)
async def claim_domain_page(
    data: Form, partner_domains: PartnerDomainsDep, services: ServicesDep
) -> Template | Redirect:
    form = {"domain": data.get("domain", "")}
    try:
        await partner_domains.claim(form["domain"])
    except ValidationFailed as error:
        return await _page(partner_domains, services, form=form, errors=field_errors(error), status_code=422)
    except Conflict as error:
        return await _page(partner_domains, services, form=form, alert=message_of(error), status_code=409)
    return Redirect(f"{PATH}?done=saved")


@post(f"{PATH}/verify", opt=requires(PARTNER_DOMAIN, "update"), include_in_schema=False)
async def verify_domain_page(partner_domains: PartnerDomainsDep, services: ServicesDep) -> Template | Redirect:
    try:
        claim = await partner_domains.verify()
    except (Conflict, NotFound) as error:
        return await _page(partner_domains, services, alert=message_of(error), status_code=error.status)
    return Redirect(f"{PATH}?done={'verified' if claim.verified_at else 'checked'}")


@post(f"{PATH}/delete", opt=requires(PARTNER_DOMAIN, "update"), include_in_schema=False)
async def remove_domain_page(partner_domains: PartnerDomainsDep, services: ServicesDep) -> Template | Redirect:
    try:
        await partner_domains.remove()
    except NotFound as error:
        return await _page(partner_domains, services, alert=message_of(error), status_code=404)
    return Redirect(f"{PATH}?done=removed")


PAGES: list[Any] = [
    Router(
        path="/",
        route_handlers=[domain_page, claim_domain_page, verify_domain_page, remove_domain_page],
        dependencies=DEPENDENCIES,
    )
]
