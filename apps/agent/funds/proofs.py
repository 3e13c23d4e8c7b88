"""Who may open a claim's proof (a stored file, portal.storage): the partner people of the request's
enterprise who may read its fund requests, and the staff who may read fund requests. Registered when the
services are built, as the check asks the role policy they hold."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.agent.funds.models import FundRequest
from apps.agent.funds.service import PROOF
from apps.agent.objects import PARTNER_FUND, STAFF_FUND
from portal.actor import Actor
from portal.storage.attachments import AttachmentOwner

if TYPE_CHECKING:
    from portal.services import Services


def register_proofs(services: Services) -> None:
    async def may_read(db: AsyncSession, actor: Actor, owner_id: uuid.UUID) -> bool:
        enterprise_id = await db.scalar(select(FundRequest.enterprise_id).where(FundRequest.id == owner_id))
        if enterprise_id is None:
            return False
        if actor.kind == "external":
            return enterprise_id == actor.enterprise_id and services.permissions.allows(actor, (PARTNER_FUND, "read"))
        return services.permissions.allows(actor, (STAFF_FUND, "read"))

    if PROOF in services.attachments.owners:
        raise ValueError(f"two features register attachments of {PROOF!r}")
    services.attachments.owners[PROOF] = AttachmentOwner(PROOF, may_read)
