"""The tenant's rule on resolving, asked by the workflow before a ticket is resolved: with
`service_settings.signature_required` on, the customer must have signed on the ticket since it was last
dispatched (a signature from an earlier visit, before a reopening, does not count)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.service.field.models import FieldEntry
from apps.service.models import ServiceSettings, Ticket
from portal.errors import Conflict
from portal.i18n import N_


class SignatureRequired(Conflict):
    code, title = "signature_required", N_("The customer's signature is required first")


async def signature_required(session: AsyncSession) -> bool:
    return bool(await session.scalar(select(ServiceSettings.signature_required)))


async def check_signed(session: AsyncSession, ticket: Ticket) -> None:
    if not await signature_required(session):
        return
    query = select(FieldEntry.id).where(FieldEntry.ticket_id == ticket.id, FieldEntry.kind == "signature")
    if ticket.dispatched_at is not None:
        query = query.where(FieldEntry.at >= ticket.dispatched_at)
    if await session.scalar(query.limit(1)) is None:
        raise SignatureRequired(N_("Have the customer sign on the screen before you resolve the ticket"))


async def set_signature_required(session: AsyncSession, required: bool) -> bool:
    """Turn the rule on or off (the settings row is audited)."""
    row = await session.scalar(select(ServiceSettings))
    if row is None:  # a tenant made before its settings were seeded
        row = ServiceSettings()
        session.add(row)
    row.signature_required = required
    await session.flush()
    return row.signature_required
