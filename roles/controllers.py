"""The JSON API of roles: role definitions, templates, data and sharing rules, staff teams, role
assignment of partner people (by the upstream, and by enterprise admins within their template), and
explanations of who may do what."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import msgspec
from litestar import Controller, Request, delete, get, patch, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from sqlalchemy import select

from interconnect.models import Membership
from portal.errors import NotFound
from portal.home import Channel
from portal.http.deps import DB, CurrentActor, ServicesDep
from portal.http.inputs import Multiline
from portal.i18n import N_, gettext
from portal.identity.schemas import Strict
from portal.permissions import requires
from roles.access import policy_of
from roles.admin import RoleAdmin, RoleSpec, RoleView, SharingSpec, TemplateRow
from roles.explain import explain
from roles.home import ShownWidget, home_of
from roles.models import DataRule, Role, SharingRule
from roles.policy import assignable_roles
from roles.presets import PARTNER_APPS


class RoleIn(Strict):
    key: str
    name: str
    kind: str
    description: Multiline | None = None
    apps: list[str] = msgspec.field(default_factory=list)
    grants: list[tuple[str, str]] = msgspec.field(default_factory=list)
    fields: dict[str, dict[str, str]] = msgspec.field(default_factory=dict)
    scopes: dict[str, str] = msgspec.field(default_factory=dict)
    includes: list[str] = msgspec.field(default_factory=list)
    home: dict[str, list[str]] = msgspec.field(default_factory=dict)


class RolePatch(Strict):
    name: str | None = None
    description: Multiline | None = None
    apps: list[str] | None = None
    grants: list[tuple[str, str]] | None = None
    fields: dict[str, dict[str, str]] | None = None
    scopes: dict[str, str] | None = None
    includes: list[str] | None = None
    home: dict[str, list[str]] | None = None

    def spec(self) -> RoleSpec:
        return RoleSpec(
            self.name, self.description, self.apps, self.grants, self.fields, self.scopes, self.includes, self.home
        )


class RoleOut(msgspec.Struct):
    id: uuid.UUID
    key: str
    name: str
    kind: str
    description: str | None
    preset: bool
    apps: list[str]
    grants: list[tuple[str, str]]
    fields: dict[str, dict[str, str]]
    scopes: dict[str, str]
    includes: list[str]
    holders: int
    # partner roles: the home's widget keys per channel; a channel left out shows the default widgets
    home: dict[str, list[str]]

    @classmethod
    def of(cls, v: RoleView) -> RoleOut:
        r = v.role
        return cls(
            r.id,
            r.key,
            r.name,
            r.kind,
            r.description,
            r.preset,
            list(r.apps or []),
            v.grants,
            v.fields,
            v.scopes,
            v.includes,
            v.holders,
            {channel: list(keys) for channel, keys in (r.home or {}).items()},
        )


class TemplateRowIO(Strict):
    role_key: str
    assignable: bool = True
    member_default: bool = False
    admin_default: bool = False


class DataRuleIn(Strict):
    object: str
    level: str | None
    partner_type_id: uuid.UUID | None = None
    link_id: uuid.UUID | None = None
    include_sub_enterprises: bool = False


class DataRuleOut(msgspec.Struct):
    id: uuid.UUID
    object: str
    level: str
    partner_type_id: uuid.UUID | None
    link_id: uuid.UUID | None
    include_sub_enterprises: bool

    @classmethod
    def of(cls, d: DataRule) -> DataRuleOut:
        return cls(d.id, d.object, d.level, d.partner_type_id, d.link_id, d.include_sub_enterprises)


class SharingIn(Strict):
    name: str
    object: str
    field: str
    operator: str
    value: Any
    target_kind: str
    target: str
    access: str = "read"
    active: bool = True

    def spec(self) -> SharingSpec:
        return SharingSpec(**{k: getattr(self, k) for k in self.__struct_fields__})


class SharingOut(msgspec.Struct):
    id: uuid.UUID
    name: str
    object: str
    field: str
    operator: str
    value: Any
    target_kind: str
    target: str
    access: str
    active: bool

    @classmethod
    def of(cls, s: SharingRule) -> SharingOut:
        return cls(s.id, s.name, s.object, s.field, s.operator, s.value, s.target_kind, s.target, s.access, s.active)


class TeamIn(Strict):
    name: str


class TeamMembersIn(Strict):
    user_ids: list[uuid.UUID]


class TeamRegionsIn(Strict):
    region_ids: list[uuid.UUID]


class TeamOut(msgspec.Struct):
    id: uuid.UUID
    name: str
    user_ids: list[uuid.UUID]
    # the regions whose records the "region" scope opens to the team's members
    region_ids: list[uuid.UUID] = msgspec.field(default_factory=list)


async def _team_out(role_admin: RoleAdmin, team_id: uuid.UUID) -> TeamOut:
    regions = await role_admin.team_regions()
    return next(
        TeamOut(t.id, t.name, users, regions.get(t.id, [])) for t, users in await role_admin.teams() if t.id == team_id
    )


class RolesIn(Strict):
    roles: list[str]


class AssignedOut(msgspec.Struct):
    user_id: uuid.UUID
    roles: list[str]


class ObjectOut(msgspec.Struct):
    name: str
    label: str
    audience: str
    actions: list[str]
    fields: list[str]
    app: str | None
    data_scoped: bool


class CatalogueOut(msgspec.Struct):
    objects: list[ObjectOut]
    apps: list[str]


class ReasonOut(msgspec.Struct):
    kind: str
    detail: dict[str, Any]


class ExplanationOut(msgspec.Struct):
    user_id: uuid.UUID
    kind: str
    display_name: str
    roles: list[str]
    object: str
    actions: dict[str, list[str]]
    apps_open: bool
    fields: dict[str, str]
    read: list[ReasonOut]
    write: list[ReasonOut]


def provide_role_admin(db: DB, actor: CurrentActor, services: ServicesDep) -> RoleAdmin:
    return RoleAdmin(db, actor, services.objects, services.home_widgets)


DEPENDENCIES = {"role_admin": Provide(provide_role_admin, sync_to_thread=False)}
RoleAdminDep = NamedDependency[RoleAdmin]


class RolesController(Controller):
    path = "/api/roles"
    tags = ["roles"]
    dependencies = DEPENDENCIES

    @get("/", opt=requires("roles", "read"))
    async def list_roles(self, role_admin: RoleAdminDep, kind: FromQuery[str | None] = None) -> list[RoleOut]:
        return [RoleOut.of(v) for v in await role_admin.list(kind)]

    @post("/", opt=requires("roles", "update"), status_code=HTTP_201_CREATED)
    async def create_role(self, data: JSONBody[RoleIn], db: DB, role_admin: RoleAdminDep) -> RoleOut:
        spec = RoleSpec(
            data.name, data.description, data.apps, data.grants, data.fields, data.scopes, data.includes, data.home
        )
        return RoleOut.of(await role_admin.create(data.key, data.kind, spec))

    @get("/{key:str}", opt=requires("roles", "read"))
    async def get_role(self, key: FromPath[str], role_admin: RoleAdminDep) -> RoleOut:
        return RoleOut.of(await role_admin.get(key))

    @patch("/{key:str}", opt=requires("roles", "update"))
    async def update_role(self, key: FromPath[str], data: JSONBody[RolePatch], role_admin: RoleAdminDep) -> RoleOut:
        """Change a role; every part given replaces that part. Applies on everyone's next request."""
        return RoleOut.of(await role_admin.update(key, data.spec()))

    @delete("/{key:str}", opt=requires("roles", "update"), status_code=HTTP_204_NO_CONTENT)
    async def delete_role(self, key: FromPath[str], role_admin: RoleAdminDep) -> None:
        await role_admin.delete(key)


