"""Resetting a forgotten staff password: the console's sign-in page links to "forgot password"; the
answer is the same whether the login exists or not; the link arrives by email and sets a new password."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.background_tasks import BackgroundTask
from litestar.params import FromPath
from litestar.response import Template

from portal.errors import DomainError, Gone, NotFound, Throttled, ValidationFailed
from portal.http.context import sign_in_client
from portal.http.deps import DB, ServicesDep
from portal.permissions import public
from portal.ui.forms import Form
from portal.ui.refusals import field_errors, message_of


@get("/login/forgot", opt=public(), include_in_schema=False)
async def forgot_form(services: ServicesDep) -> Template:
    return Template(
        "forgot.html", context={"form": {}, "sent": False, "error": None, "channels": services.notifications.channels}
    )


@post("/login/forgot", opt=public(), include_in_schema=False)
async def forgot(data: Form, db: DB, services: ServicesDep, request: Request[Any, Any, Any]) -> Template:
    form = {k: data.get(k, "").strip() for k in ("workspace", "email")}
    context: dict[str, Any] = {"form": form, "sent": False, "error": None, "channels": services.notifications.channels}
    try:
        target = await services.staff_resets.ask(db, form["workspace"], form["email"], sign_in_client(request))
    except Throttled as error:
        context["error"] = message_of(error)
        return Template(
            "forgot.html", context=context, status_code=429, headers={"Retry-After": str(error.retry_after)}
        )
    context["sent"] = True
    # the link is made and sent after the answer, which so takes the same time for any login
    background = None if target is None else BackgroundTask(services.staff_resets.send, target)
    return Template("forgot.html", context=context, background=background)


def _refused(error: DomainError) -> Template:
    headers = {"Retry-After": str(error.retry_after)} if isinstance(error, Throttled) else None
    return Template(
        "reset.html", context={"error": message_of(error), "token": None}, status_code=error.status, headers=headers
    )


@get("/reset/{token:str}", opt=public(), include_in_schema=False)
async def reset_form(token: FromPath[str], db: DB, services: ServicesDep, request: Request[Any, Any, Any]) -> Template:
    try:
        tenant = await services.staff_resets.check(db, token, sign_in_client(request))
    except (NotFound, Gone, Throttled) as error:
        return _refused(error)
    return Template("reset.html", context={"token": token, "workspace": tenant.name, "errors": {}, "error": None})


@post("/reset/{token:str}", opt=public(), include_in_schema=False)
async def reset(
    token: FromPath[str], data: Form, db: DB, services: ServicesDep, request: Request[Any, Any, Any]
) -> Template:
    client = sign_in_client(request)
    try:
        tenant = await services.staff_resets.complete(db, token, data.get("password", ""), client)
    except ValidationFailed as error:
        tenant = await services.staff_resets.check(db, token, client)
        return Template(
            "reset.html",
            context={"token": token, "workspace": tenant.name, "errors": field_errors(error), "error": None},
            status_code=422,
        )
    except (NotFound, Gone, Throttled) as error:
        return _refused(error)
    return Template("reset.html", context={"done": True, "slug": tenant.slug, "token": None, "error": None})


PAGES = [forgot_form, forgot, reset_form, reset]
