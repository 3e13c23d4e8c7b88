"""Registration pages. The partner portal's /p/<workspace>/agent/registrations registers a deal with live
duplicate hints (the form's script asks .../registrations/hints as one types, the page's JSON twin of the
API's) and lists one's registrations with the protection time left; the console's
/console/agent/registrations shows the conflict queue (each registration beside what it met, to approve,
reject or split), the extension requests, the newest deals across partners and the programme's days.
Both refuse what the API refuses, readably."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from litestar import Router, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from apps.agent.dependencies import PARTNER_DEPENDENCIES, STAFF_DEPENDENCIES, RegistrationsDep
from apps.agent.models import STAGES
from apps.agent.objects import FIELDS, PARTNER_OBJECT, STAFF_OBJECT, STAFF_REGISTRATION
from apps.agent.pages import STAGE_LABELS
from apps.agent.registrations.schemas import HintsOut
from apps.agent.registrations.service import Registrations
from interconnect.pages.workspace import CurrentPortal, PortalContext, partner_portal_router
from portal.db.types import utcnow
from portal.errors import DomainError, FieldError, ValidationFailed
from portal.http.deps import DB, ServicesDep
from portal.i18n import N_, gettext, ngettext
from portal.identity.schemas import typed
from portal.permissions import requires
from portal.ui.forms import Form
from portal.ui.numbers import money
from portal.ui.paging import page_number, paging
from portal.ui.refusals import field_errors, refusal_of

CONSOLE = "/console/agent/registrations"
PAGE_SIZE = 50  # deals across partners, newest first
PORTAL_PAGE = 20  # one's registrations
FORM_FIELDS = ("customer_name", "tax_id", "phone", "email", "contact_name", "amount", "expected_close", "notes")
STATE_LABELS = {
    "conflict": N_("Waiting for the manufacturer (conflict)"),
    "approved": N_("Protected"),
    "expired": N_("Protection ended"),
    "rejected": N_("Rejected"),
}
EXTENSION_LABELS = {"pending": N_("Extension asked"), "approved": N_("Extended"), "rejected": N_("Extension refused")}
KEY_LABELS = {"tax_id": N_("Tax id"), "name": N_("Company name"), "phone": N_("Phone"), "email": N_("Email")}
OUTCOME_LABELS = {"approve": N_("Approve this one"), "reject": N_("Reject"), "split": N_("Split: both proceed")}
DONE = {
    "registered": N_("The deal is registered."),
    "asked": N_("The extension is asked for; the manufacturer decides."),
    "decided": N_("The decision is saved."),
    "saved": N_("The protection days are saved."),
    "staged": N_("The deal's stage is changed."),
}


def state_of(deal: dict[str, Any]) -> str:
    """A registration's state as its page names it: an approved one past its protection has ended."""
    if deal.get("registration") == "approved" and _left(deal) is None:
        return "expired"
    return deal.get("registration") or ""


def _left(deal: dict[str, Any]) -> timedelta | None:
    until = deal.get("protected_until")
    if deal.get("registration") != "approved" or until is None:
        return None
    left = until - utcnow()
    return left if left > timedelta(0) else None


