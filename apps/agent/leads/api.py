"""The lead API: the upstream's staff under /api/agent/leads (and the pools and assignment rules under
/api/agent/lead-pools and /api/agent/lead-rules), partners under /api/partner/agent (the pools they may
claim from, and their leads)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, FromQuery, JSONBody

from apps.agent.dependencies import (
    PARTNER_DEPENDENCIES,
    STAFF_DEPENDENCIES,
    LeadsDep,
    LeadSetupDep,
    RegistrationsDep,
)
from apps.agent.leads.conversion import convert_lead
from apps.agent.leads.models import AssignmentRule, LeadExtension, LeadPool
from apps.agent.leads.schemas import (
    DistributeIn,
    ExtensionIn,
    ExtensionOut,
    FollowUpIn,
    FollowUpOut,
    ImportOut,
    LeadDetailOut,
    LeadIn,
    LeadOut,
    LeadPage,
    PoolIn,
    PoolLeadPage,
    PoolOut,
    PoolPatch,
    ReturnIn,
    RuleIn,
    RuleOut,
    RulePatch,
)
from apps.agent.leads.service import LeadFilter, Leads
from apps.agent.objects import LEAD_SETUP, PARTNER_LEAD, STAFF_LEAD
from apps.agent.registrations.schemas import ConvertedLeadOut, ConvertIn
from portal.errors import ValidationFailed
from portal.http.deps import DB
from portal.http.inputs import Limit, Offset
from portal.http.openapi import upload_operation
from portal.i18n import N_
from portal.identity.schemas import sent, typed
from portal.permissions import requires
from portal.spreadsheets import MAX_BYTES, XLSX_MEDIA_TYPE, workbook_bytes
from portal.ui.downloads import download, stamped

AnyRequest = Request[Any, Any, Any]
UPLOAD_BODY_LIMIT = MAX_BYTES + 256 * 1024
EXPORT_LIMIT = 10_000
POOL_FIELDS = tuple(PoolOut.__struct_fields__)
RULE_FIELDS = tuple(RuleOut.__struct_fields__)
EXPORT_COLUMNS = ("company_name", "contact_name", "phone", "email", "product_line", "status", "created_at")


def pool_out(pool: LeadPool) -> PoolOut:
    return typed({name: getattr(pool, name) for name in POOL_FIELDS}, PoolOut)


def rule_out(rule: AssignmentRule) -> RuleOut:
    return typed({name: getattr(rule, name) for name in RULE_FIELDS}, RuleOut)


async def detail(leads: Leads, lead_id: uuid.UUID) -> LeadDetailOut:
    lead = await leads.get(lead_id)
    events, follow_ups = await leads.history(lead.id)
    return typed(
        {
            **leads.out(lead),
            "events": [
                {
                    "action": e.action,
                    "actor_kind": e.actor_kind,
                    "enterprise_id": e.enterprise_id,
                    "note": e.note,
                    "at": e.at,
                }
                for e in events
            ],
            "follow_ups": [
                {
                    name: getattr(f, name)
                    for name in ("id", "kind", "note", "next_step", "next_date", "author_kind", "created_at")
                }
                for f in follow_ups
            ],
        },
        LeadDetailOut,
    )


def extension_out(leads: Leads, extension: LeadExtension, company: str | None) -> ExtensionOut:
    values = {
        name: getattr(extension, name)
        for name in (
            "id",
            "lead_id",
            "enterprise_id",
            "requested_by",
            "days",
            "reason",
            "status",
            "decided_at",
            "created_at",
        )
    }
    if "company_name" not in leads.policy.hidden(leads.actor, leads.obj) and company is not None:
        values["company_name"] = company
    return typed(values, ExtensionOut)


async def page_of(leads: Leads, wanted: LeadFilter, limit: int, offset: int) -> LeadPage:
    rows, total = await leads.page(wanted, limit, offset)
    return typed({"items": leads.out_many(rows), "total": total, "limit": limit, "offset": offset}, LeadPage)


async def xlsx(leads: Leads, wanted: LeadFilter | None = None) -> Response[bytes]:
    """The leads one may read (those `wanted` lets through), in the columns one may see."""
    rows, _total = await leads.page(wanted or LeadFilter(), EXPORT_LIMIT, 0)
    hidden = leads.policy.hidden(leads.actor, leads.obj)
    columns = [c for c in EXPORT_COLUMNS if c not in hidden]
    shown = leads.out_many(rows)
    content = await asyncio.to_thread(workbook_bytes, columns, [[r.get(c) for c in columns] for r in shown], "Leads")
    return download(content, stamped("leads"))


class StaffLeadsController(Controller):
    """The upstream's leads, as wide as the staff member's data scope."""

    path = "/api/agent/leads"
    tags = ["leads"]
    dependencies = STAFF_DEPENDENCIES

    @get("/", opt=requires(STAFF_LEAD, "read"))
    async def list_leads(
        self,
        leads: LeadsDep,
        status: FromQuery[str | None] = None,
        pool_id: FromQuery[uuid.UUID | None] = None,
        enterprise_id: FromQuery[uuid.UUID | None] = None,
        q: FromQuery[str | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> LeadPage:
        """Newest first; filter by status (new, pooled, assigned, converted, closed), pool, partner, or
        a part of the company's name (`q`)."""
        wanted = LeadFilter(status, pool_id, enterprise_id, (q or "").strip()[:80] or None)
        return await page_of(leads, wanted, limit, offset)

    @post("/", opt=requires(STAFF_LEAD, "create"))
    async def create_lead(self, data: JSONBody[LeadIn], db: DB, leads: LeadsDep) -> LeadOut:
        """A lead, placed by the assignment rules unless `distribute` is false. Integrations send an
        Idempotency-Key header to make retries safe."""
        values = sent(data, leave_out=("distribute",))
        lead = await leads.create(values, source="api", distribute=data.distribute)
        return typed(leads.out(lead), LeadOut)

    @post(
        "/import",
        opt=requires(STAFF_LEAD, "import"),
        status_code=200,
        request_max_body_size=UPLOAD_BODY_LIMIT,
        operation_class=upload_operation(),
    )
    async def import_leads(self, request: AnyRequest, db: DB, leads: LeadsDep) -> ImportOut:
        """A .csv or .xlsx file of leads (company_name required; contact_name, phone, email, region as
        its code, product_line, notes), each placed by the assignment rules. One bad row and nothing is
        imported: the 422 names every bad row (`rows[<row>].<column>`)."""
        upload = (await request.form()).get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise ValidationFailed.single("file", N_("is required: upload a .csv or .xlsx file"), "required")
        content = await upload.read()
        await upload.close()
        return typed(await leads.import_file(upload.filename, content), ImportOut)

    @get("/export.xlsx", opt=requires(STAFF_LEAD, "export"), media_type=XLSX_MEDIA_TYPE)
    async def export_leads(self, leads: LeadsDep) -> Response[bytes]:
        return await xlsx(leads)

    @get("/extensions", opt=requires(STAFF_LEAD, "read"))
    async def list_extensions(self, leads: LeadsDep, status: FromQuery[str | None] = "pending") -> list[ExtensionOut]:
        """Holders' requests for more time, oldest first (`status`: pending, approved, rejected)."""
        return [extension_out(leads, e, lead.company_name) for e, lead in await leads.extensions(status or None)]

    @post("/extensions/{extension_id:uuid}/approve", opt=requires(STAFF_LEAD, "approve"), status_code=200)
    async def approve_extension(self, extension_id: FromPath[uuid.UUID], db: DB, leads: LeadsDep) -> ExtensionOut:
        """Move the lead's deadlines by the days asked for."""
        return extension_out(leads, await leads.decide_extension(extension_id, True), None)

    @post("/extensions/{extension_id:uuid}/reject", opt=requires(STAFF_LEAD, "approve"), status_code=200)
    async def reject_extension(self, extension_id: FromPath[uuid.UUID], db: DB, leads: LeadsDep) -> ExtensionOut:
        return extension_out(leads, await leads.decide_extension(extension_id, False), None)

    @get("/{lead_id:uuid}", opt=requires(STAFF_LEAD, "read"))
    async def get_lead(self, lead_id: FromPath[uuid.UUID], leads: LeadsDep) -> LeadDetailOut:
        """The lead with its history and follow-ups."""
        return await detail(leads, lead_id)

    @post("/{lead_id:uuid}/distribute", opt=requires(STAFF_LEAD, "distribute"), status_code=200)
    async def distribute_lead(
        self, lead_id: FromPath[uuid.UUID], data: JSONBody[DistributeIn], db: DB, leads: LeadsDep
    ) -> LeadOut:
        """By hand: to a partner enterprise (`enterprise_id`, with `pool_id` its home pool) or into a pool
        (`pool_id` alone). A partner holding it loses it."""
        return typed(leads.out(await leads.distribute(lead_id, data.enterprise_id, data.pool_id)), LeadOut)

    @post("/{lead_id:uuid}/claim", opt=requires(STAFF_LEAD, "claim"), status_code=200)
    async def claim(self, lead_id: FromPath[uuid.UUID], db: DB, leads: LeadsDep) -> LeadOut:
        """Take a pooled lead for oneself, under the pool's person, daily and cooldown rules (409
        `lead_taken`, `lead_limit_reached`, `lead_cooldown`)."""
        return typed(leads.out(await leads.claim(lead_id)), LeadOut)

    @post("/{lead_id:uuid}/return", opt=requires(STAFF_LEAD, "claim"), status_code=200)
    async def give_back(
        self, lead_id: FromPath[uuid.UUID], data: JSONBody[ReturnIn], db: DB, leads: LeadsDep
    ) -> LeadOut:
        """Give a lead one claimed back to its pool."""
        return typed(leads.out(await leads.give_back(lead_id, data.note)), LeadOut)

    @post("/{lead_id:uuid}/follow-ups", opt=requires(STAFF_LEAD, "update"))
    async def follow_up(
        self, lead_id: FromPath[uuid.UUID], data: JSONBody[FollowUpIn], db: DB, leads: LeadsDep
    ) -> FollowUpOut:
        entry = await leads.follow_up(lead_id, sent(data))
        return typed({n: getattr(entry, n) for n in FollowUpOut.__struct_fields__}, FollowUpOut)


