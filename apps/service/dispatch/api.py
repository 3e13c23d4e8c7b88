"""Dispatch through the API: the tenant's rules and settings (staff), dispatching a ticket by the rules,
and the open pool of the partner's region (partners)."""

from __future__ import annotations

import uuid

from litestar import Controller, Router, delete, get, post, put
from litestar.params import FromPath, JSONBody

from apps.service import workflow
from apps.service.controllers import CONFLICT
from apps.service.dependencies import PARTNER_DEPENDENCIES, STAFF_DEPENDENCIES, TicketsDep
from apps.service.dispatch import pool, rules
from apps.service.objects import PARTNER_TICKET, TICKET
from apps.service.schemas import TicketDetailOut, TicketPage
from portal.http.deps import DB
from portal.http.inputs import Int32, Limit, Offset
from portal.identity.schemas import Out, Strict, typed
from portal.permissions import requires


class RuleIn(Strict):
    name: str
    partner_ids: list[uuid.UUID]  # the service partners it may choose among
    region_id: uuid.UUID | None = None  # null: any region
    category_id: uuid.UUID | None = None  # the product line (catalog category); null: any
    ticket_type: str | None = None  # installation | repair | maintenance | inspection; null: any
    prefer: str = "load"  # load (fewest open tickets first) | rating (best mean customer rating first)
    max_open: Int32 | None = None  # a partner with this many open tickets or more is not chosen
    active: bool = True

    def value(self) -> rules.RuleIn:
        return rules.RuleIn(
            self.name,
            self.partner_ids,
            self.region_id,
            self.category_id,
            self.ticket_type,
            self.prefer,
            self.max_open,
            self.active,
        )


class PartnerRefOut(Out, kw_only=True):
    id: uuid.UUID
    name: str


class RuleOut(Out, kw_only=True):
    id: uuid.UUID
    position: int  # 1 is tried first
    name: str
    region_id: uuid.UUID | None
    region: str | None
    category_id: uuid.UUID | None
    category: str | None
    ticket_type: str | None
    prefer: str
    max_open: int | None
    active: bool
    partners: list[PartnerRefOut]


class OrderIn(Strict):
    rule_ids: list[uuid.UUID]  # every rule, in the order they are to be tried


class SettingsIn(Strict):
    auto_dispatch: bool  # dispatch each new ticket by the rules at once
    auto_close_days: Int32 | None = None  # close unconfirmed resolved tickets after this many days; null: never


class SettingsOut(Out, kw_only=True):
    auto_dispatch: bool
    auto_close_days: int | None


def _out(view: rules.RuleView) -> RuleOut:
    return typed(view.as_dict(), RuleOut)


class DispatchRulesController(Controller):
    path = "/api/service/dispatch"
    tags = ["service"]

    @get("/rules", opt=requires(TICKET, "read"))
    async def list_rules(self, db: DB) -> list[RuleOut]:
        """Every rule, in the order they are tried: the first that matches a ticket (a blank condition
        matches anything) and has a partner below its cap chooses."""
        return [_out(r) for r in await rules.listed(db)]

    @post("/rules", opt=requires(TICKET, "dispatch"))
    async def create_rule(self, data: JSONBody[RuleIn], db: DB) -> RuleOut:
        """A new rule, tried after the others. Refused whole, each mistake under its field."""
        return _out(await rules.create(db, data.value()))

    @put("/rules/order", opt=requires(TICKET, "dispatch"))
    async def order_rules(self, data: JSONBody[OrderIn], db: DB) -> list[RuleOut]:
        """The order the rules are tried in: `rule_ids` names every rule once."""
        return [_out(r) for r in await rules.reorder(db, data.rule_ids)]

    @get("/rules/{dispatch_rule_id:uuid}", opt=requires(TICKET, "read"))
    async def get_rule(self, dispatch_rule_id: FromPath[uuid.UUID], db: DB) -> RuleOut:
        return _out(await rules.one(db, dispatch_rule_id))

    @put("/rules/{dispatch_rule_id:uuid}", opt=requires(TICKET, "dispatch"))
    async def change_rule(self, dispatch_rule_id: FromPath[uuid.UUID], data: JSONBody[RuleIn], db: DB) -> RuleOut:
        """The rule as given (its place in the order stays)."""
        return _out(await rules.change(db, dispatch_rule_id, data.value()))

    @delete("/rules/{dispatch_rule_id:uuid}", opt=requires(TICKET, "dispatch"), status_code=204)
    async def delete_rule(self, dispatch_rule_id: FromPath[uuid.UUID], db: DB) -> None:
        await rules.remove(db, dispatch_rule_id)

    @get("/settings", opt=requires(TICKET, "read"))
    async def get_settings(self, db: DB) -> SettingsOut:
        found = await rules.settings(db)
        return SettingsOut(auto_dispatch=found.auto_dispatch, auto_close_days=found.auto_close_days)

    @put("/settings", opt=requires("workspace", "update"))
    async def put_settings(self, data: JSONBody[SettingsIn], db: DB) -> SettingsOut:
        """Whether new tickets are dispatched by the rules at once, and after how many days (1 to 365) a
        resolved ticket the customer has not confirmed closes by itself (null: never)."""
        found = await rules.save_settings(db, rules.DispatchSettings(data.auto_dispatch, data.auto_close_days))
        return SettingsOut(auto_dispatch=found.auto_dispatch, auto_close_days=found.auto_close_days)


@post(
    "/{ticket_id:uuid}/dispatch-by-rules",
    opt=requires(TICKET, "dispatch", problems=CONFLICT),
    status_code=200,
    operation_id="staff_dispatch_by_rules",
)
async def dispatch_by_rules(ticket_id: FromPath[uuid.UUID], tickets: TicketsDep) -> TicketDetailOut:
    """Dispatch a new ticket to the partner the rules choose; the timeline names the rule. 409
    `no_dispatch_rule` when none matches (nothing is written: dispatch it by hand or put it in the pool)."""
    ticket = await workflow.dispatch_by_rules(tickets, ticket_id)
    return typed(await tickets.out(ticket), TicketDetailOut)


@get("/", opt=requires(PARTNER_TICKET, "accept"), operation_id="partner_pool_list")
async def list_pool(tickets: TicketsDep, limit: Limit = 50, offset: Offset = 0) -> TicketPage:
    """The tickets waiting in the open pool of the enterprise's region, oldest first. The customer's phone
    and the site address are absent until the ticket is taken."""
    rows, total = await pool.pool(tickets, limit, offset)
    return typed({"items": await tickets.out_many(rows), "total": total, "limit": limit, "offset": offset}, TicketPage)


@post(
    "/{ticket_id:uuid}/take",
    opt=requires(PARTNER_TICKET, "accept", problems=CONFLICT),
    status_code=200,
    operation_id="partner_pool_take",
)
async def take_from_pool(ticket_id: FromPath[uuid.UUID], tickets: TicketsDep) -> TicketDetailOut:
    """Take the ticket from the pool: it is the enterprise's, accepted. Of many takes at once one goes
    through; the others are 409 `pool_ticket_taken`."""
    ticket = await pool.take(tickets, ticket_id)
    return typed(await tickets.out(ticket), TicketDetailOut)


DISPATCH_CONTROLLERS = [
    DispatchRulesController,
    Router(
        "/api/service/tickets", route_handlers=[dispatch_by_rules], dependencies=STAFF_DEPENDENCIES, tags=["service"]
    ),
    Router(
        "/api/partner/service/pool",
        route_handlers=[list_pool, take_from_pool],
        dependencies=PARTNER_DEPENDENCIES,
        tags=["partner: service"],
    ),
]
