"""The registration API: partners under /api/partner/agent (register with the duplicate check, the hints
the form asks for while one types, their registrations, the extension request, follow-ups on deals),
the upstream's staff under /api/agent (the conflict queue and its decisions, extensions, the programme's
protection days, registrations across partners, follow-ups on deals)."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody

from apps.agent.dependencies import (
    PARTNER_DEPENDENCIES,
    STAFF_DEPENDENCIES,
    DealFollowUpsDep,
    RegistrationsDep,
)
from apps.agent.leads.schemas import FollowUpIn, FollowUpOut
from apps.agent.objects import PARTNER_OBJECT, STAFF_OBJECT, STAFF_REGISTRATION
from apps.agent.registrations.follow_ups import DealFollowUps
from apps.agent.registrations.models import DealFollowUp
from apps.agent.registrations.schemas import (
    ConflictOut,
    DealHistoryOut,
    DecisionIn,
    HintsOut,
    RegistrationIn,
    RegistrationOut,
    RegistrationPage,
    SettingsIn,
    SettingsOut,
    SidePage,
)
from apps.agent.registrations.service import Registrations
from portal.http.deps import DB, ServicesDep
from portal.http.inputs import Limit, Offset
from portal.identity.schemas import sent, typed
from portal.permissions import requires

Text = FromQuery[str | None]


def registration_out(registrations: Registrations, deal: Any) -> RegistrationOut:
    return typed(registrations.out(deal), RegistrationOut)


def follow_up_out(entry: Any) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in FollowUpOut.__struct_fields__}


async def history_out(follow_ups: DealFollowUps, deal_id: uuid.UUID) -> DealHistoryOut:
    history = await follow_ups.history(deal_id)
    return typed(
        {
            "follow_ups": [follow_up_out(f) for f in history.follow_ups],
            "lead_id": history.lead.id if history.lead else None,
            "lead_company": history.lead.company_name if history.lead else None,
            "lead_events": [
                {n: getattr(e, n) for n in ("action", "actor_kind", "enterprise_id", "note", "at")}
                for e in history.lead_events
            ],
            "lead_follow_ups": [follow_up_out(f) for f in history.lead_follow_ups],
        },
        DealHistoryOut,
    )


async def settings_out(registrations: Registrations) -> SettingsOut:
    found = await registrations.settings()
    return SettingsOut(protection_days=found.protection_days, extension_days=found.extension_days)


class PartnerRegistrationsController(Controller):
    path = "/api/partner/agent"
    tags = ["partner: deal registration"]
    dependencies = PARTNER_DEPENDENCIES

    @get("/registrations", opt=requires(PARTNER_OBJECT, "read"))
    async def list_registrations(
        self,
        registrations: RegistrationsDep,
        expiring: FromQuery[bool] = False,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> RegistrationPage:
        """The registrations one may read (one's enterprise's, by one's data level), newest first, with
        the end of their protection; `expiring=true`: those whose protection ends within 14 days, the
        soonest first (what the home's to-do counts)."""
        rows, total = await registrations.page(limit, offset, expiring=expiring)
        return RegistrationPage(
            items=[registration_out(registrations, d) for d in rows], total=total, limit=limit, offset=offset
        )

    @post("/registrations", opt=requires(PARTNER_OBJECT, "create"))
    async def register(
        self, data: JSONBody[RegistrationIn], db: DB, registrations: RegistrationsDep
    ) -> RegistrationOut:
        """Register a deal for one's enterprise, checked against the customers already known: 409
        `customer_protected` (naming the protection's end) if another partner's registration protects the
        same company; `registration` "conflict" if it meets another partner's registration otherwise or
        the upstream's own account; "approved", protected for the programme's days, if it meets neither.
        Send an Idempotency-Key header to make retries safe."""
        return registration_out(registrations, await registrations.register(sent(data)))

    @get("/registrations/hints", opt=requires(PARTNER_OBJECT, "create"))
    async def hints(
        self,
        registrations: RegistrationsDep,
        services: ServicesDep,
        customer_name: Text = None,
        tax_id: Text = None,
        phone: Text = None,
        email: Text = None,
    ) -> HintsOut:
        """The known customers what was typed so far meets, for the registration form's live hints; the
        other partner is never named."""
        found = await registrations.hints(
            services.accounts.guard, *(v[:254] if v else None for v in (customer_name, tax_id, phone, email))
        )
        return typed({"hints": found}, HintsOut)

    @post("/registrations/{deal_id:uuid}/extension", opt=requires(PARTNER_OBJECT, "update"), status_code=200)
    async def request_extension(
        self, deal_id: FromPath[uuid.UUID], db: DB, registrations: RegistrationsDep
    ) -> RegistrationOut:
        """Ask once for the protection to run the programme's extension days longer."""
        return registration_out(registrations, await registrations.request_extension(deal_id))

    @get("/deals/{deal_id:uuid}/follow-ups", opt=requires(PARTNER_OBJECT, "read"))
    async def history(self, deal_id: FromPath[uuid.UUID], deal_follow_ups: DealFollowUpsDep) -> DealHistoryOut:
        return await history_out(deal_follow_ups, deal_id)

    @post("/deals/{deal_id:uuid}/follow-ups", opt=requires(PARTNER_OBJECT, "update"))
    async def follow_up(
        self, deal_id: FromPath[uuid.UUID], data: JSONBody[FollowUpIn], db: DB, deal_follow_ups: DealFollowUpsDep
    ) -> FollowUpOut:
        """A call, visit or message on the deal, with the next step: its author is reminded on its date."""
        entry: DealFollowUp = await deal_follow_ups.add(deal_id, sent(data))
        return typed(follow_up_out(entry), FollowUpOut)


class StaffRegistrationsController(Controller):
    path = "/api/agent"
    tags = ["deal registration"]
    dependencies = STAFF_DEPENDENCIES

    @get("/registrations", opt=requires(STAFF_REGISTRATION, "read"))
    async def list_registrations(
        self, registrations: RegistrationsDep, limit: Limit = 50, offset: Offset = 0
    ) -> SidePage:
        """Registrations across partners (as far as one's data scope reaches), newest first."""
        rows, total = await registrations.page(limit, offset)
        names = await registrations.enterprise_names(rows)
        items = [registrations.side(d, names) for d in rows]
        return typed({"items": items, "total": total, "limit": limit, "offset": offset}, SidePage)

    @get("/registrations/conflicts", opt=requires(STAFF_REGISTRATION, "read"))
    async def conflicts(self, registrations: RegistrationsDep) -> list[ConflictOut]:
        """Registrations waiting for a decision, oldest first, each beside the records it met."""
        return typed(await registrations.conflicts(), list[ConflictOut])

    @post("/registrations/{deal_id:uuid}/decision", opt=requires(STAFF_REGISTRATION, "decide"), status_code=200)
    async def decide(
        self, deal_id: FromPath[uuid.UUID], data: JSONBody[DecisionIn], db: DB, registrations: RegistrationsDep
    ) -> RegistrationOut:
        """`approve`: this registration is protected and those it met lose theirs (or are rejected while
        in conflict); `reject`; `split`: protected beside the others, which keep theirs."""
        return registration_out(registrations, await registrations.decide(deal_id, data.outcome))

    @post(
        "/registrations/{deal_id:uuid}/extension/approve", opt=requires(STAFF_REGISTRATION, "decide"), status_code=200
    )
    async def approve_extension(
        self, deal_id: FromPath[uuid.UUID], db: DB, registrations: RegistrationsDep
    ) -> RegistrationOut:
        return registration_out(registrations, await registrations.decide_extension(deal_id, True))

    @post("/registrations/{deal_id:uuid}/extension/reject", opt=requires(STAFF_REGISTRATION, "decide"), status_code=200)
    async def reject_extension(
        self, deal_id: FromPath[uuid.UUID], db: DB, registrations: RegistrationsDep
    ) -> RegistrationOut:
        return registration_out(registrations, await registrations.decide_extension(deal_id, False))

    @get("/registration-settings", opt=requires(STAFF_REGISTRATION, "read"))
    async def get_settings(self, registrations: RegistrationsDep) -> SettingsOut:
        return await settings_out(registrations)

    @put("/registration-settings", opt=requires(STAFF_REGISTRATION, "update"))
    async def put_settings(self, data: JSONBody[SettingsIn], db: DB, registrations: RegistrationsDep) -> SettingsOut:
        """Days an approved registration protects its customer, and days the one extension adds (1 to
        3650); registrations already protected keep the end they have."""
        await registrations.save_settings(data.protection_days, data.extension_days)
        return await settings_out(registrations)

    @get("/deals/{deal_id:uuid}/follow-ups", opt=requires(STAFF_OBJECT, "read"))
    async def history(self, deal_id: FromPath[uuid.UUID], deal_follow_ups: DealFollowUpsDep) -> DealHistoryOut:
        return await history_out(deal_follow_ups, deal_id)

    @post("/deals/{deal_id:uuid}/follow-ups", opt=requires(STAFF_OBJECT, "update"))
    async def follow_up(
        self, deal_id: FromPath[uuid.UUID], data: JSONBody[FollowUpIn], db: DB, deal_follow_ups: DealFollowUpsDep
    ) -> FollowUpOut:
        entry = await deal_follow_ups.add(deal_id, sent(data))
        return typed(follow_up_out(entry), FollowUpOut)


REGISTRATION_CONTROLLERS = [PartnerRegistrationsController, StaffRegistrationsController]
