"""A new upstream's deal-registration set-up (see apps.agent.presets), inside its sign-up transaction,
after the roles are seeded."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from apps.agent import presets
from apps.agent.objects import PARTNER_LEAD, PARTNER_OBJECT
from roles.seed import seed_app_presets


async def seed_agent(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    await seed_app_presets(
        session,
        tenant_id,
        grants=presets.GRANTS,
        fields={
            key: {obj: dict.fromkeys(names, "read_only") for obj, names in objects.items()}
            for key, objects in presets.READ_ONLY_FIELDS.items()
        },
        levels={PARTNER_OBJECT: presets.DEAL_LEVELS, PARTNER_LEAD: presets.LEAD_LEVELS},
    )
    await session.flush()