def left_text(deal: dict[str, Any]) -> str:
    left = _left(deal)
    if left is None:
        return "—"
    if left >= timedelta(days=1):
        return ngettext("%(num)s day left", "%(num)s days left", left.days)
    return ngettext("%(num)s hour left", "%(num)s hours left", max(1, int(left.total_seconds() // 3600)))


def labels() -> dict[str, Any]:
    return {
        "state_labels": STATE_LABELS,
        "extension_labels": EXTENSION_LABELS,
        "key_labels": KEY_LABELS,
        "stage_labels": STAGE_LABELS,
        "outcome_labels": OUTCOME_LABELS,
        "state_of": state_of,
        "left_text": left_text,
        "money": money,
    }


def _refusal(error: DomainError) -> str:
    """Why a change was refused, each field named: "Stage: you may not change this field"."""
    if isinstance(error, ValidationFailed):
        names = dict(FIELDS)
        return "; ".join(
            f"{gettext(names[e.field])}: {gettext(e.message, **e.params)}" if e.field in names else gettext(e.message)
            for e in error.errors
        )
    return refusal_of(error)


def _notice(done: str | None) -> str | None:
    return gettext(DONE[done]) if done in DONE else None


# --- the partner portal ---


async def _portal_page(
    registrations: Registrations,
    portal: PortalContext,
    *,
    done: str | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    refusal: str | None = None,
    status_code: int = 200,
    expiring: bool = False,
    page: str | None = None,
) -> Template:
    number = page_number(page)
    rows, total = await registrations.page(PORTAL_PAGE, (number - 1) * PORTAL_PAGE, expiring=expiring)
    return Template(
        "agent/registrations/portal_registrations.html",
        context={
            **portal.frame,
            **labels(),
            # as the field rules show them: a hidden field is absent
            "rows": [registrations.out(d) for d in rows],
            "total": total,
            "paging": paging(
                portal.path("agent/registrations"), {"expiring": "1" if expiring else ""}, number, total, PORTAL_PAGE
            ),
            "expiring": expiring,
            "form": form or {},
            "errors": errors or {},
            "refusal": refusal,
            "notice": _notice(done),
        },
        status_code=status_code,
    )


@get("/agent/registrations", opt=requires(PARTNER_OBJECT, "read"), include_in_schema=False)
async def registrations_page(
    registrations: RegistrationsDep,
    portal: CurrentPortal,
    done: FromQuery[str | None] = None,
    expiring: FromQuery[str | None] = None,
    page: FromQuery[str | None] = None,
) -> Template:
    """`?expiring=1`: only the protections ending within 14 days (the home's to-do links here)."""
    return await _portal_page(registrations, portal, done=done, expiring=bool(expiring), page=page)


@post("/agent/registrations", opt=requires(PARTNER_OBJECT, "create"), include_in_schema=False)
async def register_page(
    data: Form, db: DB, registrations: RegistrationsDep, portal: CurrentPortal
) -> Template | Redirect:
    form = {name: data[name].strip() for name in FORM_FIELDS if isinstance(data.get(name), str)}
    values = {name: value for name, value in form.items() if value}
    values.setdefault("amount", "")
    try:
        async with db.begin_nested():
            await registrations.register(values)
    except ValidationFailed as error:
        return await _portal_page(registrations, portal, form=form, errors=field_errors(error), status_code=422)
    except DomainError as error:
        return await _portal_page(registrations, portal, form=form, refusal=refusal_of(error), status_code=error.status)
    return Redirect(portal.path("agent/registrations?done=registered"))


@get("/agent/registrations/hints", opt=requires(PARTNER_OBJECT, "create"), include_in_schema=False)
async def hints_page(
    registrations: RegistrationsDep,
    services: ServicesDep,
    customer_name: FromQuery[str | None] = None,
    tax_id: FromQuery[str | None] = None,
    phone: FromQuery[str | None] = None,
    email: FromQuery[str | None] = None,
) -> HintsOut:
    """The form's live hints, for the browser's session (the API's twin takes a bearer token)."""
    found = await registrations.hints(
        services.accounts.guard, *(v[:254] if v else None for v in (customer_name, tax_id, phone, email))
    )
    return typed({"hints": found}, HintsOut)


@post("/agent/registrations/{deal_id:uuid}/extension", opt=requires(PARTNER_OBJECT, "update"), include_in_schema=False)
async def extension_page(
    deal_id: FromPath[uuid.UUID], db: DB, registrations: RegistrationsDep, portal: CurrentPortal
) -> Template | Redirect:
    try:
        async with db.begin_nested():
            await registrations.request_extension(deal_id)
    except DomainError as error:
        if error.status == 404:
            raise
        return await _portal_page(registrations, portal, refusal=refusal_of(error), status_code=error.status)
    return Redirect(portal.path("agent/registrations?done=asked"))


# --- the console ---


async def _console_page(
    registrations: Registrations,
    *,
    done: str | None = None,
    errors: dict[str, str] | None = None,
    refusal: str | None = None,
    status_code: int = 200,
    page: str | None = None,
) -> Template:
    number = page_number(page)
    rows, total = await registrations.deals.page(None, PAGE_SIZE, (number - 1) * PAGE_SIZE)
    pending = await registrations.pending_extensions()
    settings = await registrations.settings()
    deals = registrations.deals
    # the stages the person may move a deal to: every one where their role may change the field
    may_move = deals.policy.allows(deals.actor, (STAFF_OBJECT, "update")) and deals.field_rules().get("stage") is None
    return Template(
        "agent/registrations/console_registrations.html",
        context={
            **labels(),
            "queue": await registrations.conflicts(),
            "extensions": [registrations.out(d) for d in pending],
            "rows": [registrations.out(d) for d in rows],
            "total": total,
            "paging": paging(CONSOLE, {}, number, total, PAGE_SIZE),
            "names": await registrations.enterprise_names([*rows, *pending]),
            "settings": {"protection_days": settings.protection_days, "extension_days": settings.extension_days},
            "stages": STAGES if may_move else (),
            "errors": errors or {},
            "refusal": refusal,
            "notice": _notice(done),
        },
        status_code=status_code,
    )


async def _refused(registrations: Registrations, error: DomainError, refusal: str | None = None, **kw: Any) -> Template:
    """A console change refused: the page again with why, for who may read it; anyone else (who may move
    a deal's stage, say, but not open this page of conflicts and extensions) gets the plain error page,
    showing nothing of the page."""
    deals = registrations.deals
    if not deals.policy.allows(deals.actor, (STAFF_REGISTRATION, "read")):
        raise error
    return await _console_page(registrations, refusal=refusal, status_code=error.status, **kw)


@get(CONSOLE, opt=requires(STAFF_REGISTRATION, "read"), include_in_schema=False)
async def console_page(
    registrations: RegistrationsDep, done: FromQuery[str | None] = None, page: FromQuery[str | None] = None
) -> Template:
    return await _console_page(registrations, done=done, page=page)


@post(f"{CONSOLE}/{{deal_id:uuid}}/decision", opt=requires(STAFF_REGISTRATION, "decide"), include_in_schema=False)
async def decide_page(
    deal_id: FromPath[uuid.UUID], data: Form, db: DB, registrations: RegistrationsDep
) -> Template | Redirect:
    try:
        async with db.begin_nested():
            await registrations.decide(deal_id, str(data.get("outcome") or ""))
    except DomainError as error:
        if error.status == 404:
            raise
        return await _refused(registrations, error, refusal_of(error))
    return Redirect(f"{CONSOLE}?done=decided")


def _extension_decision(approve: bool) -> Any:
    @post(
        f"{CONSOLE}/{{deal_id:uuid}}/extension/{'approve' if approve else 'reject'}",
        opt=requires(STAFF_REGISTRATION, "decide"),
        include_in_schema=False,
        name=f"registration-extension-{approve}",
    )
    async def handler(deal_id: FromPath[uuid.UUID], db: DB, registrations: RegistrationsDep) -> Template | Redirect:
        try:
            async with db.begin_nested():
                await registrations.decide_extension(deal_id, approve)
        except DomainError as error:
            if error.status == 404:
                raise
            return await _refused(registrations, error, refusal_of(error))
        return Redirect(f"{CONSOLE}?done=decided")

    return handler


@post(f"{CONSOLE}/deals/{{deal_id:uuid}}/stage", opt=requires(STAFF_OBJECT, "update"), include_in_schema=False)
async def stage_page(
    deal_id: FromPath[uuid.UUID], data: Form, db: DB, registrations: RegistrationsDep
) -> Template | Redirect:
    """Move a deal to another stage, as the API's PATCH does: the field rules decide who may (a stage the
    person may not set is refused, naming the field); a deal becoming won earns its commission."""
    try:
        async with db.begin_nested():
            await registrations.deals.update(deal_id, {"stage": str(data.get("stage") or "")})
    except DomainError as error:
        if error.status == 404:
            raise
        return await _refused(registrations, error, _refusal(error))
    return Redirect(f"{CONSOLE}?done=staged")


@post(f"{CONSOLE}/settings", opt=requires(STAFF_REGISTRATION, "update"), include_in_schema=False)
async def settings_page(data: Form, db: DB, registrations: RegistrationsDep) -> Template | Redirect:
    numbers: dict[str, int] = {}
    errors: dict[str, str] = {}
    for name in ("protection_days", "extension_days"):
        text = str(data.get(name) or "").strip()
        if not text.isdigit() or len(text) > 6:
            errors[name] = gettext("must be a whole number")
        else:
            numbers[name] = int(text)
    try:
        if errors:
            raise ValidationFailed([])
        async with db.begin_nested():
            await registrations.save_settings(numbers["protection_days"], numbers["extension_days"])
    except ValidationFailed as error:
        refused = ValidationFailed([FieldError(n, N_("must be a whole number")) for n in errors]) if errors else error
        return await _refused(registrations, refused, errors=errors or field_errors(error))
    return Redirect(f"{CONSOLE}?done=saved")


REGISTRATION_PAGES: list[Any] = [
    Router(
        path="/",
        route_handlers=[
            console_page,
            decide_page,
            _extension_decision(True),
            _extension_decision(False),
            stage_page,
            settings_page,
        ],
        dependencies=STAFF_DEPENDENCIES,
    ),
    partner_portal_router(
        [registrations_page, register_page, hints_page, extension_page], dependencies=PARTNER_DEPENDENCIES
    ),
]
