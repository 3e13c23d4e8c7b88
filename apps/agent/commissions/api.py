"""The commission API: the upstream's rules, deal terms and statements under /api/agent, a partner's
commissions and statements under /api/partner/agent."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody

from apps.agent.commissions.models import CommissionLine, CommissionRule, CommissionStatement
from apps.agent.commissions.rules import CommissionSetup
from apps.agent.commissions.schemas import (
    ClosedOut,
    CloseIn,
    LineOut,
    NoteIn,
    RuleIn,
    RuleOut,
    RulePatch,
    StatementDetailOut,
    StatementOut,
    StatementPage,
    TermsIn,
    TermsOut,
)
from apps.agent.commissions.statements import Statements, ledger_of
from apps.agent.objects import PARTNER_COMMISSION, STAFF_COMMISSION
from portal.http.deps import DB, CurrentActor
from portal.http.inputs import Limit, Offset
from portal.identity.schemas import sent, typed
from portal.permissions import requires
from portal.spreadsheets import XLSX_MEDIA_TYPE, workbook_bytes
from portal.ui.downloads import download, stamped
from roles.access import policy_of

AnyRequest = Request[Any, Any, Any]
LINE_FIELDS = tuple(LineOut.__struct_fields__)
EXPORT_COLUMNS = ("earned_on", "customer_name", "kind", "deal_amount", "rate", "amount", "currency")


def provide_staff_statements(request: AnyRequest, db: DB, actor: CurrentActor) -> Statements:
    hidden = policy_of(request).hidden(actor, STAFF_COMMISSION)
    return Statements(db, actor, None, ledger_of(request.app.state.services.components), hidden)


def provide_partner_statements(request: AnyRequest, db: DB, actor: CurrentActor) -> Statements:
    """Only the partner's own enterprise's: another enterprise's statement is not found."""
    hidden = policy_of(request).hidden(actor, PARTNER_COMMISSION)
    return Statements(db, actor, actor.enterprise_id or uuid.UUID(int=0), None, hidden)


def provide_setup(db: DB) -> CommissionSetup:
    return CommissionSetup(db)


StatementsDep = NamedDependency[Statements]
SetupDep = NamedDependency[CommissionSetup]
STAFF = {
    "statements": Provide(provide_staff_statements, sync_to_thread=False),
    "setup": Provide(provide_setup, sync_to_thread=False),
}
PARTNER = {"statements": Provide(provide_partner_statements, sync_to_thread=False)}


def rule_out(rule: CommissionRule) -> RuleOut:
    return typed({name: getattr(rule, name) for name in RuleOut.__struct_fields__}, RuleOut)


def line_out(line: CommissionLine, hidden: frozenset[str]) -> LineOut:
    return typed({name: getattr(line, name) for name in LINE_FIELDS if name not in hidden}, LineOut)


def statement_values(statement: CommissionStatement, enterprise_name: str, hidden: frozenset[str]) -> dict[str, Any]:
    names = [name for name in StatementOut.__struct_fields__ if name != "enterprise_name"]
    if "amount" in hidden:
        names.remove("total")
    return {**{name: getattr(statement, name) for name in names}, "enterprise_name": enterprise_name}


async def statement_detail(statements: Statements, statement_id: uuid.UUID) -> StatementDetailOut:
    statement = await statements.get(statement_id)
    lines = await statements.lines(statement.id)
    values = statement_values(statement, await statements.enterprise_name(statement.enterprise_id), statements.hidden)
    return typed({**values, "lines": [line_out(line, statements.hidden) for line in lines]}, StatementDetailOut)


async def statement_page(
    statements: Statements, status: str | None, enterprise_id: uuid.UUID | None, limit: int, offset: int
) -> StatementPage:
    rows, total = await statements.page(status, enterprise_id, limit, offset)
    items = [statement_values(s, name, statements.hidden) for s, name in rows]
    return typed({"items": items, "total": total, "limit": limit, "offset": offset}, StatementPage)


