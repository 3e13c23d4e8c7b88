"""A new upstream's ordering set-up (see apps.ordering.presets), inside its sign-up transaction, after
the roles are seeded."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from apps.ordering import presets
from apps.ordering.models import OrderingSettings, Warehouse
from apps.ordering.objects import PARTNER_ORDER
from apps.ordering.orders import ORDER_KIND
from portal.ids import uuid7
from roles.approvals.models import ApprovalFlow, ApprovalFlowStep
from roles.seed import seed_app_presets


async def seed_ordering(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    await seed_app_presets(
        session,
        tenant_id,
        grants=presets.GRANTS,
        fields={
            key: {obj: dict.fromkeys(presets.COST_FIELD_NAMES, "hidden") for obj in objects}
            for key, objects in presets.HIDDEN_COSTS.items()
        },
        levels={PARTNER_ORDER: presets.ORDER_LEVELS},
    )
    warehouse = Warehouse(
        id=uuid7(), tenant_id=tenant_id, code=presets.MAIN_WAREHOUSE[0], name=presets.MAIN_WAREHOUSE[1]
    )
    session.add(warehouse)
    await session.flush()
    session.add(OrderingSettings(tenant_id=tenant_id, default_warehouse_id=warehouse.id))
    # the orders' approval flow (roles.approvals) with its first step
    flow = ApprovalFlow(id=uuid7(), tenant_id=tenant_id, kind=ORDER_KIND, name=presets.APPROVAL_FLOW, position=1)
    session.add(flow)
    await session.flush()
    name, step, role = presets.FIRST_APPROVAL
    session.add(
        ApprovalFlowStep(
            tenant_id=tenant_id, flow_id=flow.id, name=name, step=step, role_key=role, min_amount=Decimal(0)
        )
    )
    await session.flush()
