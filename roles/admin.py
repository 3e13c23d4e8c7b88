"""Editing what roles decide: role definitions (grants, apps, fields, staff data scopes, included roles),
role templates per partner type, data rules, sharing rules and staff teams. Every change moves the
tenant's policy version in the same transaction, so every process recompiles on its next request."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from interconnect.models import EnterpriseLink, PartnerTier, PartnerType, Region
from portal.actor import Actor
from portal.errors import Conflict, FieldError, NotFound, ValidationFailed
from portal.home import CHANNELS, HomeWidget
from portal.i18n import N_
from portal.identity.models import InternalUser
from portal.permissions import ANY, ProtectedObject, policy_changed
from roles.casbin_model import ROLE_PREFIX, USER_PREFIX
from roles.models import (
    DATA_LEVELS,
    FIELD_ACCESS,
    INTERNAL_SCOPES,
    RECORD_ACCESS,
    SHARING_OPERATORS,
    SHARING_TARGETS,
    DataRule,
    FieldRule,
    InternalScope,
    PolicyRule,
    Role,
    RoleTemplate,
    SharingRule,
    StaffTeam,
    StaffTeamMember,
    StaffTeamRegion,
)
from roles.presets import APP_KEYS

KEY = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


@dataclass(frozen=True, slots=True)
class RoleSpec:
    """A role's whole definition; on update, None leaves that part as it is."""

    name: str | None = None
    description: str | None = None
    apps: Sequence[str] | None = None
    grants: Sequence[tuple[str, str]] | None = None
    fields: Mapping[str, Mapping[str, str]] | None = None  # object -> field -> hidden | read_only
    scopes: Mapping[str, str] | None = None  # internal roles: object (or "*") -> own | team | region | all
    includes: Sequence[str] | None = None  # keys of roles whose grants this one also has
    home: Mapping[str, Sequence[str]] | None = None  # external roles: channel -> widget keys, in order


@dataclass
class RoleView:
    role: Role
    grants: list[tuple[str, str]] = field(default_factory=list)
    fields: dict[str, dict[str, str]] = field(default_factory=dict)
    scopes: dict[str, str] = field(default_factory=dict)
    includes: list[str] = field(default_factory=list)
    holders: int = 0


@dataclass(frozen=True, slots=True)
class TemplateRow:
    role_key: str
    assignable: bool = True
    member_default: bool = False
    admin_default: bool = False


@dataclass(frozen=True, slots=True)
class SharingSpec:
    name: str
    object: str
    field: str
    operator: str
    value: Any
    target_kind: str
    target: str
    access: str = "read"
    active: bool = True


def _check(errors: list[FieldError], ok: bool, where: str, message: str, **params: Any) -> None:
    if not ok:
        errors.append(FieldError(where, message, "invalid", params))


