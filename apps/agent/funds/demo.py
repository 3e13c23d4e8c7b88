"""Demo market development funds: for each demo manufacturer this quarter's budget, a request of the first
demo partner waiting for a decision, one approved and claimed with its proof (a small PDF), and one paid
(on the partner's account). Runs after the demo deals; skips a tenant that has budgets already."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from apps.agent.commissions.statements import ledger_of
from apps.agent.funds.models import FundBudget, FundRequest
from apps.agent.funds.service import PROOF, PROOF_USE, ledger_description
from interconnect.models import Membership
from portal.db.context import tenant_context
from portal.db.types import utcnow
from portal.services import Services

TEXTS = {
    "acme-pumps": ("Partner marketing", "Trade show booth in Shanghai", "Co-branded brochures", "Dealer training day"),
    "borealis-valves": ("伙伴市场基金", "上海展会展位", "联合品牌宣传册", "经销商培训日"),
}
PROOF_PDF = (
    b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
)


async def load_funds(services: Services, context: dict[str, Any]) -> None:
    for slug, tenant_id in context["tenants"].items():
        texts = TEXTS.get(slug)
        if texts is None:
            continue
        async with services.db.session(tenant_context(tenant_id, channel="cli")) as session:
            if await session.scalar(select(FundBudget.id).limit(1)) is not None:
                continue
            admin = await session.scalar(
                select(Membership)
                .where(Membership.is_enterprise_admin.is_(True), Membership.link_id.is_not(None))
                .order_by(Membership.created_at, Membership.id)
                .limit(1)
            )
            today = utcnow().date()
            first = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
            last = date(first.year + (first.month + 2) // 12, (first.month + 2) % 12 + 1, 1).toordinal() - 1
            budget = FundBudget(name=texts[0], starts_on=first, ends_on=date.fromordinal(last), amount=Decimal(200_000))
            session.add(budget)
            await session.flush()
            if admin is None or admin.link_id is None:
                continue
            session.add(
                FundRequest(
                    enterprise_id=admin.link_id, requested_by=admin.id, amount=Decimal(30_000), purpose=texts[1]
                )
            )
            claimed = FundRequest(
                enterprise_id=admin.link_id,
                requested_by=admin.id,
                amount=Decimal(12_000),
                purpose=texts[2],
                status="claimed",
                budget_id=budget.id,
                approved_amount=Decimal(10_000),
                decided_at=utcnow(),
                claimed_amount=Decimal(9_500),
                claimed_at=utcnow(),
            )
            paid = FundRequest(
                enterprise_id=admin.link_id,
                requested_by=admin.id,
                amount=Decimal(6_000),
                purpose=texts[3],
                status="paid",
                budget_id=budget.id,
                approved_amount=Decimal(6_000),
                decided_at=utcnow(),
                claimed_amount=Decimal(6_000),
                claimed_at=utcnow(),
                paid_amount=Decimal(6_000),
                paid_at=utcnow(),
            )
            session.add_all([claimed, paid])
            budget.reserved, budget.paid = Decimal(16_000), Decimal(6_000)
            await session.flush()
            ledger = ledger_of(services.components)
            if ledger is not None:
                await ledger(session, admin.link_id, ledger_description(paid), Decimal(6_000), "fund")
                paid.posted = True
            for request in (claimed, paid):
                await services.attachments.save(session, None, PROOF_PDF, "invoice.pdf", PROOF_USE, PROOF, request.id)
