"""The fund API: the upstream's budgets and the requests to decide and pay under /api/agent, a partner's
requests and claims under /api/partner/agent."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, patch, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody

from apps.agent.commissions.statements import ledger_of
from apps.agent.funds.models import FundBudget, FundRequest
from apps.agent.funds.schemas import (
    ApproveIn,
    BudgetIn,
    BudgetOut,
    BudgetPatch,
    FundRequestIn,
    FundRequestOut,
    FundRequestPage,
    PayIn,
    RejectIn,
)
from apps.agent.funds.service import Funds
from apps.agent.objects import PARTNER_FUND, STAFF_FUND
from portal.errors import ValidationFailed
from portal.http.deps import DB, CurrentActor
from portal.http.inputs import Limit, Offset
from portal.http.openapi import upload_operation
from portal.i18n import N_
from portal.identity.schemas import sent, typed
from portal.permissions import requires
from portal.storage.uploads import UPLOAD_BODY_LIMIT
from roles.access import policy_of

AnyRequest = Request[Any, Any, Any]
REQUEST_FIELDS = tuple(n for n in FundRequestOut.__struct_fields__ if n not in ("enterprise_name", "proofs"))


def provide_staff_funds(request: AnyRequest, db: DB, actor: CurrentActor) -> Funds:
    hidden = policy_of(request).hidden(actor, STAFF_FUND)
    services = request.app.state.services
    return Funds(db, actor, None, services.attachments, hidden, ledger_of(services.components))


def provide_partner_funds(request: AnyRequest, db: DB, actor: CurrentActor) -> Funds:
    """Only the partner's own enterprise's requests: another's is not found."""
    hidden = policy_of(request).hidden(actor, PARTNER_FUND)
    return Funds(db, actor, actor.enterprise_id or uuid.UUID(int=0), request.app.state.services.attachments, hidden)


FundsDep = NamedDependency[Funds]
STAFF = {"funds": Provide(provide_staff_funds, sync_to_thread=False)}
PARTNER = {"funds": Provide(provide_partner_funds, sync_to_thread=False)}


def budget_out(budget: FundBudget) -> BudgetOut:
    return typed({name: getattr(budget, name) for name in BudgetOut.__struct_fields__}, BudgetOut)


async def request_out(funds: Funds, found: FundRequest, enterprise_name: str | None = None) -> FundRequestOut:
    if enterprise_name is None:
        enterprise_name = await funds.enterprise_name(found.enterprise_id)
    proofs = [
        {"id": a.id, "name": a.name, "content_type": a.content_type, "size": a.size}
        for a in await funds.proofs(found.id)
    ]
    values = {name: getattr(found, name) for name in REQUEST_FIELDS if name not in funds.hidden}
    return typed({**values, "enterprise_name": enterprise_name, "proofs": proofs}, FundRequestOut)


async def request_page(funds: Funds, status: str | None, limit: int, offset: int) -> FundRequestPage:
    rows, total = await funds.page(status, limit, offset)
    items = [await request_out(funds, found, name) for found, name in rows]
    return typed({"items": items, "total": total, "limit": limit, "offset": offset}, FundRequestPage)


class StaffBudgetsController(Controller):
    path = "/api/agent/fund-budgets"
    tags = ["funds"]
    dependencies = STAFF

    @get("/", opt=requires(STAFF_FUND, "read"))
    async def list_budgets(self, funds: FundsDep) -> list[BudgetOut]:
        """Newest period first, with what approved requests hold (`reserved`) and what was paid."""
        return [budget_out(b) for b in await funds.budgets()]

    @post("/", opt=requires(STAFF_FUND, "budget"), status_code=201)
    async def create_budget(self, db: DB, funds: FundsDep, data: JSONBody[BudgetIn]) -> BudgetOut:
        return budget_out(await funds.create_budget(sent(data)))

    @patch("/{budget_id:uuid}", opt=requires(STAFF_FUND, "budget"))
    async def update_budget(
        self, funds: FundsDep, budget_id: FromPath[uuid.UUID], data: JSONBody[BudgetPatch]
    ) -> BudgetOut:
        """A new name or amount (never below what approved requests hold)."""
        return budget_out(await funds.update_budget(budget_id, sent(data)))


