"""Console pages for the programme's settings: partner types, tiers and regions (list, add, rename,
activate)."""

from __future__ import annotations

import uuid

from litestar import get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from interconnect.dependencies import ProgrammeDep
from interconnect.models import PartnerTier, PartnerType, Region
from interconnect.pages.programme_settings import programme_settings
from interconnect.programme import Programme
from portal.errors import Conflict, ValidationFailed
from portal.http.deps import DB
from portal.permissions import requires
from portal.ui.forms import Form, form_int
from portal.ui.refusals import field_errors, message_of


async def _programme_page(
    programme: Programme,
    *,
    forms: dict[str, dict[str, str]] | None = None,
    errors: dict[str, dict[str, str]] | None = None,
    status_code: int = 200,
) -> Template:
    return Template(
        "console/partners/programme.html",
        context={
            "settings": await programme_settings(programme),
            "forms": forms or {},
            "errors": errors or {},
            "section": "programme",
        },
        status_code=status_code,
    )


@get("/console/partners/programme", opt=requires("interconnect.programme", "read"), include_in_schema=False)
async def programme_page(programme: ProgrammeDep) -> Template:
    return await _programme_page(programme)


async def _add_setting(db: AsyncSession, programme: Programme, kind: str, data: dict[str, str]) -> Template | Redirect:
    model: type[PartnerType | PartnerTier | Region] = {"type": PartnerType, "tier": PartnerTier, "region": Region}[kind]
    form = {k: data.get(k, "") for k in ("code", "name", "rank")}
    try:
        async with db.begin_nested():
            rank = form_int(data, "rank") if kind == "tier" else None
            await programme.create(model, form["code"], form["name"], rank or 0)
    except ValidationFailed as error:
        return await _programme_page(programme, forms={kind: form}, errors={kind: field_errors(error)}, status_code=422)
    except Conflict as error:
        return await _programme_page(
            programme, forms={kind: form}, errors={kind: {"code": message_of(error)}}, status_code=error.status
        )
    return Redirect(f"/console/partners/programme#{kind}s")


@post("/console/partners/programme/types", opt=requires("interconnect.programme", "update"), include_in_schema=False)
async def add_partner_type(data: Form, db: DB, programme: ProgrammeDep) -> Template | Redirect:
    return await _add_setting(db, programme, "type", data)


@post("/console/partners/programme/tiers", opt=requires("interconnect.programme", "update"), include_in_schema=False)
async def add_tier(data: Form, db: DB, programme: ProgrammeDep) -> Template | Redirect:
    return await _add_setting(db, programme, "tier", data)


@post("/console/partners/programme/regions", opt=requires("interconnect.programme", "update"), include_in_schema=False)
async def add_region(data: Form, db: DB, programme: ProgrammeDep) -> Template | Redirect:
    return await _add_setting(db, programme, "region", data)


@post(
    "/console/partners/programme/types/{partner_type_id:uuid}",
    opt=requires("interconnect.programme", "update"),
    include_in_schema=False,
)
async def update_partner_type(
    partner_type_id: FromPath[uuid.UUID], data: Form, db: DB, programme: ProgrammeDep
) -> Template | Redirect:
    """Rename (a `name` field) or activate / deactivate (an `active` field of "1" or "0")."""
    active = {"1": True, "0": False}.get(data.get("active", ""))
    name = data.get("name")
    try:
        async with db.begin_nested():
            await programme.update(PartnerType, partner_type_id, name=name, active=active)
    except ValidationFailed as error:
        errors = {"rename": field_errors(error) | {"id": str(partner_type_id)}}
        return await _programme_page(programme, errors=errors, status_code=422)
    return Redirect("/console/partners/programme#types")


@post(
    "/console/partners/programme/tiers/{tier_id:uuid}",
    opt=requires("interconnect.programme", "update"),
    include_in_schema=False,
)
async def update_tier(tier_id: FromPath[uuid.UUID], data: Form, db: DB, programme: ProgrammeDep) -> Template | Redirect:
    """Rename a tier and, optionally, change its rank."""
    try:
        async with db.begin_nested():
            await programme.update(PartnerTier, tier_id, name=data.get("name", ""), rank=form_int(data, "rank"))
    except ValidationFailed as error:
        errors = {"rename": field_errors(error) | {"id": str(tier_id)}}
        return await _programme_page(programme, errors=errors, status_code=422)
    return Redirect("/console/partners/programme#tiers")