class AccessRulesController(Controller):
    path = "/api/access"
    tags = ["roles"]
    dependencies = DEPENDENCIES

    @get("/objects", opt=requires("roles", "read"))
    async def objects(self, services: ServicesDep) -> CatalogueOut:
        """What roles can grant: objects with their actions and fields, and the partner apps."""
        return CatalogueOut(
            [
                ObjectOut(
                    o.name, o.label, o.audience, list(o.actions), [f for f, _l in o.fields], o.app, o.model is not None
                )
                for o in sorted(services.objects.values(), key=lambda o: o.name)
                if o.audience != "integration"
            ],
            [key for key, _label in PARTNER_APPS],
        )

    @get("/templates/{partner_type_id:uuid}", opt=requires("roles", "read"))
    async def templates(self, partner_type_id: FromPath[uuid.UUID], role_admin: RoleAdminDep) -> list[TemplateRowIO]:
        rows = await role_admin.templates(partner_type_id)
        return [TemplateRowIO(r.role_key, r.assignable, r.member_default, r.admin_default) for r in rows]

    @put("/templates/{partner_type_id:uuid}", opt=requires("roles", "update"))
    async def set_templates(
        self,
        partner_type_id: FromPath[uuid.UUID],
        data: JSONBody[list[TemplateRowIO]],
        role_admin: RoleAdminDep,
    ) -> list[TemplateRowIO]:
        wanted = [TemplateRow(r.role_key, r.assignable, r.member_default, r.admin_default) for r in data]
        rows = await role_admin.set_templates(partner_type_id, wanted)
        return [TemplateRowIO(r.role_key, r.assignable, r.member_default, r.admin_default) for r in rows]

    @get("/data", opt=requires("roles", "read"))
    async def data_rules(self, role_admin: RoleAdminDep) -> list[DataRuleOut]:
        return [DataRuleOut.of(d) for d in await role_admin.data_rules()]

    @put("/data", opt=requires("roles", "update"))
    async def set_data_rule(self, data: JSONBody[DataRuleIn], role_admin: RoleAdminDep) -> DataRuleOut | None:
        """Set one partner type's level for an object, or one enterprise's override; level null removes it."""
        row = await role_admin.set_data_rule(
            data.object,
            data.level,
            partner_type_id=data.partner_type_id,
            link_id=data.link_id,
            include_sub_enterprises=data.include_sub_enterprises,
        )
        return None if row is None else DataRuleOut.of(row)

    @get("/sharing", opt=requires("roles", "read"))
    async def sharing_rules(self, role_admin: RoleAdminDep) -> list[SharingOut]:
        return [SharingOut.of(s) for s in await role_admin.sharing_rules()]

    @post("/sharing", opt=requires("roles", "update"), status_code=HTTP_201_CREATED)
    async def add_sharing_rule(self, data: JSONBody[SharingIn], db: DB, role_admin: RoleAdminDep) -> SharingOut:
        return SharingOut.of(await role_admin.add_sharing_rule(data.spec()))

    @put("/sharing/{rule_id:uuid}", opt=requires("roles", "update"))
    async def update_sharing_rule(
        self,
        rule_id: FromPath[uuid.UUID],
        data: JSONBody[SharingIn],
        role_admin: RoleAdminDep,
    ) -> SharingOut:
        return SharingOut.of(await role_admin.update_sharing_rule(rule_id, data.spec()))

    @delete("/sharing/{rule_id:uuid}", opt=requires("roles", "update"), status_code=HTTP_204_NO_CONTENT)
    async def delete_sharing_rule(self, rule_id: FromPath[uuid.UUID], role_admin: RoleAdminDep) -> None:
        await role_admin.delete_sharing_rule(rule_id)

    @get("/teams", opt=requires("roles", "read"))
    async def teams(self, role_admin: RoleAdminDep) -> list[TeamOut]:
        regions = await role_admin.team_regions()
        return [TeamOut(t.id, t.name, users, regions.get(t.id, [])) for t, users in await role_admin.teams()]

    @post("/teams", opt=requires("roles", "update"), status_code=HTTP_201_CREATED)
    async def add_team(self, data: JSONBody[TeamIn], db: DB, role_admin: RoleAdminDep) -> TeamOut:
        team = await role_admin.add_team(data.name)
        return TeamOut(team.id, team.name, [])

    @put("/teams/{team_id:uuid}/members", opt=requires("roles", "update"))
    async def set_team_members(
        self,
        team_id: FromPath[uuid.UUID],
        data: JSONBody[TeamMembersIn],
        role_admin: RoleAdminDep,
    ) -> TeamOut:
        await role_admin.set_team_members(team_id, data.user_ids)
        return await _team_out(role_admin, team_id)

    @put("/teams/{team_id:uuid}/regions", opt=requires("roles", "update"))
    async def set_team_regions(
        self,
        team_id: FromPath[uuid.UUID],
        data: JSONBody[TeamRegionsIn],
        role_admin: RoleAdminDep,
    ) -> TeamOut:
        """The regions the team covers: a staff role whose scope on an object is "region" sees the
        records of those regions (and its holder's own)."""
        await role_admin.set_team_regions(team_id, data.region_ids)
        return await _team_out(role_admin, team_id)

    @get("/explain", opt=requires("roles", "read"))
    async def explain(
        self,
        user_id: FromQuery[uuid.UUID],
        object: FromQuery[str],
        request: Request[Any, Any, Any],
        db: DB,
        actor: CurrentActor,
        record_id: FromQuery[uuid.UUID | None] = None,
    ) -> ExplanationOut:
        """Why a user may (or may not) act on an object, see its fields, and read or change one record."""
        policy = policy_of(request)
        found = await explain(db, policy, policy.current(actor.tenant_id), user_id, object, record_id)
        return ExplanationOut(
            found.user_id,
            found.kind,
            found.display_name,
            found.roles,
            found.object,
            found.actions,
            found.apps_open,
            found.fields,
            [ReasonOut(r.kind, dict(r.detail)) for r in found.read],
            [ReasonOut(r.kind, dict(r.detail)) for r in found.write],
        )