class LeadSetupController(Controller):
    """Pools with their rules, and the ordered assignment rules."""

    path = "/api/agent"
    tags = ["leads"]
    dependencies = STAFF_DEPENDENCIES

    @get("/lead-pools", opt=requires(LEAD_SETUP, "read"))
    async def list_pools(self, lead_setup: LeadSetupDep) -> list[PoolOut]:
        return [pool_out(p) for p in await lead_setup.pools()]

    @post("/lead-pools", opt=requires(LEAD_SETUP, "update"))
    async def create_pool(self, data: JSONBody[PoolIn], db: DB, lead_setup: LeadSetupDep) -> PoolOut:
        """A pool: who may claim (partner type, region), the holding and daily limits, the fields shown
        while unclaimed, the cooldown, and the recycling deadlines with the notice before them."""
        return pool_out(await lead_setup.create_pool(sent(data)))

    @patch("/lead-pools/{pool_id:uuid}", opt=requires(LEAD_SETUP, "update"))
    async def update_pool(
        self, pool_id: FromPath[uuid.UUID], data: JSONBody[PoolPatch], db: DB, lead_setup: LeadSetupDep
    ) -> PoolOut:
        return pool_out(await lead_setup.update_pool(pool_id, sent(data)))

    @get("/lead-rules", opt=requires(LEAD_SETUP, "read"))
    async def list_rules(self, lead_setup: LeadSetupDep) -> list[RuleOut]:
        """In the order a new lead goes through them."""
        return [rule_out(r) for r in await lead_setup.rules()]

    @post("/lead-rules", opt=requires(LEAD_SETUP, "update"))
    async def create_rule(self, data: JSONBody[RuleIn], db: DB, lead_setup: LeadSetupDep) -> RuleOut:
        return rule_out(await lead_setup.create_rule(sent(data)))

    @patch("/lead-rules/{lead_rule_id:uuid}", opt=requires(LEAD_SETUP, "update"))
    async def update_rule(
        self, lead_rule_id: FromPath[uuid.UUID], data: JSONBody[RulePatch], db: DB, lead_setup: LeadSetupDep
    ) -> RuleOut:
        return rule_out(await lead_setup.update_rule(lead_rule_id, sent(data)))

    @delete("/lead-rules/{lead_rule_id:uuid}", opt=requires(LEAD_SETUP, "update"))
    async def delete_rule(self, lead_rule_id: FromPath[uuid.UUID], db: DB, lead_setup: LeadSetupDep) -> None:
        await lead_setup.delete_rule(lead_rule_id)


