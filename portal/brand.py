"""A tenant's brand: the colour of its links and buttons, its logo, a text on its partner sign-in page and a
line heading its emails. The partner portal (sign-in pages included) and the console show it in place of the
generic brand.

The colour and the logo reach every page through two addresses of the tenant's partner portal that anyone
may fetch, `/p/<workspace>/brand.css` and `/p/<workspace>/logo`: a stylesheet rather than an inline style
(the pages' Content-Security-Policy allows styles from the site only), and the logo as a stored file of the
public owner `workspace.logo` (portal.storage), checked and re-encoded like every upload.
"""

from __future__ import annotations

import re
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.actor import Actor
from portal.errors import FieldError, ValidationFailed
from portal.i18n import N_
from portal.identity.models import Tenant
from portal.storage.attachments import AttachmentOwner, Attachments
from portal.storage.content import IMAGE_KINDS
from portal.storage.models import Attachment
from portal.storage.uploads import Use

LOGO_OWNER = "workspace.logo"
LOGO_USE = Use("logo", IMAGE_KINDS, 512 * 1024)
COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
SIGN_IN_TEXT_MAX, EMAIL_HEADER_MAX = 500, 200
UNSET = object()


async def _anyone(_db: AsyncSession, _actor: Actor, _owner_id: uuid.UUID) -> bool:
    return True  # a logo is shown on the tenant's public sign-in pages


LOGO = AttachmentOwner(LOGO_OWNER, _anyone, public=True)


async def tenant_of(session: AsyncSession, tenant_id: uuid.UUID) -> Tenant:
    return (await session.scalars(select(Tenant).where(Tenant.id == tenant_id))).one()


def _text(errors: list[FieldError], field: str, value: str | None, limit: int) -> str | None:
    text = (value or "").strip()
    if len(text) > limit:
        errors.append(FieldError(field, N_("must be at most %(max)s characters"), "too_long", {"max": limit}))
    return text or None


async def set_brand(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    *,
    colour: str | object | None = UNSET,
    sign_in_text: str | object | None = UNSET,
    email_header: str | object | None = UNSET,
) -> Tenant:
    """Change the parts given (an empty value clears one); all are checked before any is kept."""
    tenant = await tenant_of(session, tenant_id)
    errors: list[FieldError] = []
    values: dict[str, str | None] = {}
    if colour is not UNSET:
        chosen = (str(colour) if colour else "").strip()
        if chosen and not COLOUR.match(chosen):
            errors.append(FieldError("colour", N_("must be a colour written as #rrggbb"), "invalid"))
        values["brand_colour"] = chosen.lower() or None
    if sign_in_text is not UNSET:
        values["sign_in_text"] = _text(errors, "sign_in_text", sign_in_text, SIGN_IN_TEXT_MAX)  # type: ignore[arg-type]
    if email_header is not UNSET:
        values["email_header"] = _text(errors, "email_header", email_header, EMAIL_HEADER_MAX)  # type: ignore[arg-type]
    if errors:
        raise ValidationFailed(errors)
    for name, value in values.items():
        setattr(tenant, name, value)
    return tenant


async def set_logo(
    session: AsyncSession, attachments: Attachments, actor: Actor, content: bytes, filename: str | None
) -> Tenant:
    """Keep an uploaded image as the logo (checked and re-encoded), in place of the one before."""
    tenant = await tenant_of(session, actor.tenant_id)
    saved = await attachments.save(session, actor, content, filename, LOGO_USE, LOGO_OWNER, tenant.id)
    await _drop_logo(session, attachments, tenant)
    tenant.brand_logo_id = saved.id
    return tenant


async def remove_logo(session: AsyncSession, attachments: Attachments, tenant_id: uuid.UUID) -> Tenant:
    tenant = await tenant_of(session, tenant_id)
    await _drop_logo(session, attachments, tenant)
    tenant.brand_logo_id = None
    return tenant


async def _drop_logo(session: AsyncSession, attachments: Attachments, tenant: Tenant) -> None:
    if tenant.brand_logo_id is not None:
        old = await session.scalar(select(Attachment).where(Attachment.id == tenant.brand_logo_id))
        if old is not None:
            await attachments.delete(session, old)


def brand_css(colour: str | None) -> str:
    """The stylesheet that puts the tenant's colour where the generic blue is (empty without a colour)."""
    if not colour or not COLOUR.match(colour):
        return ""
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    darker = "#" + "".join(f"{int(c * 0.8):02x}" for c in (red, green, blue))
    return f":root {{ --blue: {colour}; --blue-dark: {darker}; }}\n"