async def _member(db: DB, membership_id: uuid.UUID) -> Membership:
    found = await db.scalar(select(Membership).where(Membership.id == membership_id))
    if found is None:
        raise NotFound(N_("No such person"))
    return found


async def _colleague(db: DB, actor: CurrentActor, membership_id: uuid.UUID) -> Membership:
    """A person of the actor's own enterprise; people without an enterprise have no colleagues."""
    member = await _member(db, membership_id)
    if actor.enterprise_id is None or member.link_id != actor.enterprise_id:
        raise NotFound(N_("No such person"))
    return member


async def _held(db: DB, services: ServicesDep, member: Membership) -> AssignedOut:
    return AssignedOut(member.id, sorted((await services.permissions.roles_of(db, [member.id]))[member.id]))


async def _assign(
    db: DB, services: ServicesDep, actor: CurrentActor, member: Membership, roles: list[str]
) -> AssignedOut:
    return AssignedOut(member.id, sorted(await services.permissions.assign(db, actor, member.id, "external", roles)))


class MemberRolesController(Controller):
    path = "/api/interconnect/users"
    tags = ["partner enterprises"]

    @get("/{membership_id:uuid}/roles", opt=requires("interconnect.enterprises", "read"))
    async def roles(self, membership_id: FromPath[uuid.UUID], db: DB, services: ServicesDep) -> AssignedOut:
        return await _held(db, services, await _member(db, membership_id))

    @put("/{membership_id:uuid}/roles", opt=requires("interconnect.users", "update"))
    async def set_roles(
        self,
        membership_id: FromPath[uuid.UUID],
        data: JSONBody[RolesIn],
        db: DB,
        actor: CurrentActor,
        services: ServicesDep,
    ) -> AssignedOut:
        """Give a partner person exactly these roles; takes effect on their next request."""
        return await _assign(db, services, actor, await _member(db, membership_id), data.roles)


