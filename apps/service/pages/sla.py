"""The console's page of the tenant's service levels: the warning share and each priority and type's
targets in business minutes, changed through apps.service.sla.policy (the API's checks, each message
beside its input)."""

from __future__ import annotations

from typing import Any

from litestar import get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from apps.service.objects import TICKET
from apps.service.pages.shared import page_helpers, text
from apps.service.sla import policy
from portal.errors import FieldError, ValidationFailed
from portal.http.deps import DB
from portal.i18n import N_
from portal.permissions import requires
from portal.ui.forms import Form
from portal.ui.refusals import field_errors

SLA = "/console/service/sla"
# every priority and type, in one fixed order: row i of the form is targets[i]
ROWS = [(priority, kind) for priority, kind, _r, _s in policy.default_targets()]


def _form_of(levels: policy.Levels) -> dict[str, str]:
    form = {"warning_percent": str(levels.warning_percent)}
    for t in levels.targets:
        form[f"{t.priority}.{t.type}.response"] = str(t.response_minutes)
        form[f"{t.priority}.{t.type}.resolution"] = str(t.resolution_minutes)
    return form


async def _page(
    db: AsyncSession,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    *,
    saved: bool = False,
    status_code: int = 200,
) -> Template:
    return Template(
        "service/console/sla.html",
        context={
            **page_helpers(),
            "form": form if form is not None else _form_of(await policy.levels(db)),
            "errors": errors or {},
            "rows": ROWS,
            "saved": saved,
            "section": "sla",
        },
        status_code=status_code,
    )


@get(SLA, opt=requires(TICKET, "read"), include_in_schema=False)
async def sla_page(db: DB, saved: FromQuery[str | None] = None) -> Template:
    return await _page(db, saved=bool(saved))


def _whole(errors: list[FieldError], field: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        errors.append(FieldError(field, N_("must be a whole number"), "invalid"))
        return 0


@post(SLA, opt=requires("workspace", "update"), include_in_schema=False)
async def save_sla_page(data: Form, db: DB) -> Template | Redirect:
    names = ["warning_percent", *(f"{p}.{k}.{w}" for p, k in ROWS for w in ("response", "resolution"))]
    form = {name: text(data, name) for name in names}
    problems: list[FieldError] = []
    percent = _whole(problems, "warning_percent", form["warning_percent"])
    targets = [
        policy.TargetEntry(
            p,
            k,
            _whole(problems, f"targets[{i}].response_minutes", form[f"{p}.{k}.response"]),
            _whole(problems, f"targets[{i}].resolution_minutes", form[f"{p}.{k}.resolution"]),
        )
        for i, (p, k) in enumerate(ROWS)
    ]
    wanted = policy.Levels(percent, targets)
    # a word where a number belongs, and the range checks of the others, shown together
    checked = {e.field for e in problems}
    problems += [e for e in policy.mistakes(wanted) if e.field not in checked]
    try:
        if problems:
            raise ValidationFailed(problems)
        async with db.begin_nested():
            await policy.replace(db, wanted)
    except ValidationFailed as error:
        return await _page(db, form, field_errors(error), status_code=422)
    return Redirect(f"{SLA}?saved=1")


SLA_PAGES: list[Any] = [sla_page, save_sla_page]
