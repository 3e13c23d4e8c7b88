"""The deal API: partners under /api/partner/deals (their data scope and field rules), the upstream's
staff under /api/agent/deals (their internal data scope, plus the external team of each deal)."""

from __future__ import annotations

import asyncio
import uuid

from litestar import Controller, Response, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody

from apps.agent.deals import DealFilter, Deals
from apps.agent.dependencies import PARTNER_DEPENDENCIES, STAFF_DEPENDENCIES, DealsDep
from apps.agent.objects import PARTNER_OBJECT, STAFF_OBJECT
from apps.agent.schemas import (
    DealIn,
    DealOut,
    DealPage,
    DealPatch,
    StaffDealIn,
    StaffDealOut,
    StaffDealPatch,
    TeamMemberIn,
    TeamMemberOut,
)
from portal.http.deps import DB, CurrentActor
from portal.http.inputs import Limit, Offset
from portal.identity.schemas import sent, typed
from portal.permissions import requires
from portal.spreadsheets import XLSX_MEDIA_TYPE, workbook_bytes
from portal.ui.downloads import download, stamped


async def xlsx(deals: Deals, wanted: DealFilter | None = None) -> Response[bytes]:
    columns, rows = await deals.export_rows(wanted)
    content = await asyncio.to_thread(workbook_bytes, columns, rows, "Deals")
    return download(content, stamped("deals"))


async def page_of(deals: Deals, stage: str | None, limit: int, offset: int) -> DealPage:
    rows, total = await deals.page(stage, limit, offset)
    return typed({"items": [deals.out(d) for d in rows], "total": total, "limit": limit, "offset": offset}, DealPage)


class PartnerDealsController(Controller):
    """A partner's deals: what their enterprise's data level, the deals' teams and sharing rules let
    them reach. Hidden fields are absent from every answer; writing one, or a read-only one, is a 422."""

    path = "/api/partner/deals"
    tags = ["partner: deals"]
    dependencies = PARTNER_DEPENDENCIES

    @get("/", opt=requires(PARTNER_OBJECT, "read"))
    async def list_deals(
        self, deals: DealsDep, stage: FromQuery[str | None] = None, limit: Limit = 50, offset: Offset = 0
    ) -> DealPage:
        """Newest first; `stage` filters (registered, qualified, won, lost)."""
        return await page_of(deals, stage, limit, offset)

    @post("/", opt=requires(PARTNER_OBJECT, "create"))
    async def create_deal(self, data: JSONBody[DealIn], db: DB, deals: DealsDep, actor: CurrentActor) -> DealOut:
        """Register a deal for one's own enterprise. Send an Idempotency-Key header to make retries safe."""
        deal = await deals.create(sent(data), owner_id=actor.user_id, enterprise_id=actor.enterprise_id)
        return typed(deals.out(deal), DealOut)

    @get("/export.xlsx", opt=requires(PARTNER_OBJECT, "export"), media_type=XLSX_MEDIA_TYPE)
    async def export_deals(self, deals: DealsDep) -> Response[bytes]:
        """The deals one may read, as an XLSX workbook of the columns one may see."""
        return await xlsx(deals)

    @get("/{deal_id:uuid}", opt=requires(PARTNER_OBJECT, "read"))
    async def get_deal(self, deal_id: FromPath[uuid.UUID], deals: DealsDep) -> DealOut:
        return typed(deals.out(await deals.get(deal_id)), DealOut)

    @patch("/{deal_id:uuid}", opt=requires(PARTNER_OBJECT, "update"))
    async def update_deal(self, deal_id: FromPath[uuid.UUID], data: JSONBody[DealPatch], deals: DealsDep) -> DealOut:
        """Change the fields sent: 404 outside one's read scope, 403 if one may only read the deal."""
        return typed(deals.out(await deals.update(deal_id, sent(data))), DealOut)

    @delete("/{deal_id:uuid}", opt=requires(PARTNER_OBJECT, "delete"))
    async def delete_deal(self, deal_id: FromPath[uuid.UUID], deals: DealsDep) -> None:
        await deals.delete(deal_id)