async def statement_xlsx(statements: Statements, statement_id: uuid.UUID) -> Response[bytes]:
    statement = await statements.get(statement_id)
    lines = await statements.lines(statement.id)
    columns = [c for c in EXPORT_COLUMNS if c not in statements.hidden]
    rows = [[str(getattr(line, c)) for c in columns] for line in lines]
    if "amount" not in statements.hidden:
        rows.append([str(statement.total) if c == "amount" else "" for c in columns])
    content = await asyncio.to_thread(workbook_bytes, columns, rows, f"Commission {statement.period}")
    return download(content, stamped(f"commission-{statement.period}"))


class StaffCommissionRulesController(Controller):
    path = "/api/agent/commission-rules"
    tags = ["commissions"]
    dependencies = STAFF

    @get("/", opt=requires(STAFF_COMMISSION, "read"))
    async def list_rules(self, setup: SetupDep) -> list[RuleOut]:
        """In the order they are tried: the most specific matching rule wins, then the lowest position."""
        return [rule_out(rule) for rule in await setup.rules()]

    @post("/", opt=requires(STAFF_COMMISSION, "setup"), status_code=201)
    async def create_rule(self, db: DB, setup: SetupDep, data: JSONBody[RuleIn]) -> RuleOut:
        return rule_out(await setup.create(sent(data)))

    @patch("/{commission_rule_id:uuid}", opt=requires(STAFF_COMMISSION, "setup"))
    async def update_rule(
        self, setup: SetupDep, commission_rule_id: FromPath[uuid.UUID], data: JSONBody[RulePatch]
    ) -> RuleOut:
        """Lines already made keep the rate they were made with."""
        return rule_out(await setup.update(commission_rule_id, sent(data)))

    @delete("/{commission_rule_id:uuid}", opt=requires(STAFF_COMMISSION, "setup"))
    async def delete_rule(self, setup: SetupDep, commission_rule_id: FromPath[uuid.UUID]) -> None:
        await setup.delete(commission_rule_id)


class StaffDealTermsController(Controller):
    path = "/api/agent/deals/{deal_id:uuid}/commission-terms"
    tags = ["commissions"]
    dependencies = STAFF

    @get("/", opt=requires(STAFF_COMMISSION, "read"))
    async def get_terms(self, setup: SetupDep, deal_id: FromPath[uuid.UUID]) -> TermsOut:
        """The deal's product line and type (null when not recorded)."""
        terms = await setup.terms(deal_id)
        return TermsOut(
            deal_id=deal_id,
            product_line=terms.product_line if terms else None,
            deal_type=terms.deal_type if terms else None,
        )

    @put("/", opt=requires(STAFF_COMMISSION, "setup"))
    async def set_terms(self, setup: SetupDep, deal_id: FromPath[uuid.UUID], data: JSONBody[TermsIn]) -> TermsOut:
        """Read when the deal is won: a line already made keeps its rate."""
        terms = await setup.set_terms(deal_id, data.product_line, data.deal_type)
        return TermsOut(deal_id=deal_id, product_line=terms.product_line, deal_type=terms.deal_type)


