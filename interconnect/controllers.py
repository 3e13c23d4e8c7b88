"""The upstream admin's JSON API for the partner programme: settings, enterprises, people, invitations."""

from __future__ import annotations

import uuid

from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_201_CREATED
from msgspec import UNSET

from interconnect import quotas
from interconnect.dependencies import DEPENDENCIES, InvitationsDep, LinksDep, PeopleDep, ProgrammeDep
from interconnect.invitations import NewInvitation
from interconnect.links import EnterpriseChanges, LinkFilter, NewEnterprise
from interconnect.models import PartnerTier, PartnerType, Region
from interconnect.notices import Handover
from interconnect.people import NewPerson, People, create_enterprise
from interconnect.schemas import (
    CreatedEnterpriseOut,
    EnterpriseDetailOut,
    EnterpriseIn,
    EnterpriseOut,
    EnterprisePage,
    EnterprisePatch,
    InvitationIn,
    InvitationOut,
    MemberOut,
    MemberPage,
    MemberStatusIn,
    QuotaOut,
    SettingIn,
    SettingOut,
    SettingPatch,
    SetupLinkOut,
    StatusChangeOut,
    StatusIn,
)
from interconnect.services import InterconnectDep
from portal.http.deps import DB, CurrentActor, ServicesDep
from portal.http.idempotent import shown_once
from portal.http.inputs import Limit, Offset, Search
from portal.identity.session_controllers import SessionsEndedOut
from portal.identity.signed_in import end_sessions_of
from portal.permissions import requires


def setting_out(item: PartnerType | PartnerTier | Region) -> SettingOut:
    if isinstance(item, PartnerType):
        return SettingOut(item.id, item.code, item.name, preset=item.preset, active=item.active)
    if isinstance(item, PartnerTier):
        return SettingOut(item.id, item.code, item.name, rank=item.rank)
    return SettingOut(item.id, item.code, item.name)


class ProgrammeController(Controller):
    path = "/api/interconnect"
    tags = ["partner programme"]
    dependencies = DEPENDENCIES

    @get("/partner-types", opt=requires("interconnect.programme", "read"))
    async def list_types(self, programme: ProgrammeDep) -> list[SettingOut]:
        return [setting_out(t) for t in await programme.list(PartnerType)]

    @post("/partner-types", opt=requires("interconnect.programme", "update"), status_code=HTTP_201_CREATED)
    async def create_type(self, data: JSONBody[SettingIn], db: DB, programme: ProgrammeDep) -> SettingOut:
        return setting_out(await programme.create(PartnerType, data.code, data.name))

    @patch("/partner-types/{partner_type_id:uuid}", opt=requires("interconnect.programme", "update"))
    async def update_type(
        self, partner_type_id: FromPath[uuid.UUID], data: JSONBody[SettingPatch], programme: ProgrammeDep
    ) -> SettingOut:
        return setting_out(await programme.update(PartnerType, partner_type_id, name=data.name, active=data.active))

    @get("/tiers", opt=requires("interconnect.programme", "read"))
    async def list_tiers(self, programme: ProgrammeDep) -> list[SettingOut]:
        return [setting_out(t) for t in await programme.list(PartnerTier)]

    @post("/tiers", opt=requires("interconnect.programme", "update"), status_code=HTTP_201_CREATED)
    async def create_tier(self, data: JSONBody[SettingIn], db: DB, programme: ProgrammeDep) -> SettingOut:
        return setting_out(await programme.create(PartnerTier, data.code, data.name, data.rank))

    @patch("/tiers/{tier_id:uuid}", opt=requires("interconnect.programme", "update"))
    async def update_tier(
        self, tier_id: FromPath[uuid.UUID], data: JSONBody[SettingPatch], programme: ProgrammeDep
    ) -> SettingOut:
        return setting_out(await programme.update(PartnerTier, tier_id, name=data.name, rank=data.rank))

    @get("/regions", opt=requires("interconnect.programme", "read"))
    async def list_regions(self, programme: ProgrammeDep) -> list[SettingOut]:
        return [setting_out(r) for r in await programme.list(Region)]

    @post("/regions", opt=requires("interconnect.programme", "update"), status_code=HTTP_201_CREATED)
    async def create_region(self, data: JSONBody[SettingIn], db: DB, programme: ProgrammeDep) -> SettingOut:
        return setting_out(await programme.create(Region, data.code, data.name))

    @get("/quota", opt=requires("interconnect.programme", "read"))
    async def quota(self, db: DB) -> QuotaOut:
        """How many partner enterprises and external users this programme has, against its quota."""
        return QuotaOut.of(await quotas.usage(db))