class StaffDealsController(Controller):
    """The upstream's view of the deals: as wide as the staff member's data scope (own, team or all)."""

    path = "/api/agent/deals"
    tags = ["deal registration"]
    dependencies = STAFF_DEPENDENCIES

    @get("/", opt=requires(STAFF_OBJECT, "read"))
    async def list_deals(
        self, deals: DealsDep, stage: FromQuery[str | None] = None, limit: Limit = 50, offset: Offset = 0
    ) -> DealPage:
        return await page_of(deals, stage, limit, offset)

    @post("/", opt=requires(STAFF_OBJECT, "create"))
    async def create_deal(self, data: JSONBody[StaffDealIn], db: DB, deals: DealsDep, actor: CurrentActor) -> DealOut:
        """Register a deal for a partner enterprise (`enterprise_id`), or the upstream's own without one:
        partners see that only through a sharing rule or the deal's team."""
        values = sent(data, leave_out=("enterprise_id",))
        deal = await deals.create(values, owner_id=actor.user_id, enterprise_id=data.enterprise_id)
        return typed(deals.out(deal), DealOut)

    @get("/export.xlsx", opt=requires(STAFF_OBJECT, "export"), media_type=XLSX_MEDIA_TYPE)
    async def export_deals(self, deals: DealsDep) -> Response[bytes]:
        return await xlsx(deals)

    @get("/{deal_id:uuid}", opt=requires(STAFF_OBJECT, "read"))
    async def get_deal(self, deal_id: FromPath[uuid.UUID], deals: DealsDep) -> StaffDealOut:
        """The deal and its external team (the partner people it is shared with, one by one)."""
        return typed({**deals.out(await deals.get(deal_id)), "team": await deals.team(deal_id)}, StaffDealOut)

    @patch("/{deal_id:uuid}", opt=requires(STAFF_OBJECT, "update"))
    async def update_deal(
        self, deal_id: FromPath[uuid.UUID], data: JSONBody[StaffDealPatch], deals: DealsDep
    ) -> DealOut:
        """Change the fields sent; `enterprise_id` moves the deal to a partner (null: the upstream's own)."""
        links = sent(data)
        values = {k: v for k, v in links.items() if k != "enterprise_id"}
        moved = {"enterprise_id": links["enterprise_id"]} if "enterprise_id" in links else {}
        return typed(deals.out(await deals.update(deal_id, values, **moved)), DealOut)

    @delete("/{deal_id:uuid}", opt=requires(STAFF_OBJECT, "delete"))
    async def delete_deal(self, deal_id: FromPath[uuid.UUID], deals: DealsDep) -> None:
        await deals.delete(deal_id)

    @post("/{deal_id:uuid}/team", opt=requires(STAFF_OBJECT, "update"), status_code=200)
    async def add_team_member(
        self, deal_id: FromPath[uuid.UUID], data: JSONBody[TeamMemberIn], deals: DealsDep
    ) -> list[TeamMemberOut]:
        """Share the deal with one partner person, to read or also to change (`access`), whatever their
        enterprise's data level; sending them again changes their access. Returns the team."""
        await deals.set_team_member(deal_id, data.membership_id, data.access)
        return typed(await deals.team(deal_id), list[TeamMemberOut])

    @delete("/{deal_id:uuid}/team/{membership_id:uuid}", opt=requires(STAFF_OBJECT, "update"))
    async def remove_team_member(
        self, deal_id: FromPath[uuid.UUID], membership_id: FromPath[uuid.UUID], deals: DealsDep
    ) -> None:
        await deals.remove_team_member(deal_id, membership_id)


CONTROLLERS = [PartnerDealsController, StaffDealsController]