class StaffFundRequestsController(Controller):
    path = "/api/agent/fund-requests"
    tags = ["funds"]
    dependencies = STAFF

    @get("/", opt=requires(STAFF_FUND, "read"))
    async def list_requests(
        self, funds: FundsDep, status: FromQuery[str | None] = None, limit: Limit = 50, offset: Offset = 0
    ) -> FundRequestPage:
        return await request_page(funds, status, limit, offset)

    @get("/{fund_request_id:uuid}", opt=requires(STAFF_FUND, "read"))
    async def get_request(self, funds: FundsDep, fund_request_id: FromPath[uuid.UUID]) -> FundRequestOut:
        return await request_out(funds, await funds.get(fund_request_id))

    @post("/{fund_request_id:uuid}/approve", opt=requires(STAFF_FUND, "approve"), status_code=200)
    async def approve(
        self, funds: FundsDep, fund_request_id: FromPath[uuid.UUID], data: JSONBody[ApproveIn]
    ) -> FundRequestOut:
        """Reserves the amount on the budget: 409 fund_budget_exhausted when it has not enough left."""
        found = await funds.approve(fund_request_id, data.budget_id, data.amount, data.note)
        return await request_out(funds, found)

    @post("/{fund_request_id:uuid}/reject", opt=requires(STAFF_FUND, "approve"), status_code=200)
    async def reject(
        self, funds: FundsDep, fund_request_id: FromPath[uuid.UUID], data: JSONBody[RejectIn]
    ) -> FundRequestOut:
        return await request_out(funds, await funds.reject(fund_request_id, data.note))

    @post("/{fund_request_id:uuid}/pay", opt=requires(STAFF_FUND, "pay"), status_code=200)
    async def pay(self, funds: FundsDep, fund_request_id: FromPath[uuid.UUID], data: JSONBody[PayIn]) -> FundRequestOut:
        """A claimed request paid (what was claimed, or less); what was approved beyond goes back to the budget."""
        return await request_out(funds, await funds.pay(fund_request_id, data.amount))


class PartnerFundsController(Controller):
    path = "/api/partner/agent/fund-requests"
    tags = ["funds"]
    dependencies = PARTNER

    @get("/", opt=requires(PARTNER_FUND, "read"))
    async def my_requests(
        self, funds: FundsDep, status: FromQuery[str | None] = None, limit: Limit = 50, offset: Offset = 0
    ) -> FundRequestPage:
        return await request_page(funds, status, limit, offset)

    @post("/", opt=requires(PARTNER_FUND, "request"), status_code=201)
    async def make_request(self, db: DB, funds: FundsDep, data: JSONBody[FundRequestIn]) -> FundRequestOut:
        return await request_out(funds, await funds.request(data.amount, data.purpose))

    @get("/{fund_request_id:uuid}", opt=requires(PARTNER_FUND, "read"))
    async def my_request(self, funds: FundsDep, fund_request_id: FromPath[uuid.UUID]) -> FundRequestOut:
        return await request_out(funds, await funds.get(fund_request_id))

    @post(
        "/{fund_request_id:uuid}/claim",
        opt=requires(PARTNER_FUND, "claim"),
        status_code=200,
        request_max_body_size=UPLOAD_BODY_LIMIT,
        operation_class=upload_operation("amount", "note"),
    )
    async def claim(self, request: AnyRequest, funds: FundsDep, fund_request_id: FromPath[uuid.UUID]) -> FundRequestOut:
        """Multipart: `file` (the proof: an image or a PDF), `amount` (at most what was approved), `note`."""
        await funds.get(fund_request_id)  # another enterprise's request is not found, whatever was sent
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise ValidationFailed.single("file", N_("is required: upload the proof"), "required")
        content = await upload.read()
        await upload.close()
        found = await funds.claim(fund_request_id, form.get("amount"), form.get("note"), content, upload.filename)
        return await request_out(funds, found)


FUND_CONTROLLERS = [StaffBudgetsController, StaffFundRequestsController, PartnerFundsController]
