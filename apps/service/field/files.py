"""Who may read a ticket's photos and signature: whoever may read the ticket, through the same data scope
as the ticket itself (staff on "service.ticket"; a partner's people on the enterprise's tickets or on
their own). The kernel serves a ticket's file (/attachments/{id}, /api/attachments/{id},
/api/partner/attachments/{id}) only when this says yes; for anyone else it is "not found".

The check needs the role policy, which exists once the application's services are built: the component
registers the owner type with a check that refuses everything, and `install` replaces it then."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.service.field.steps import OWNER
from apps.service.models import Ticket
from apps.service.objects import PARTNER_JOB, PARTNER_TICKET, TICKET
from portal.actor import Actor
from portal.storage.attachments import AttachmentOwner
from roles.access import role_policy, scoped
from roles.policy import RolePolicy

if TYPE_CHECKING:
    from portal.services import Services


async def _nobody(_db: AsyncSession, _actor: Actor, _owner_id: uuid.UUID) -> bool:
    return False


PLACEHOLDER = AttachmentOwner(OWNER, _nobody)


class TicketFiles:
    def __init__(self, policy: RolePolicy) -> None:
        self.policy = policy

    async def may_read(self, db: AsyncSession, actor: Actor, ticket_id: uuid.UUID) -> bool:
        objects = (PARTNER_TICKET, PARTNER_JOB) if actor.kind == "external" else (TICKET,)
        for obj in objects:
            if not self.policy.allows(actor, (obj, "read")):
                continue
            query = await scoped(db, select(Ticket.id), self.policy, actor, obj)
            if await db.scalar(query.where(Ticket.id == ticket_id)) is not None:
                return True
        return False


def install(services: Services) -> None:
    services.attachments.owners[OWNER] = AttachmentOwner(OWNER, TicketFiles(role_policy(services)).may_read)
