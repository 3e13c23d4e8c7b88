"""The console's page of the WeChat mini-program (/console/channels/wechat): what it is registered with, the
form to register or change it (the secret write-only), and the address the mini-program signs partners in at.
It calls the service the API calls."""

from __future__ import annotations

from typing import Any

from litestar import Router, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from channels.wechat.dependencies import DEPENDENCIES, MiniProgramsDep
from channels.wechat.objects import MINI_PROGRAM
from channels.wechat.registration import MiniPrograms, program_out
from channels.wechat.service import WeChat
from portal.errors import ValidationFailed
from portal.http.deps import ServicesDep
from portal.i18n import N_
from portal.permissions import requires
from portal.services import Services
from portal.ui.forms import MultiForm, form_value
from portal.ui.refusals import field_errors

PATH = "/console/channels/wechat"
NOTICES = {"saved": N_("The mini-program was saved.")}


async def _page(
    mini_programs: MiniPrograms,
    services: Services,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Template:
    program = await mini_programs.find()
    shown = None if program is None else program_out(program)
    wechat: WeChat = services.extensions["wechat"]
    return Template(
        "channels/console/wechat.html",
        context={
            "program": shown,
            "form": form or (shown or {"status": "active"}),
            "errors": errors or {},
            "notice": NOTICES.get(notice or ""),
            "sign_in_url": wechat.sign_in_url(services.settings.base_url, mini_programs.actor.tenant_slug),
            "linked_accounts": await mini_programs.linked_accounts() if program else 0,
        },
        status_code=status_code,
    )


@get(PATH, opt=requires(MINI_PROGRAM, "read"), include_in_schema=False)
async def mini_program_page(
    mini_programs: MiniProgramsDep, services: ServicesDep, done: FromQuery[str | None] = None
) -> Template:
    return await _page(mini_programs, services, notice=done)


@post(PATH, opt=requires(MINI_PROGRAM, "update"), include_in_schema=False)
async def save_mini_program_page(
    data: MultiForm, mini_programs: MiniProgramsDep, services: ServicesDep
) -> Template | Redirect:
    form = {
        "app_id": form_value(data, "app_id").strip(),
        "secret": form_value(data, "secret").strip(),
        "status": "active" if form_value(data, "active") else "disabled",
    }
    try:
        await mini_programs.save(form)
    except ValidationFailed as error:
        # the secret typed is never sent back to the browser
        shown = {**form, "secret": ""}
        return await _page(mini_programs, services, form=shown, errors=field_errors(error), status_code=422)
    return Redirect(f"{PATH}?done=saved")


PAGES: list[Any] = [
    Router(path="/", route_handlers=[mini_program_page, save_mini_program_page], dependencies=DEPENDENCIES)
]