class EnterprisesController(Controller):
    path = "/api/interconnect/enterprises"
    tags = ["partner enterprises"]
    dependencies = DEPENDENCIES

    @get("/", opt=requires("interconnect.enterprises", "read"))
    async def list_enterprises(
        self,
        links: LinksDep,
        q: Search = None,
        partner_type_id: FromQuery[uuid.UUID | None] = None,
        tier_id: FromQuery[uuid.UUID | None] = None,
        region_id: FromQuery[uuid.UUID | None] = None,
        status: FromQuery[str | None] = None,
        under: FromQuery[uuid.UUID | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> EnterprisePage:
        """Search and filter; `under` limits to an enterprise and everything below it."""
        rows, total = await links.search(
            LinkFilter(q, partner_type_id, tier_id, region_id, status, under), limit=limit, offset=offset
        )
        return EnterprisePage([EnterpriseOut.of(r) for r in rows], total, limit, offset)

    @post(
        "/",
        opt={**requires("interconnect.enterprises", "create"), **shown_once("setup_url")},
        status_code=HTTP_201_CREATED,
    )
    async def create_enterprise(
        self,
        data: JSONBody[EnterpriseIn],
        db: DB,
        actor: CurrentActor,
        services: ServicesDep,
        interconnect: InterconnectDep,
    ) -> CreatedEnterpriseOut:
        """Create an enterprise directly, optionally with its first admin, who gets a one-time
        set-password link (returned here, to be sent to them)."""
        admin = data.admin
        created = await create_enterprise(
            db,
            actor,
            services.passwords,
            NewEnterprise(
                data.name,
                data.partner_type_id,
                data.tier_id,
                data.region_id,
                data.parent_id,
                data.code,
                data.contact_phone,
            ),
            None if admin is None else NewPerson(admin.display_name, admin.email, admin.mobile, admin.title),
        )
        handover = Handover()
        if created.admin is not None and created.setup_credential:
            identity = await People(db, services.passwords).identity_of(created.admin)
            handover = await interconnect.hand_over(db, created.admin, identity, created.setup_credential, by=actor)
        return CreatedEnterpriseOut(
            EnterpriseOut.of(created.link),
            created.admin.id if created.admin else None,
            handover.url,
            handover.sent_to,
        )

    @get("/{link_id:uuid}", opt=requires("interconnect.enterprises", "read"))
    async def get_enterprise(
        self, link_id: FromPath[uuid.UUID], links: LinksDep, people: PeopleDep
    ) -> EnterpriseDetailOut:
        link = await links.get(link_id)
        members, _total = await people.list(link.id, limit=200)
        return EnterpriseDetailOut(
            EnterpriseOut.of(link),
            [EnterpriseOut.of(c) for c in await links.children(link.id)],
            [StatusChangeOut.of(c) for c in await links.history(link.id)],
            [MemberOut.of(m, i) for m, i in members],
        )

    @patch("/{link_id:uuid}", opt=requires("interconnect.enterprises", "update"))
    async def update_enterprise(
        self, link_id: FromPath[uuid.UUID], data: JSONBody[EnterprisePatch], links: LinksDep
    ) -> EnterpriseOut:
        """Change the name, partner type, tier, region, code or phone; only the fields given change."""
        given = {name: value for name in data.__struct_fields__ if (value := getattr(data, name)) is not UNSET}
        return EnterpriseOut.of(await links.update(link_id, EnterpriseChanges(**given)))

    @post("/{link_id:uuid}/status", opt=requires("interconnect.enterprises", "update"), status_code=200)
    async def change_status(
        self, link_id: FromPath[uuid.UUID], data: JSONBody[StatusIn], links: LinksDep
    ) -> EnterpriseOut:
        """Suspend, reactivate or terminate. Suspending or terminating ends its users' sessions at once."""
        return EnterpriseOut.of(await links.transition(link_id, data.status, data.reason))

    @get("/{link_id:uuid}/users", opt=requires("interconnect.enterprises", "read"))
    async def list_users(
        self, link_id: FromPath[uuid.UUID], links: LinksDep, people: PeopleDep, limit: Limit = 100, offset: Offset = 0
    ) -> MemberPage:
        await links.get(link_id)
        rows, total = await people.list(link_id, limit=limit, offset=offset)
        return MemberPage([MemberOut.of(m, i) for m, i in rows], total)


class MembersController(Controller):
    path = "/api/interconnect/users"
    tags = ["partner enterprises"]
    dependencies = DEPENDENCIES

    @patch("/{membership_id:uuid}", opt=requires("interconnect.users", "update"))
    async def set_status(
        self, membership_id: FromPath[uuid.UUID], data: JSONBody[MemberStatusIn], people: PeopleDep
    ) -> MemberOut:
        """Disable (ends their sessions at once) or re-enable an external user."""
        membership = await people.set_status(await people.get(membership_id), data.status)
        identity = await people.identity_of(membership)
        return MemberOut.of(membership, identity)

    @post("/{membership_id:uuid}/setup-link", opt=requires("interconnect.users", "update"), status_code=200)
    async def resend_setup_link(
        self,
        membership_id: FromPath[uuid.UUID],
        db: DB,
        actor: CurrentActor,
        people: PeopleDep,
        interconnect: InterconnectDep,
    ) -> SetupLinkOut:
        """A new one-time link for a person who has not accepted yet; their earlier links stop working.
        Sent to them when email or SMS reaches them (the answer says where, masked), else returned."""
        membership = await people.get(membership_id)
        credential = await people.renew_setup_link(membership)
        handover = await interconnect.hand_over(
            db, membership, await people.identity_of(membership), credential, by=actor
        )
        return SetupLinkOut(handover.url, handover.sent_to)

    @delete("/{membership_id:uuid}/sessions", opt=requires("interconnect.users", "update"), status_code=200)
    async def end_member_sessions(
        self, membership_id: FromPath[uuid.UUID], db: DB, people: PeopleDep
    ) -> SessionsEndedOut:
        """Sign a partner out of this workspace everywhere: every browser, app and WeChat sign-in of theirs here
        stops working at once (they may sign in again; their other manufacturers' portals are not touched)."""
        return SessionsEndedOut(await end_sessions_of(db, await people.get(membership_id)))


class InvitationsController(Controller):
    path = "/api/interconnect/invitations"
    tags = ["invitations"]
    dependencies = DEPENDENCIES

    @get("/", opt=requires("interconnect.invitations", "read"))
    async def list_invitations(
        self, invitations: InvitationsDep, interconnect: InterconnectDep, include_inactive: FromQuery[bool] = False
    ) -> list[InvitationOut]:
        rows = await invitations.list(include_inactive=include_inactive)
        return [
            InvitationOut.of(i, interconnect.invitation_url(i.tenant_id, i.id) if i.kind == "link" else None)
            for i in rows
        ]

    @post("/", opt=requires("interconnect.invitations", "create"), status_code=HTTP_201_CREATED)
    async def create_invitation(
        self, data: JSONBody[InvitationIn], db: DB, invitations: InvitationsDep, interconnect: InterconnectDep
    ) -> InvitationOut:
        """An invitation link (default: one use, 14 days) or an invite code (default: unlimited)."""
        invitation = await invitations.create(
            NewInvitation(
                data.kind,
                data.partner_type_id,
                data.tier_id,
                data.parent_id,
                data.max_uses,
                data.expires_in_days,
                data.note,
            )
        )
        url = interconnect.invitation_url(invitation.tenant_id, invitation.id) if invitation.kind == "link" else None
        return InvitationOut.of(invitation, url)

    @post("/{invitation_id:uuid}/revoke", opt=requires("interconnect.invitations", "update"), status_code=200)
    async def revoke(self, invitation_id: FromPath[uuid.UUID], invitations: InvitationsDep) -> InvitationOut:
        return InvitationOut.of(await invitations.revoke(invitation_id), None)


ADMIN_CONTROLLERS = [ProgrammeController, EnterprisesController, MembersController, InvitationsController]
