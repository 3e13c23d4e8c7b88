"""A partner enterprise's address book: the ship-to addresses its people keep in the portal, one of them
the default that checkout preselects. Every read is held to one enterprise, so another enterprise's
address is simply not found. Orders copy an address (`ship_to_text`), so editing or deleting it
changes no order placed before."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.ordering.models import Address
from portal.errors import FieldError, NotFound, ValidationFailed
from portal.i18n import N_

MAX_ADDRESSES = 100
# The fields a person fills in, with their lengths (the columns'); all are required.
FIELDS = {"label": 100, "recipient": 100, "phone": 40, "address": 300}


def ship_to_text(address: Address) -> str:
    """The copy an order keeps: who receives it and how to call them, then where."""
    return f"{address.recipient}, {address.phone}\n{address.address}"


def address_out(address: Address) -> dict[str, Any]:
    return {
        "id": address.id,
        "label": address.label,
        "recipient": address.recipient,
        "phone": address.phone,
        "address": address.address,
        "is_default": address.is_default,
        "created_at": address.created_at,
        "updated_at": address.updated_at,
    }


def _cleaned(values: Mapping[str, Any], *, partial: bool) -> dict[str, str]:
    """Trimmed values held to their lengths; every field is required unless `partial` (then only the
    ones given are checked)."""
    errors: list[FieldError] = []
    found: dict[str, str] = {}
    for name, limit in FIELDS.items():
        if partial and name not in values:
            continue
        value = str(values.get(name) or "").strip()
        if not value:
            errors.append(FieldError(name, N_("is required"), "required"))
        elif len(value) > limit:
            errors.append(FieldError(name, N_("may be at most %(max)s characters"), "too_long", {"max": limit}))
        found[name] = value
    if errors:
        raise ValidationFailed(errors)
    return found


class AddressBook:
    """The addresses of one enterprise."""

    def __init__(self, session: AsyncSession, enterprise_id: uuid.UUID) -> None:
        self.session = session
        self.enterprise_id = enterprise_id

    def query(self) -> Select[tuple[Address]]:
        return select(Address).where(Address.enterprise_id == self.enterprise_id)

    async def list(self) -> list[Address]:
        """The default first, then by label."""
        return list(
            await self.session.scalars(self.query().order_by(Address.is_default.desc(), Address.label, Address.id))
        )

    async def get(self, address_id: uuid.UUID) -> Address:
        address = await self.session.scalar(self.query().where(Address.id == address_id))
        if address is None:
            raise NotFound(N_("No such address"))
        return address

    async def default(self) -> Address | None:
        return await self.session.scalar(self.query().where(Address.is_default.is_(True)))

    async def create(self, values: Mapping[str, Any], *, make_default: bool = False) -> Address:
        """A new address; the enterprise's first one is its default."""
        cleaned = _cleaned(values, partial=False)
        count = await self.session.scalar(select(func.count()).select_from(self.query().subquery())) or 0
        if count >= MAX_ADDRESSES:
            raise ValidationFailed.single(
                "address", N_("An address book holds at most %(max)s addresses"), "too_many", max=MAX_ADDRESSES
            )
        address = Address(enterprise_id=self.enterprise_id, is_default=False, **cleaned)
        self.session.add(address)
        await self.session.flush()
        if make_default or count == 0:
            await self.make_default(address)
        return address

    async def update(self, address_id: uuid.UUID, values: Mapping[str, Any], *, make_default: bool = False) -> Address:
        address = await self.get(address_id)
        for name, value in _cleaned(values, partial=True).items():
            setattr(address, name, value)
        await self.session.flush()
        if make_default:
            await self.make_default(address)
        return address

    async def make_default(self, address: Address) -> None:
        # the old default gives way in a flush of its own: one default per enterprise is a unique index
        current = await self.default()
        if current is not None and current.id != address.id:
            current.is_default = False
            await self.session.flush()
        address.is_default = True
        await self.session.flush()

    async def delete(self, address_id: uuid.UUID) -> None:
        """Delete the address (orders keep their copy); when it was the default, the oldest one left
        becomes the default."""
        address = await self.get(address_id)
        was_default = address.is_default
        await self.session.delete(address)
        await self.session.flush()
        if was_default:
            oldest = await self.session.scalar(self.query().order_by(Address.created_at, Address.id).limit(1))
            if oldest is not None:
                await self.make_default(oldest)