class RoleAdmin:
    def __init__(
        self,
        session: AsyncSession,
        actor: Actor,
        objects: Mapping[str, ProtectedObject],
        widgets: Mapping[str, HomeWidget] | None = None,
    ) -> None:
        self.session = session
        self.actor = actor
        self.objects = objects
        self.widgets = widgets or {}

    async def _changed(self) -> None:
        await self.session.flush()
        await policy_changed(self.session, self.actor.tenant_id)

    # roles

    async def list(self, kind: str | None = None) -> list[RoleView]:
        return await self._views(() if kind is None else (Role.kind == kind,))

    async def get(self, key: str) -> RoleView:
        found = await self._views((Role.key == key,))
        if not found:
            raise NotFound(N_("No such role"))
        return found[0]

    async def _views(self, conditions: Sequence[Any]) -> list[RoleView]:
        """The chosen roles with their grants, inclusions, field rules, scopes and number of holders;
        each part read in one query narrowed to those roles."""
        query = select(Role).where(*conditions).order_by(Role.kind, Role.preset.desc(), Role.name)
        roles = list(await self.session.scalars(query))
        views = {r.key: RoleView(r) for r in roles}
        by_id = {r.id: r.key for r in roles}
        subjects = [ROLE_PREFIX + key for key in views]
        for rule in await self.session.scalars(select(PolicyRule).where(PolicyRule.v0.in_(subjects))):
            view = views[rule.v0.removeprefix(ROLE_PREFIX)]
            if rule.ptype == "p":
                view.grants.append((rule.v1, rule.v2))
            else:
                view.includes.append(rule.v1.removeprefix(ROLE_PREFIX))
        for fr in await self.session.scalars(select(FieldRule).where(FieldRule.role_id.in_(by_id))):
            views[by_id[fr.role_id]].fields.setdefault(fr.object, {})[fr.field] = fr.access
        for sc in await self.session.scalars(select(InternalScope).where(InternalScope.role_id.in_(by_id))):
            views[by_id[sc.role_id]].scopes[sc.object] = sc.scope
        holders = await self.session.execute(
            select(PolicyRule.v1, func.count())
            .where(PolicyRule.ptype == "g", PolicyRule.v0.startswith(USER_PREFIX), PolicyRule.v1.in_(subjects))
            .group_by(PolicyRule.v1)
        )
        for role_subject, count in holders:
            views[role_subject.removeprefix(ROLE_PREFIX)].holders = count
        for view in views.values():
            view.grants.sort()
            view.includes.sort()
        return list(views.values())

    async def create(self, key: str, kind: str, spec: RoleSpec) -> RoleView:
        key = key.strip().lower()
        errors: list[FieldError] = []
        _check(errors, bool(KEY.match(key)), "key", N_("must be 2 to 40 lowercase letters, digits or '_'"))
        _check(
            errors,
            kind in ("internal", "external"),
            "kind",
            N_("must be one of %(choices)s"),
            choices="internal, external",
        )
        _check(errors, bool((spec.name or "").strip()), "name", N_("is required"))
        if errors:
            raise ValidationFailed(errors)
        if await self.session.scalar(select(Role.id).where(Role.key == key)):
            raise ValidationFailed.single("key", N_("is already taken"), "taken")
        role = Role(key=key, kind=kind, name=(spec.name or "").strip()[:100], apps=[], preset=False)
        self.session.add(role)
        await self.session.flush()
        await self._apply(role, spec)
        return await self.get(key)

    async def update(self, key: str, spec: RoleSpec) -> RoleView:
        role = (await self.get(key)).role
        if role.key == "admin" and spec.grants is not None and (ANY, ANY) not in spec.grants:
            raise Conflict(N_("The administrator role always keeps every permission"), code="admin_role_fixed")
        await self._apply(role, spec)
        return await self.get(key)

    async def delete(self, key: str) -> None:
        view = await self.get(key)
        if view.role.preset:
            raise Conflict(N_("Preset roles cannot be deleted"), code="preset_role")
        if view.holders:
            raise Conflict(
                N_("%(count)s people hold this role; take it from them first"), code="role_in_use", count=view.holders
            )
        subject = ROLE_PREFIX + key
        for rule in await self.session.scalars(
            select(PolicyRule).where(
                (PolicyRule.v0 == subject) | ((PolicyRule.ptype == "g") & (PolicyRule.v1 == subject))
            )
        ):
            await self.session.delete(rule)
        await self.session.execute(delete(RoleTemplate).where(RoleTemplate.role_id == view.role.id))
        await self.session.delete(view.role)
        await self._changed()

    async def _apply(self, role: Role, spec: RoleSpec) -> None:
        errors: list[FieldError] = []
        external = role.kind == "external"
        if spec.name is not None:
            _check(errors, bool(spec.name.strip()), "name", N_("is required"))
        if spec.apps is not None:
            for app in spec.apps:
                _check(errors, app in APP_KEYS, "apps", N_("%(key)s is not a partner app"), key=app)
        if spec.grants is not None:
            for obj, action in spec.grants:
                described = self.objects.get(obj)
                if obj == ANY:
                    _check(errors, not external, "grants", N_("partner roles are granted objects one by one"))
                elif described is None:
                    _check(errors, False, "grants", N_("%(key)s is not an object"), key=obj)
                else:
                    _check(
                        errors,
                        described.audience == ("external" if external else "internal"),
                        "grants",
                        N_("%(key)s is not for this kind of role"),
                        key=obj,
                    )
                    _check(
                        errors,
                        action == ANY or action in described.actions,
                        "grants",
                        N_("%(key)s is not an action of this object"),
                        key=f"{obj}:{action}",
                    )
        if spec.fields is not None:
            for obj, rules in spec.fields.items():
                described = self.objects.get(obj)
                names = {f for f, _label in described.fields} if described else set()
                for name, access in rules.items():
                    _check(
                        errors,
                        name in names,
                        "fields",
                        N_("%(key)s is not a field of this object"),
                        key=f"{obj}.{name}",
                    )
                    _check(
                        errors,
                        access in (*FIELD_ACCESS, "read_write"),
                        "fields",
                        N_("%(key)s is not a field rule"),
                        key=access,
                    )
        if spec.scopes is not None:
            _check(errors, not external or not spec.scopes, "scopes", N_("only staff roles have data scopes"))
            for obj, scope in spec.scopes.items():
                _check(errors, obj == ANY or obj in self.objects, "scopes", N_("%(key)s is not an object"), key=obj)
                _check(errors, scope in INTERNAL_SCOPES, "scopes", N_("%(key)s is not a data scope"), key=scope)
        if spec.home is not None:
            _check(errors, external or not spec.home, "home", N_("only partner roles have a home page"))
            for channel, keys in spec.home.items():
                _check(errors, channel in CHANNELS, "home", N_("%(key)s is not a channel"), key=channel)
                for key in keys:
                    _check(errors, key in self.widgets, "home", N_("%(key)s is not a widget"), key=key)
                _check(errors, len(set(keys)) == len(keys), "home", N_("a widget is shown once"))
        includes: list[Role] = []
        if spec.includes is not None:
            includes = list(await self.session.scalars(select(Role).where(Role.key.in_(spec.includes))))
            found = {r.key: r for r in includes}
            for key in spec.includes:
                ok = key in found and found[key].kind == role.kind and key != role.key
                _check(errors, ok, "includes", N_("%(key)s is not a role this one can include"), key=key)
            if not errors and await self._would_cycle(role.key, [r.key for r in includes]):
                _check(errors, False, "includes", N_("roles cannot include each other in a circle"))
        if errors:
            raise ValidationFailed(errors)

        if spec.name is not None:
            role.name = spec.name.strip()[:100]
        if spec.description is not None:
            role.description = spec.description.strip()[:300] or None
        if spec.apps is not None:
            role.apps = sorted(set(spec.apps)) if external else []
        if spec.home is not None:
            role.home = {channel: list(keys) for channel, keys in spec.home.items()}
        subject = ROLE_PREFIX + role.key
        if spec.grants is not None:
            await self._replace_rules(subject, "p", {(o, a) for o, a in spec.grants})
        if spec.includes is not None:
            await self._replace_rules(subject, "g", {(ROLE_PREFIX + r.key, "") for r in includes})
        if spec.fields is not None:
            existing = {
                (f.object, f.field): f
                for f in await self.session.scalars(select(FieldRule).where(FieldRule.role_id == role.id))
            }
            wanted = {(o, n): a for o, rules in spec.fields.items() for n, a in rules.items() if a != "read_write"}
            for where, row in existing.items():
                if where not in wanted:
                    await self.session.delete(row)
                else:
                    row.access = wanted[where]
            for (obj, name), access in wanted.items():
                if (obj, name) not in existing:
                    self.session.add(FieldRule(role_id=role.id, object=obj, field=name, access=access))
        if spec.scopes is not None:
            existing_scopes = {
                s.object: s
                for s in await self.session.scalars(select(InternalScope).where(InternalScope.role_id == role.id))
            }
            for obj, row in existing_scopes.items():
                if obj not in spec.scopes:
                    await self.session.delete(row)
                else:
                    row.scope = spec.scopes[obj]
            for obj, scope in spec.scopes.items():
                if obj not in existing_scopes:
                    self.session.add(InternalScope(role_id=role.id, object=obj, scope=scope))
        await self._changed()

    async def _replace_rules(self, subject: str, ptype: str, wanted: set[tuple[str, str]]) -> None:
        existing = {
            (r.v1, r.v2): r
            for r in await self.session.scalars(
                select(PolicyRule).where(PolicyRule.ptype == ptype, PolicyRule.v0 == subject)
            )
        }
        for where, row in existing.items():
            if where not in wanted:
                await self.session.delete(row)
        for v1, v2 in sorted(wanted - existing.keys()):
            self.session.add(PolicyRule(ptype=ptype, v0=subject, v1=v1, v2=v2))

    async def _would_cycle(self, key: str, includes: list[str]) -> bool:
        edges: dict[str, set[str]] = {}
        for rule in await self.session.scalars(
            select(PolicyRule).where(PolicyRule.ptype == "g", PolicyRule.v0.startswith(ROLE_PREFIX))
        ):
            edges.setdefault(rule.v0.removeprefix(ROLE_PREFIX), set()).add(rule.v1.removeprefix(ROLE_PREFIX))
        edges[key] = set(includes)
        seen: set[str] = set()
        stack = list(includes)
        while stack:
            current = stack.pop()
            if current == key:
                return True
            if current not in seen:
                seen.add(current)
                stack.extend(edges.get(current, ()))
        return False

    # templates

    async def templates(self, partner_type_id: uuid.UUID) -> list[TemplateRow]:
        await self._partner_type(partner_type_id)
        rows = await self.session.execute(
            select(Role.key, RoleTemplate)
            .join(RoleTemplate, RoleTemplate.role_id == Role.id)
            .where(RoleTemplate.partner_type_id == partner_type_id)
            .order_by(Role.key)
        )
        return [TemplateRow(key, t.assignable, t.member_default, t.admin_default) for key, t in rows]

    async def set_templates(self, partner_type_id: uuid.UUID, rows: Sequence[TemplateRow]) -> list[TemplateRow]:
        await self._partner_type(partner_type_id)
        keys = [r.role_key for r in rows]
        roles = {r.key: r for r in await self.session.scalars(select(Role).where(Role.key.in_(keys)))}
        errors: list[FieldError] = []
        for key in keys:
            ok = key in roles and roles[key].kind == "external"
            _check(errors, ok, "roles", N_("%(key)s is not a partner role"), key=key)
        if errors:
            raise ValidationFailed(errors)
        existing = {
            t.role_id: t
            for t in await self.session.scalars(
                select(RoleTemplate).where(RoleTemplate.partner_type_id == partner_type_id)
            )
        }
        wanted = {roles[r.role_key].id: r for r in rows}
        for role_id, row in existing.items():
            if role_id not in wanted:
                await self.session.delete(row)
        for role_id, spec in wanted.items():
            row = existing.get(role_id) or RoleTemplate(partner_type_id=partner_type_id, role_id=role_id)
            row.assignable, row.member_default, row.admin_default = (
                spec.assignable,
                spec.member_default,
                spec.admin_default,
            )
            self.session.add(row)
        await self._changed()
        return await self.templates(partner_type_id)

    async def _partner_type(self, partner_type_id: uuid.UUID) -> PartnerType:
        found = await self.session.scalar(select(PartnerType).where(PartnerType.id == partner_type_id))
        if found is None:
            raise NotFound(N_("No such partner type"))
        return found

    # data rules

    async def data_rules(self) -> list[DataRule]:
        return list(await self.session.scalars(select(DataRule).order_by(DataRule.object, DataRule.created_at)))

    async def set_data_rule(
        self,
        obj: str,
        level: str | None,
        *,
        partner_type_id: uuid.UUID | None = None,
        link_id: uuid.UUID | None = None,
        include_sub_enterprises: bool = False,
    ) -> DataRule | None:
        """Set the level of one partner type or one enterprise for an object; None removes an
        enterprise's override (or a type's rule, which means no access: default deny)."""
        errors: list[FieldError] = []
        described = self.objects.get(obj)
        _check(
            errors,
            described is not None and described.model is not None and described.audience == "external",
            "object",
            N_("%(key)s has no data permissions"),
            key=obj,
        )
        _check(
            errors,
            level is None or level in DATA_LEVELS,
            "level",
            N_("must be one of %(choices)s"),
            choices=", ".join(DATA_LEVELS),
        )
        _check(
            errors,
            (partner_type_id is None) != (link_id is None),
            "partner_type_id",
            N_("give a partner type or an enterprise"),
        )
        if errors:
            raise ValidationFailed(errors)
        if partner_type_id is not None:
            await self._partner_type(partner_type_id)
            query = select(DataRule).where(DataRule.object == obj, DataRule.partner_type_id == partner_type_id)
        else:
            if await self.session.scalar(select(EnterpriseLink.id).where(EnterpriseLink.id == link_id)) is None:
                raise ValidationFailed.single("link_id", N_("No such enterprise"), "not_found")
            query = select(DataRule).where(DataRule.object == obj, DataRule.link_id == link_id)
        row = await self.session.scalar(query)
        if level is None:
            if row is not None:
                await self.session.delete(row)
            await self._changed()
            return None
        if row is None:
            row = DataRule(object=obj, partner_type_id=partner_type_id, link_id=link_id)
            self.session.add(row)
        row.level, row.include_sub_enterprises = level, include_sub_enterprises
        await self._changed()
        return row

    # sharing rules

    async def sharing_rules(self) -> list[SharingRule]:
        return list(await self.session.scalars(select(SharingRule).order_by(SharingRule.object, SharingRule.name)))

    async def _check_sharing(self, spec: SharingSpec) -> None:
        errors: list[FieldError] = []
        described = self.objects.get(spec.object)
        ok = described is not None and described.model is not None and described.audience == "external"
        _check(errors, ok, "object", N_("%(key)s has no data permissions"), key=spec.object)
        _check(errors, bool(spec.name.strip()), "name", N_("is required"))
        if ok and described is not None:
            columns = set(described.model.__table__.columns.keys()) - {"tenant_id"}
            _check(errors, spec.field in columns, "field", N_("%(key)s is not a field of this object"), key=spec.field)
        _check(
            errors,
            spec.operator in SHARING_OPERATORS,
            "operator",
            N_("must be one of %(choices)s"),
            choices=", ".join(SHARING_OPERATORS),
        )
        _check(errors, spec.operator != "in" or isinstance(spec.value, list), "value", N_("must be a list"))
        _check(
            errors,
            spec.target_kind in SHARING_TARGETS,
            "target_kind",
            N_("must be one of %(choices)s"),
            choices=", ".join(SHARING_TARGETS),
        )
        _check(
            errors,
            spec.access in RECORD_ACCESS,
            "access",
            N_("must be one of %(choices)s"),
            choices=", ".join(RECORD_ACCESS),
        )
        if errors:
            raise ValidationFailed(errors)
        exists: Any
        if spec.target_kind == "role":
            exists = await self.session.scalar(select(Role.id).where(Role.key == spec.target, Role.kind == "external"))
        else:
            try:
                target = uuid.UUID(spec.target)
            except ValueError:
                raise ValidationFailed.single("target", N_("must be an id"), "invalid") from None
            model = {"enterprise": EnterpriseLink, "partner_type": PartnerType, "tier": PartnerTier}[spec.target_kind]
            exists = await self.session.scalar(select(model.id).where(model.id == target))
        if exists is None:
            raise ValidationFailed.single("target", N_("No such target"), "not_found")

    async def add_sharing_rule(self, spec: SharingSpec) -> SharingRule:
        await self._check_sharing(spec)
        row = SharingRule(**{k: getattr(spec, k) for k in SharingSpec.__slots__})
        row.name = spec.name.strip()[:100]
        self.session.add(row)
        await self._changed()
        return row

    async def update_sharing_rule(self, rule_id: uuid.UUID, spec: SharingSpec) -> SharingRule:
        row = await self._sharing(rule_id)
        await self._check_sharing(spec)
        for key in SharingSpec.__slots__:
            setattr(row, key, getattr(spec, key))
        await self._changed()
        return row

    async def delete_sharing_rule(self, rule_id: uuid.UUID) -> None:
        await self.session.delete(await self._sharing(rule_id))
        await self._changed()

    async def _sharing(self, rule_id: uuid.UUID) -> SharingRule:
        row = await self.session.scalar(select(SharingRule).where(SharingRule.id == rule_id))
        if row is None:
            raise NotFound(N_("No such sharing rule"))
        return row

    # staff teams (membership changes who "team" covers, but not the compiled policy: read per query)

    async def teams(self) -> list[tuple[StaffTeam, list[uuid.UUID]]]:
        teams = list(await self.session.scalars(select(StaffTeam).order_by(StaffTeam.name)))
        members: dict[uuid.UUID, list[uuid.UUID]] = {t.id: [] for t in teams}
        for m in await self.session.scalars(select(StaffTeamMember)):
            members.setdefault(m.team_id, []).append(m.user_id)
        return [(t, members[t.id]) for t in teams]

    async def regions(self) -> list[Region]:
        """The programme's regions, which teams may cover."""
        return list(await self.session.scalars(select(Region).order_by(Region.name)))

    async def team_regions(self) -> dict[uuid.UUID, list[uuid.UUID]]:
        """Team id -> the regions it covers (the "region" scope)."""
        found: dict[uuid.UUID, list[uuid.UUID]] = {}
        for row in await self.session.scalars(select(StaffTeamRegion)):
            found.setdefault(row.team_id, []).append(row.region_id)
        return found

    async def set_team_regions(self, team_id: uuid.UUID, region_ids: Sequence[uuid.UUID]) -> None:
        """Replace the regions a team covers. Like members, read by each query: no policy rebuild."""
        if await self.session.scalar(select(StaffTeam.id).where(StaffTeam.id == team_id)) is None:
            raise NotFound(N_("No such team"))
        known = set(await self.session.scalars(select(Region.id).where(Region.id.in_(region_ids))))
        if any(region_id not in known for region_id in region_ids):
            raise ValidationFailed.single("region_ids", N_("No such region"), "not_found")
        existing = {
            r.region_id: r
            for r in await self.session.scalars(select(StaffTeamRegion).where(StaffTeamRegion.team_id == team_id))
        }
        for region_id, row in existing.items():
            if region_id not in known:
                await self.session.delete(row)
        for region_id in known - existing.keys():
            self.session.add(StaffTeamRegion(team_id=team_id, region_id=region_id))
        await self.session.flush()

    async def add_team(self, name: str) -> StaffTeam:
        name = name.strip()
        if not name:
            raise ValidationFailed.single("name", N_("is required"), "required")
        if await self.session.scalar(select(StaffTeam.id).where(StaffTeam.name == name)):
            raise ValidationFailed.single("name", N_("is already taken"), "taken")
        team = StaffTeam(name=name[:100])
        self.session.add(team)
        await self.session.flush()
        return team

    async def set_team_members(self, team_id: uuid.UUID, user_ids: Sequence[uuid.UUID]) -> None:
        if await self.session.scalar(select(StaffTeam.id).where(StaffTeam.id == team_id)) is None:
            raise NotFound(N_("No such team"))
        known = set(await self.session.scalars(select(InternalUser.id).where(InternalUser.id.in_(user_ids))))
        for user_id in user_ids:
            if user_id not in known:
                raise ValidationFailed.single("user_ids", N_("No such user"), "not_found")
        existing = {
            m.user_id: m
            for m in await self.session.scalars(select(StaffTeamMember).where(StaffTeamMember.team_id == team_id))
        }
        for user_id, row in existing.items():
            if user_id not in known:
                await self.session.delete(row)
        for user_id in known - existing.keys():
            self.session.add(StaffTeamMember(team_id=team_id, user_id=user_id))
        await self.session.flush()