class StaffStatementsController(Controller):
    path = "/api/agent/commission-statements"
    tags = ["commissions"]
    dependencies = STAFF

    @get("/", opt=requires(STAFF_COMMISSION, "read"))
    async def list_statements(
        self,
        statements: StatementsDep,
        status: FromQuery[str | None] = None,
        enterprise_id: FromQuery[uuid.UUID | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> StatementPage:
        return await statement_page(statements, status, enterprise_id, limit, offset)

    @post("/", opt=requires(STAFF_COMMISSION, "approve"), status_code=201)
    async def close_period(self, db: DB, statements: StatementsDep, data: JSONBody[CloseIn]) -> ClosedOut:
        """Statements of the period for every partner (or one) with lines waiting; the statements made or
        added to. Each partner then reviews theirs."""
        made = await statements.close(data.period, data.enterprise_id)
        names = {s.enterprise_id: await statements.enterprise_name(s.enterprise_id) for s in made}
        items = [statement_values(s, names[s.enterprise_id], statements.hidden) for s in made]
        return typed({"items": items}, ClosedOut)

    @get("/lines", opt=requires(STAFF_COMMISSION, "read"))
    async def waiting_lines(self, statements: StatementsDep) -> list[LineOut]:
        """Lines on no statement yet, newest first (at most 200)."""
        return [line_out(line, statements.hidden) for line in await statements.unstated()]

    @get("/{statement_id:uuid}", opt=requires(STAFF_COMMISSION, "read"))
    async def get_statement(self, statements: StatementsDep, statement_id: FromPath[uuid.UUID]) -> StatementDetailOut:
        return await statement_detail(statements, statement_id)

    @post("/{statement_id:uuid}/approve", opt=requires(STAFF_COMMISSION, "approve"), status_code=200)
    async def approve(self, statements: StatementsDep, statement_id: FromPath[uuid.UUID]) -> StatementDetailOut:
        """An accepted statement; its total goes to the partner's account (409 statement_status otherwise)."""
        await statements.approve(statement_id)
        return await statement_detail(statements, statement_id)

    @post("/{statement_id:uuid}/withdraw", opt=requires(STAFF_COMMISSION, "approve"), status_code=200)
    async def withdraw(
        self, statements: StatementsDep, statement_id: FromPath[uuid.UUID], data: JSONBody[NoteIn]
    ) -> StatementDetailOut:
        """Not approved after all: its lines go on the partner's next statement."""
        await statements.withdraw(statement_id, data.note)
        return await statement_detail(statements, statement_id)

    @get("/{statement_id:uuid}/export.xlsx", opt=requires(STAFF_COMMISSION, "export"), media_type=XLSX_MEDIA_TYPE)
    async def export(self, statements: StatementsDep, statement_id: FromPath[uuid.UUID]) -> Response[bytes]:
        return await statement_xlsx(statements, statement_id)


class PartnerCommissionsController(Controller):
    path = "/api/partner/agent"
    tags = ["commissions"]
    dependencies = PARTNER

    @get("/commissions", opt=requires(PARTNER_COMMISSION, "read"))
    async def my_lines(self, statements: StatementsDep) -> list[LineOut]:
        """The enterprise's lines on no statement yet, newest first."""
        return [line_out(line, statements.hidden) for line in await statements.unstated()]

    @get("/commission-statements", opt=requires(PARTNER_COMMISSION, "read"))
    async def my_statements(
        self, statements: StatementsDep, status: FromQuery[str | None] = None, limit: Limit = 50, offset: Offset = 0
    ) -> StatementPage:
        return await statement_page(statements, status, None, limit, offset)

    @get("/commission-statements/{statement_id:uuid}", opt=requires(PARTNER_COMMISSION, "read"))
    async def my_statement(self, statements: StatementsDep, statement_id: FromPath[uuid.UUID]) -> StatementDetailOut:
        return await statement_detail(statements, statement_id)

    @post(
        "/commission-statements/{statement_id:uuid}/accept", opt=requires(PARTNER_COMMISSION, "review"), status_code=200
    )
    async def accept(
        self, statements: StatementsDep, statement_id: FromPath[uuid.UUID], data: JSONBody[NoteIn]
    ) -> StatementDetailOut:
        await statements.review(statement_id, True, data.note)
        return await statement_detail(statements, statement_id)

    @post(
        "/commission-statements/{statement_id:uuid}/dispute",
        opt=requires(PARTNER_COMMISSION, "review"),
        status_code=200,
    )
    async def dispute(
        self, statements: StatementsDep, statement_id: FromPath[uuid.UUID], data: JSONBody[NoteIn]
    ) -> StatementDetailOut:
        """Say what is wrong (`note` required); the upstream withdraws or corrects it."""
        await statements.review(statement_id, False, (data.note or "").strip() or None)
        return await statement_detail(statements, statement_id)

    @get(
        "/commission-statements/{statement_id:uuid}/export.xlsx",
        opt=requires(PARTNER_COMMISSION, "read"),
        media_type=XLSX_MEDIA_TYPE,
    )
    async def export(self, statements: StatementsDep, statement_id: FromPath[uuid.UUID]) -> Response[bytes]:
        return await statement_xlsx(statements, statement_id)


COMMISSION_CONTROLLERS = [
    StaffCommissionRulesController,
    StaffDealTermsController,
    StaffStatementsController,
    PartnerCommissionsController,
]
