"""The brand's pages and API: the console settings page's brand forms (colour, partner sign-in text, email
header, logo), `PUT`/`DELETE /api/workspace/logo`, and the two public addresses every page links to,
`/p/<workspace>/brand.css` and `/p/<workspace>/logo` (portal.brand)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Response, delete, get, post, put
from litestar.datastructures import UploadFile
from litestar.params import MultipartBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK

from interconnect.pages.workspace import CurrentPortal, partner_portal_router
from portal.brand import brand_css, remove_logo, set_brand, set_logo, tenant_of
from portal.db.context import tenant_context
from portal.db.tenancy import within
from portal.errors import NotFound, ValidationFailed
from portal.http.deps import DB, CurrentActor, ServicesDep
from portal.identity.schemas import TenantOut
from portal.permissions import public, requires
from portal.storage.serving import attachment_response
from portal.storage.uploads import UPLOAD_BODY_LIMIT, read_upload
from portal.ui.forms import Form
from portal.ui.refusals import field_errors
from web.views import settings_page

SETTINGS = "/console/settings"
DEFAULT_LOGO = "/static/img/logo.svg"


@dataclass
class LogoFile:
    file: UploadFile | None = None  # optional, so that a missing file is a field error


async def _settings(db: DB, actor: CurrentActor, **values: Any) -> Template:
    return settings_page(await tenant_of(db, actor.tenant_id), **values)


@post(f"{SETTINGS}/brand", opt=requires("workspace", "update"), include_in_schema=False)
async def save_brand_page(data: Form, db: DB, actor: CurrentActor) -> Template | Redirect:
    brand = {name: data.get(name, "") for name in ("colour", "sign_in_text", "email_header")}
    try:
        async with db.begin_nested():
            await set_brand(db, actor.tenant_id, **brand)
    except ValidationFailed as error:
        return await _settings(db, actor, brand_form=brand, brand_errors=field_errors(error), status_code=422)
    return Redirect(f"{SETTINGS}?saved=1#brand")


@post(
    f"{SETTINGS}/logo",
    opt=requires("workspace", "update"),
    include_in_schema=False,
    request_max_body_size=UPLOAD_BODY_LIMIT,
)
async def upload_logo_page(
    data: MultipartBody[LogoFile], db: DB, actor: CurrentActor, services: ServicesDep
) -> Template | Redirect:
    try:
        content, name = await read_upload(data.file if data.file and data.file.filename else None)
        async with db.begin_nested():
            await set_logo(db, services.attachments, actor, content, name)
    except ValidationFailed as error:
        return await _settings(db, actor, brand_errors=field_errors(error), status_code=422)
    return Redirect(f"{SETTINGS}?saved=1#brand")


@post(f"{SETTINGS}/logo/delete", opt=requires("workspace", "update"), include_in_schema=False)
async def remove_logo_page(db: DB, actor: CurrentActor, services: ServicesDep) -> Redirect:
    await remove_logo(db, services.attachments, actor.tenant_id)
    return Redirect(f"{SETTINGS}?saved=1#brand")


@put(
    "/api/workspace/logo",
    opt=requires("workspace", "update"),
    request_max_body_size=UPLOAD_BODY_LIMIT,
    tags=["workspace"],
    status_code=HTTP_200_OK,
)
async def put_logo(data: MultipartBody[LogoFile], db: DB, actor: CurrentActor, services: ServicesDep) -> TenantOut:
    """Upload the logo (JPEG, PNG or WebP, at most 512 KB) as multipart field `file`; it replaces the one
    before. It is checked by content and re-encoded like every upload."""
    content, name = await read_upload(data.file)
    return TenantOut.of(await set_logo(db, services.attachments, actor, content, name))


@delete("/api/workspace/logo", opt=requires("workspace", "update"), tags=["workspace"], status_code=HTTP_200_OK)
async def delete_logo(db: DB, actor: CurrentActor, services: ServicesDep) -> TenantOut:
    """Go back to the generic logo."""
    return TenantOut.of(await remove_logo(db, services.attachments, actor.tenant_id))


# Public: every page links these, the sign-in pages before anyone signs in.
# `private`: the answer may carry the visitor's own cookies (the CSRF cookie), so no shared cache keeps it
CACHED = {"Cache-Control": "private, max-age=300"}


@get("/brand.css", opt=public(), media_type="text/css")
async def brand_stylesheet(db: DB, portal: CurrentPortal) -> Response[str]:
    async with within(db, tenant_context(portal.workspace.tenant_id, channel="system")):
        tenant = await tenant_of(db, portal.workspace.tenant_id)
        return Response(brand_css(tenant.brand_colour), media_type="text/css", headers=CACHED)


@get("/logo", opt=public())
async def brand_logo(db: DB, portal: CurrentPortal, services: ServicesDep) -> Response[Any]:
    """The tenant's logo, or a redirect to the generic one (one annotation: Litestar renders a union of
    response classes as data)."""
    async with within(db, tenant_context(portal.workspace.tenant_id, channel="system")):
        tenant = await tenant_of(db, portal.workspace.tenant_id)
        if tenant.brand_logo_id is None:
            return Redirect(DEFAULT_LOGO)
        try:
            opened = await services.attachments.open_public(db, tenant.brand_logo_id)
        except NotFound:
            return Redirect(DEFAULT_LOGO)
    response = attachment_response(opened)
    response.headers.update(CACHED)
    # the uploaded file's own name is the uploader's business, not every visitor's
    response.headers["Content-Disposition"] = f'inline; filename="logo{_extension(opened.attachment.name)}"'
    return response


def _extension(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:] if dot > 0 and name[dot + 1 :].isalnum() else ""


PAGES = [
    save_brand_page,
    upload_logo_page,
    remove_logo_page,
    put_logo,
    delete_logo,
    partner_portal_router([brand_stylesheet, brand_logo], public=True),
]
