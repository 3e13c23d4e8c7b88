"""What the partner console's pages share: the programme's settings, reading form and filter values,
paging, QR codes, and the `can` template test."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import segno
from jinja2 import pass_context
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from interconnect.models import PartnerTier, PartnerType, Region
from interconnect.programme import Programme
from portal.errors import FieldError, ValidationFailed
from portal.http.deps import CurrentActor
from portal.http.inputs import whole_number
from portal.i18n import N_
from portal.identity.models import Tenant

PARENT_CHOICES = 200  # enterprises offered as a parent in a select


@dataclass(frozen=True, slots=True)
class Settings:
    """The programme's partner types, tiers and regions, with lookups by id for showing names."""

    types: list[PartnerType]
    tiers: list[PartnerTier]
    regions: list[Region]

    @property
    def type_names(self) -> dict[uuid.UUID, str]:
        return {t.id: t.name for t in self.types}

    @property
    def tier_names(self) -> dict[uuid.UUID, str]:
        return {t.id: t.name for t in self.tiers}

    @property
    def region_names(self) -> dict[uuid.UUID, str]:
        return {r.id: r.name for r in self.regions}


async def programme_settings(db: AsyncSession) -> Settings:
    programme = Programme(db)
    return Settings(await programme.list(PartnerType), await programme.list(PartnerTier), await programme.list(Region))


def uuid_or_none(value: str | None) -> uuid.UUID | None:
    """A filter or select value: empty means "any" / "none"; anything unreadable is ignored likewise."""
    if not value or not value.strip():
        return None
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        return None


def form_uuid(data: dict[str, str], name: str, field: str) -> uuid.UUID | None:
    """A select of the form: empty is "none", a value that is not an id is a field error."""
    value = data.get(name, "").strip()
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValidationFailed.single(field, N_("is not known"), "unknown") from None


def required_uuid(data: dict[str, str], name: str) -> uuid.UUID:
    """A select the person must choose in (its first option is an empty "choose…")."""
    value = form_uuid(data, name, name)
    if value is None:
        raise ValidationFailed.single(name, N_("is required"), "required")
    return value


def form_int(data: dict[str, str], name: str) -> int | None:
    value = data.get(name, "").strip()
    if not value:
        return None
    return whole_number(name, value)


def check_all(*checks: Callable[[], object]) -> None:
    """Run every check and report all their field errors at once, not only the first refusal."""
    errors: list[FieldError] = []
    for check in checks:
        try:
            check()
        except ValidationFailed as error:
            errors.extend(error.errors)
    if errors:
        raise ValidationFailed(errors)


def percent(used: int, maximum: int) -> int:
    return 100 if maximum <= 0 else min(100, round(used * 100 / maximum))


def qr_svg(url: str) -> str:
    """An inline SVG QR code (no external image, no script)."""
    return segno.make(url, error="m").svg_inline(scale=4, title=url)


def page_links(page: int, pages: int) -> list[int | None]:
    """Page numbers to link: the first, the last and two either side of the current; None is a gap."""
    shown = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})
    links: list[int | None] = []
    for number in shown:
        if links and number - (links[-1] or 0) > 1:
            links.append(None)
        links.append(number)
    return links


@pass_context
def can(context: Any, obj: str, action: str) -> bool:
    """For templates: whether the signed-in actor holds a permission, so a page does not offer forms the
    actor could not submit. Display only: the guard still decides on every request."""
    request = context.get("request")
    actor = request.scope.get("user") if request is not None else None
    return actor is not None and request.app.state.services.permissions.allows(actor, (obj, action))


async def tenant_slug(db: AsyncSession, actor: CurrentActor) -> str:
    return (await db.scalars(select(Tenant.slug).where(Tenant.id == actor.tenant_id))).one()