class PartnerLeadsController(Controller):
    """A partner's pools and leads."""

    path = "/api/partner/agent"
    tags = ["partner: leads"]
    dependencies = PARTNER_DEPENDENCIES

    @get("/pool", opt=requires(PARTNER_LEAD, "read"))
    async def list_pool(
        self, leads: LeadsDep, pool_id: FromQuery[uuid.UUID | None] = None, limit: Limit = 50, offset: Offset = 0
    ) -> PoolLeadPage:
        """The unclaimed leads of the pools one's enterprise may claim from, oldest first, with only the
        fields each pool opens."""
        items, total, _pools = await leads.pool_page(pool_id, limit, offset)
        return typed({"items": items, "total": total, "limit": limit, "offset": offset}, PoolLeadPage)

    @post("/pool/{lead_id:uuid}/claim", opt=requires(PARTNER_LEAD, "claim"), status_code=200)
    async def claim(self, lead_id: FromPath[uuid.UUID], db: DB, leads: LeadsDep) -> LeadOut:
        """Take a lead from the pool: 409 `lead_taken` if someone was first, `lead_limit_reached` over a
        holding or daily limit, `lead_cooldown` too soon after giving it back or losing it."""
        return typed(leads.out(await leads.claim(lead_id)), LeadOut)

    @get("/leads", opt=requires(PARTNER_LEAD, "read"))
    async def list_leads(
        self, leads: LeadsDep, status: FromQuery[str | None] = None, limit: Limit = 50, offset: Offset = 0
    ) -> LeadPage:
        """The leads one's data level reaches (one's own, or one's enterprise's)."""
        return await page_of(leads, LeadFilter(status), limit, offset)

    @get("/leads/{lead_id:uuid}", opt=requires(PARTNER_LEAD, "read"))
    async def get_lead(self, lead_id: FromPath[uuid.UUID], leads: LeadsDep) -> LeadDetailOut:
        return await detail(leads, lead_id)

    @post("/leads/{lead_id:uuid}/return", opt=requires(PARTNER_LEAD, "return"), status_code=200)
    async def give_back(
        self, lead_id: FromPath[uuid.UUID], data: JSONBody[ReturnIn], db: DB, leads: LeadsDep
    ) -> LeadOut:
        """Give a lead back to its pool (or the upstream); claiming it again waits for the pool's cooldown."""
        return typed(leads.out(await leads.give_back(lead_id, data.note)), LeadOut)

    @post("/leads/{lead_id:uuid}/follow-ups", opt=requires(PARTNER_LEAD, "update"))
    async def follow_up(
        self, lead_id: FromPath[uuid.UUID], data: JSONBody[FollowUpIn], db: DB, leads: LeadsDep
    ) -> FollowUpOut:
        """A call, visit or message, with the next step: restarts the pool's follow-up deadline."""
        entry = await leads.follow_up(lead_id, sent(data))
        return typed({n: getattr(entry, n) for n in FollowUpOut.__struct_fields__}, FollowUpOut)

    @post("/leads/{lead_id:uuid}/convert", opt=requires(PARTNER_LEAD, "update"), status_code=200)
    async def convert(
        self,
        lead_id: FromPath[uuid.UUID],
        db: DB,
        leads: LeadsDep,
        registrations: RegistrationsDep,
        data: JSONBody[ConvertIn | None] = None,
    ) -> ConvertedLeadOut:
        """The lead became business, in one step: it is no longer recycled, and it is registered as a
        deal of one's enterprise (the body adds the amount, currency, expected close and tax id) linked
        to the customer's CRM account and contact, made from the lead when no account matches. 409
        `customer_protected` if another partner's registration protects the customer (nothing changes)."""
        lead, deal = await convert_lead(leads, registrations, lead_id, sent(data) if data else {})
        return typed({**leads.out(lead), "deal": registrations.out(deal)}, ConvertedLeadOut)

    @post("/leads/{lead_id:uuid}/extension", opt=requires(PARTNER_LEAD, "update"))
    async def request_extension(
        self, lead_id: FromPath[uuid.UUID], data: JSONBody[ExtensionIn], db: DB, leads: LeadsDep
    ) -> ExtensionOut:
        """Ask the upstream for `days` more before the lead is recycled."""
        extension = await leads.request_extension(lead_id, data.days, data.reason)
        return extension_out(leads, extension, None)


LEAD_CONTROLLERS = [StaffLeadsController, LeadSetupController, PartnerLeadsController]
