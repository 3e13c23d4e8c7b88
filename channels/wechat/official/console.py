"""The console's page of the WeChat official account (/console/channels/wechat/official-account): what it is
registered with, the form to register or change it (the secret write-only), and what to enter in WeChat's admin
console. It calls the service the API calls."""

from __future__ import annotations

from typing import Any

from litestar import Router, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from channels.wechat.dependencies import DEPENDENCIES, OfficialAccountsDep
from channels.wechat.objects import MINI_PROGRAM
from channels.wechat.official.controllers import addresses
from channels.wechat.registration import OfficialAccounts, program_out
from channels.wechat.templates import TemplateSettings, parse_fields
from portal.errors import ValidationFailed
from portal.http.deps import ServicesDep
from portal.i18n import N_
from portal.permissions import requires
from portal.services import Services
from portal.ui.forms import MultiForm, form_value
from portal.ui.refusals import field_errors

PATH = "/console/channels/wechat/official-account"
NOTICES = {
    "saved": N_("The official account was saved."),
    "template-saved": N_("The template message was saved."),
    "template-removed": N_("That kind is no longer sent on WeChat."),
}


async def _page(
    accounts: OfficialAccounts,
    services: Services,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
    template_kind: str | None = None,
    template_form: dict[str, str] | None = None,
    template_errors: dict[str, str] | None = None,
) -> Template:
    account = await accounts.find()
    templates = TemplateSettings(accounts.session, accounts.actor, services.notifications)
    shown = None if account is None else program_out(account)
    return Template(
        "channels/console/official_account.html",
        context={
            "account": shown,
            "form": form or (shown or {"status": "active"}),
            "errors": errors or {},
            "notice": None if (notice or "").startswith("template") else NOTICES.get(notice or ""),
            **addresses(services, accounts.actor.tenant_slug),
            "linked_accounts": await accounts.linked_accounts(),
            "templates": await templates.list(),
            "template_notice": NOTICES.get(notice or "") if (notice or "").startswith("template") else None,
            "template_kind": template_kind,
            "template_form": template_form or {},
            "template_errors": template_errors or {},
        },
        status_code=status_code,
    )


@get(PATH, opt=requires(MINI_PROGRAM, "read"), include_in_schema=False)
async def official_account_page(
    official_accounts: OfficialAccountsDep, services: ServicesDep, done: FromQuery[str | None] = None
) -> Template:
    return await _page(official_accounts, services, notice=done)


@post(PATH, opt=requires(MINI_PROGRAM, "update"), include_in_schema=False)
async def save_official_account_page(
    data: MultiForm, official_accounts: OfficialAccountsDep, services: ServicesDep
) -> Template | Redirect:
    form = {
        "app_id": form_value(data, "app_id").strip(),
        "secret": form_value(data, "secret").strip(),
        "status": "active" if form_value(data, "active") else "disabled",
    }
    try:
        await official_accounts.save(form)
    except ValidationFailed as error:
        # the secret typed is never sent back to the browser
        shown = {**form, "secret": ""}
        return await _page(official_accounts, services, form=shown, errors=field_errors(error), status_code=422)
    return Redirect(f"{PATH}?done=saved")


@post(PATH + "/templates/{kind:str}", opt=requires(MINI_PROGRAM, "update"), include_in_schema=False)
async def save_template_page(
    kind: FromPath[str], data: MultiForm, official_accounts: OfficialAccountsDep, services: ServicesDep
) -> Template | Redirect:
    form = {"template_id": form_value(data, "template_id").strip(), "fields": form_value(data, "fields")}
    templates = TemplateSettings(official_accounts.session, official_accounts.actor, services.notifications)
    if not form["template_id"]:
        await templates.remove(kind)
        return Redirect(f"{PATH}?done=template-removed#templates")
    try:
        await templates.save(kind, form["template_id"], parse_fields(form["fields"]))
    except ValidationFailed as error:
        return await _page(
            official_accounts,
            services,
            status_code=422,
            template_kind=kind,
            template_form=form,
            template_errors=field_errors(error),
        )
    return Redirect(f"{PATH}?done=template-saved#template-{kind}")


PAGES: list[Any] = [
    Router(
        path="/",
        route_handlers=[official_account_page, save_official_account_page, save_template_page],
        dependencies=DEPENDENCIES,
    )
]
