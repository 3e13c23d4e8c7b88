"""The customer's pages, without an account (apps.service.public): a device's page from its QR label,
`/service/d/{address}`, with the form to open a repair ticket; and the ticket's progress page,
`/service/t/{link}`, where the customer follows it and, once resolved, confirms and rates it. A wrong,
revoked or expired address is "not found" (404). They wear the manufacturer's brand (`public_brand`: its
name and logo, no menu of the portal's), whoever opens them."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Template

from apps.service.public import HONEYPOT, DevicePage, Progress, PublicService
from portal.errors import DomainError, NotFound, Throttled, ValidationFailed
from portal.http.context import sign_in_client
from portal.http.deps import DB, ServicesDep
from portal.i18n import current_language
from portal.permissions import public
from portal.services import Services
from portal.ui.forms import Form
from portal.ui.refusals import field_errors, message_of
from roles.access import policy_of

AnyRequest = Request[Any, Any, Any]
FIELDS = ("symptoms", "contact_name", "contact_phone", "contact_email")
# The customer's pages act for nobody: whoever else is signed in in the same browser (staff scanning a
# label) is not looked up, so they see the page as the customer does.
ANYBODY = {**public(), "anonymous": True}


def _public(services: Services) -> PublicService:
    return PublicService(
        services.accounts.guard, services.settings.secret_key, services.notifications, services.settings.base_url
    )


def _refused(error: DomainError) -> Template:
    headers = {"Retry-After": str(error.retry_after)} if isinstance(error, Throttled) else None
    return Template(
        "service/public/refused.html",
        context={"error": message_of(error), "public_page": True},
        status_code=error.status,
        headers=headers,
    )


def _device(
    service: PublicService, page: DevicePage, form: dict[str, str], errors: dict[str, str], status: int = 200
) -> Template:
    context = {
        "public_brand": page.tenant,
        "page": page,
        "form": form,
        "errors": errors,
        "form_token": service.form_token(page.token),
        "honeypot": HONEYPOT,
    }
    return Template("service/public/device.html", context=context, status_code=status)


@get("/service/d/{address:str}", opt=ANYBODY, include_in_schema=False)
async def device_page(address: FromPath[str], db: DB, services: ServicesDep, request: AnyRequest) -> Template:
    service = _public(services)
    try:
        page = await service.device_page(db, address, sign_in_client(request))
    except DomainError as error:
        return _refused(error)
    return _device(service, page, {}, {})


@post("/service/d/{address:str}", opt=ANYBODY, include_in_schema=False)
async def open_ticket(
    address: FromPath[str], data: Form, db: DB, services: ServicesDep, request: AnyRequest
) -> Template:
    service = _public(services)
    client = sign_in_client(request)
    try:
        page = await service.device_page(db, address, client)
    except DomainError as error:
        return _refused(error)
    form = {k: data.get(k, "") for k in FIELDS}
    try:
        opened = await service.open(db, policy_of(request), page, dict(data), client, current_language())
    except ValidationFailed as error:
        return _device(service, page, form, field_errors(error), status=422)
    except Throttled as error:
        return _refused(error)
    context = {
        "public_brand": page.tenant,
        "page": page,
        "ticket": opened.ticket,
        "link": opened.link,
        "existing": opened.existing,
        "base_url": services.settings.base_url,
    }
    return Template("service/public/opened.html", context=context, status_code=200 if opened.existing else 201)


def _progress_page(progress: Progress, link: str, status: int = 200, **extra: Any) -> Template:
    context = {"public_brand": progress.tenant, "progress": progress, "link": link, "errors": {}, "form": {}, **extra}
    return Template("service/public/progress.html", context=context, status_code=status)


@get("/service/t/{link:str}", opt=ANYBODY, include_in_schema=False)
async def progress_page(link: FromPath[str], db: DB, services: ServicesDep, request: AnyRequest) -> Template:
    try:
        progress = await _public(services).progress(db, link, sign_in_client(request))
    except DomainError as error:
        return _refused(error)
    return _progress_page(progress, link)


@post("/service/t/{link:str}", opt=ANYBODY, include_in_schema=False)
async def confirm(link: FromPath[str], data: Form, db: DB, services: ServicesDep, request: AnyRequest) -> Template:
    """Confirm and rate. The page is shown again from the same unit of work: the link was counted once."""
    service = _public(services)
    form = {"rating": data.get("rating", ""), "comment": data.get("comment", "")}
    try:
        await service.confirm(db, policy_of(request), link, form["rating"], form["comment"], sign_in_client(request))
    except ValidationFailed as error:
        return _progress_page(await service.view(db, link), link, 422, errors=field_errors(error), form=form)
    except (NotFound, Throttled) as error:
        return _refused(error)
    except DomainError as error:  # rated already, or not resolved (yet, or any more)
        return _progress_page(await service.view(db, link), link, error.status, alert=message_of(error))
    return _progress_page(await service.view(db, link), link, thanks=True)


PUBLIC_PAGES = [device_page, open_ticket, progress_page, confirm]
