"""A new upstream's service set-up (see apps.service.presets), inside its sign-up transaction, after the
roles are seeded."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from apps.service import presets
from apps.service.models import ServiceSettings
from apps.service.parts import presets as parts_presets
from apps.service.sla.policy import WARNING_PERCENT, seed_targets
from roles.seed import seed_app_presets


async def seed_service(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    await seed_app_presets(
        session,
        tenant_id,
        grants=presets.GRANTS,
        fields=presets.HIDDEN_BEFORE_ACCEPTANCE,
        levels=presets.LEVELS,
        scopes=presets.SCOPES,
    )
    await seed_app_presets(session, tenant_id, grants=parts_presets.GRANTS, fields={}, levels=parts_presets.LEVELS)
    session.add(
        ServiceSettings(tenant_id=tenant_id, reopen_days=presets.REOPEN_DAYS, sla_warning_percent=WARNING_PERCENT)
    )
    seed_targets(session, tenant_id)
    await session.flush()
