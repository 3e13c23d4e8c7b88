"""Demo commissions: for each demo manufacturer a base rule (5%, or the deal's own rate), the line each
won partner deal earned, dated last month and gathered on last month's statements for the partners to
review (a statement is made only for a month that has ended). Runs after the demo deals; skips a tenant
that has commission rules already."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from apps.agent.commissions.earning import earn
from apps.agent.commissions.models import CommissionRule
from apps.agent.commissions.statements import Statements, last_ended
from apps.agent.models import Deal
from portal.db.context import tenant_context
from portal.db.types import utcnow
from portal.services import Services

RULE_NAMES = {"acme-pumps": "Every partner", "borealis-valves": "全部伙伴"}


async def load_commissions(services: Services, context: dict[str, Any]) -> None:
    for slug, tenant_id in context["tenants"].items():
        if slug not in RULE_NAMES:
            continue
        async with services.db.session(tenant_context(tenant_id, channel="cli")) as session:
            if await session.scalar(select(CommissionRule.id).limit(1)) is not None:
                continue
            today = utcnow().date()
            earned_on = today.replace(day=1) - timedelta(days=1)  # the last day of last month
            session.add(CommissionRule(name=RULE_NAMES[slug], rate=Decimal("0.05")))
            await session.flush()
            for deal in await session.scalars(
                select(Deal).where(Deal.stage == "won", Deal.enterprise_id.is_not(None)).order_by(Deal.created_at)
            ):
                line = await earn(session, deal)
                if line is not None:
                    line.earned_on = earned_on
            await session.flush()
            await Statements(session, None, None, None).close(last_ended(today))