class HomeLinkOut(msgspec.Struct):
    text: str
    page: str  # the portal page, a path on this site


class HomeBarOut(msgspec.Struct):
    label: str
    value: int | Decimal


class HomeWidgetOut(msgspec.Struct):
    key: str
    kind: str
    title: str
    caption: str
    # the list behind the figure: the portal page and the partner API's list (for the app to open)
    page: str
    api: str | None
    value: int | Decimal | None
    figure: str  # the value as the portal shows it
    series: list[HomeBarOut]
    links: list[HomeLinkOut]

    @classmethod
    def of(cls, shown: ShownWidget, base: str) -> HomeWidgetOut:
        w, t = shown.widget, shown.tile
        return cls(
            w.key,
            w.kind,
            gettext(w.title),
            gettext(t.caption) if t.caption else "",
            base + t.page,
            t.api,
            t.value,
            shown.figure,
            [HomeBarOut(label, value) for label, value in t.series],
            [HomeLinkOut(link.text if link.literal else gettext(link.text), base + link.page) for link in t.links],
        )


class HomeOut(msgspec.Struct):
    channel: str
    widgets: list[HomeWidgetOut]


class PartnerRolesController(Controller):
    path = "/api/partner"
    tags = ["partner self-administration"]

    @get("/home", opt=requires("partner.profile", "read"))
    async def home(
        self, db: DB, actor: CurrentActor, services: ServicesDep, channel: FromQuery[Channel] = "web"
    ) -> HomeOut:
        """The person's home for a channel (web or mobile): the widgets their roles' layouts name that
        their permissions open, each with its figure and the list behind it, in the person's language."""
        shown = await home_of(db, actor, services, channel)
        return HomeOut(channel, [HomeWidgetOut.of(s, f"/p/{actor.tenant_slug}/") for s in shown])

    @get("/roles", opt=requires("partner.colleagues", "read"))
    async def assignable(self, db: DB, actor: CurrentActor) -> list[RoleOut]:
        """The roles this enterprise's admins may hand out to colleagues."""
        keys = await assignable_roles(db, actor.partner_type_id)
        rows = await db.scalars(select(Role).where(Role.key.in_(keys)).order_by(Role.name))
        return [RoleOut.of(RoleView(r)) for r in rows]

    @get("/colleagues/{membership_id:uuid}/roles", opt=requires("partner.colleagues", "read"))
    async def colleague_roles(
        self, membership_id: FromPath[uuid.UUID], db: DB, actor: CurrentActor, services: ServicesDep
    ) -> AssignedOut:
        return await _held(db, services, await _colleague(db, actor, membership_id))

    @put("/colleagues/{membership_id:uuid}/roles", opt=requires("partner.colleagues", "update"))
    async def set_colleague_roles(
        self,
        membership_id: FromPath[uuid.UUID],
        data: JSONBody[RolesIn],
        db: DB,
        actor: CurrentActor,
        services: ServicesDep,
    ) -> AssignedOut:
        """Give a colleague roles among those the enterprise may hand out; others they hold stay."""
        return await _assign(db, services, actor, await _colleague(db, actor, membership_id), data.roles)


ROLE_CONTROLLERS = [RolesController, AccessRulesController, MemberRolesController, PartnerRolesController]
