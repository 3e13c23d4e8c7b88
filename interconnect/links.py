"""Enterprise links: create (with their CRM account and closure rows), search, and move through the
status machine invited → active → suspended → active / terminated, recording who did each and when."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from interconnect import quotas
from interconnect.models import (
    LINK_TRANSITIONS,
    EnterpriseLink,
    LinkClosure,
    LinkStatusChange,
    Membership,
    PartnerTier,
    PartnerType,
    Region,
)
from portal.actor import Actor
from portal.crm.models import Account
from portal.db.types import utcnow
from portal.errors import Conflict, NotFound, ValidationFailed
from portal.i18n import N_
from portal.identity.accounts import check_name
from portal.identity.models import InternalUser
from portal.identity.sessions import revoke_user_sessions
from portal.ids import uuid7
from portal.outbox import publish

EVENT_FOR_STATUS = {
    "active": "link.established",
    "suspended": "link.suspended",
    "terminated": "link.terminated",
    "invited": "link.invited",
}


@dataclass(frozen=True, slots=True)
class NewEnterprise:
    name: str
    partner_type_id: uuid.UUID
    tier_id: uuid.UUID | None = None
    region_id: uuid.UUID | None = None
    parent_id: uuid.UUID | None = None
    code: str | None = None
    contact_phone: str | None = None
    downstream_tenant_id: uuid.UUID | None = None


class _Keep:
    """A field an edit leaves as it is (None clears a field that may be empty)."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP = _Keep()


@dataclass(frozen=True, slots=True)
class EnterpriseChanges:
    name: str | _Keep = KEEP
    partner_type_id: uuid.UUID | _Keep = KEEP
    tier_id: uuid.UUID | _Keep | None = KEEP
    region_id: uuid.UUID | _Keep | None = KEEP
    code: str | _Keep | None = KEEP
    contact_phone: str | _Keep | None = KEEP


@dataclass(frozen=True, slots=True)
class LinkFilter:
    text: str | None = None
    partner_type_id: uuid.UUID | None = None
    tier_id: uuid.UUID | None = None
    region_id: uuid.UUID | None = None
    status: str | None = None
    under: uuid.UUID | None = None  # this enterprise and everything below it
    exclude_terminated: bool = False


class Links:
    def __init__(self, session: AsyncSession, actor: Actor | None = None) -> None:
        self.session = session
        self.actor = actor

    async def get(self, link_id: uuid.UUID) -> EnterpriseLink:
        link = await self.session.scalar(select(EnterpriseLink).where(EnterpriseLink.id == link_id))
        if link is None:
            raise NotFound(N_("No such enterprise"))
        return link

    async def create(self, data: NewEnterprise, status: str = "active") -> EnterpriseLink:
        """One unit: the quota slot, the CRM account, the link, its closure rows, its first history entry
        and its event. A refusal at any step leaves nothing behind (the caller's transaction rolls back)."""
        name = check_name(data.name, "name")
        partner_type = await self.check_references(data.partner_type_id, data.tier_id, data.region_id, data.parent_id)
        code = (data.code or "").strip() or None
        if code and await self.session.scalar(select(EnterpriseLink.id).where(EnterpriseLink.code == code)):
            raise Conflict(N_("An enterprise with this code already exists"), code="enterprise_code_taken")
        if data.downstream_tenant_id is not None and await self.session.scalar(
            select(EnterpriseLink.id).where(
                EnterpriseLink.downstream_tenant_id == data.downstream_tenant_id,
                EnterpriseLink.status != "terminated",
            )
        ):
            raise Conflict(N_("This tenant is already connected"), code="tenant_already_connected")

        await quotas.reserve(self.session, enterprises=1)
        account = Account(id=uuid7(), name=name, kind="partner", code=code)
        link = EnterpriseLink(
            id=uuid7(),
            name=name,
            code=code,
            partner_type_id=partner_type.id,
            tier_id=data.tier_id,
            region_id=data.region_id,
            account_id=account.id,
            parent_id=data.parent_id,
            downstream_tenant_id=data.downstream_tenant_id,
            contact_phone=data.contact_phone,
            status=status,
            activated_at=utcnow() if status == "active" else None,
        )
        self.session.add(account)
        await self.session.flush()  # no ORM relationships: insert the account before the row that refers to it
        self.session.add(link)
        await self.session.flush()
        await self._add_to_tree(link)
        self._record(link, None, status, None)
        return link

    async def update(self, link_id: uuid.UUID, changes: EnterpriseChanges) -> EnterpriseLink:
        """Change an enterprise's details (its CRM account's name and code with it), one field checked
        like at creation. The tree and the status have their own operations; a terminated enterprise is
        history and keeps the details it ended with. Announced as `link.updated` with what changed."""
        link = await self.get(link_id)
        if link.status == "terminated":
            raise Conflict(N_("A terminated enterprise cannot be changed"), code="enterprise_terminated")
        wanted = {
            "name": changes.name if isinstance(changes.name, _Keep) else check_name(changes.name, "name"),
            "partner_type_id": changes.partner_type_id,
            "tier_id": changes.tier_id,
            "region_id": changes.region_id,
            "code": changes.code if isinstance(changes.code, _Keep) else ((changes.code or "").strip() or None),
            "contact_phone": changes.contact_phone
            if isinstance(changes.contact_phone, _Keep)
            else ((changes.contact_phone or "").strip() or None),
        }
        after = {key: value for key, value in wanted.items() if not isinstance(value, _Keep)}
        await self.check_references(
            after.get("partner_type_id", link.partner_type_id),
            after.get("tier_id", link.tier_id),  # type: ignore[arg-type]
            after.get("region_id", link.region_id),  # type: ignore[arg-type]
        )
        changed = {key: value for key, value in after.items() if getattr(link, key) != value}
        code = changed.get("code")
        if code and await self.session.scalar(
            select(EnterpriseLink.id).where(EnterpriseLink.code == code, EnterpriseLink.id != link.id)
        ):
            raise Conflict(N_("An enterprise with this code already exists"), code="enterprise_code_taken")
        if not changed:
            return link
        before = {key: getattr(link, key) for key in changed}
        for key, value in changed.items():
            setattr(link, key, value)
        if "name" in changed or "code" in changed:
            account = await self.session.get_one(Account, (link.tenant_id, link.account_id))
            account.name, account.code = link.name, link.code
        publish(
            self.session,
            "link.updated",
            "enterprise_link",
            link.id,
            {"name": link.name, "changed": {key: [before[key], value] for key, value in changed.items()}},
        )
        await self.session.flush()
        return link

    async def check_references(
        self,
        partner_type_id: uuid.UUID,
        tier_id: uuid.UUID | None = None,
        region_id: uuid.UUID | None = None,
        parent_id: uuid.UUID | None = None,
    ) -> PartnerType:
        """The programme settings and parent an enterprise (or an invitation) refers to must be this
        tenant's; another tenant's id reads as unknown, never as a database error."""
        partner_type = await self.session.scalar(
            select(PartnerType).where(PartnerType.id == partner_type_id, PartnerType.active.is_(True))
        )
        if partner_type is None:
            raise ValidationFailed.single("partner_type", N_("is not an active partner type of this programme"))
        for model, value, field in ((PartnerTier, tier_id, "tier"), (Region, region_id, "region")):
            if value is not None and not await self.session.scalar(select(model.id).where(model.id == value)):
                raise ValidationFailed.single(field, N_("is not known"), "unknown")
        if parent_id is not None:
            parent = await self.session.scalar(select(EnterpriseLink).where(EnterpriseLink.id == parent_id))
            if parent is None:
                raise ValidationFailed.single("parent", N_("is not known"), "unknown")
            if parent.status == "terminated":
                raise ValidationFailed.single("parent", N_("is terminated"), "terminated")
        return partner_type

    async def _add_to_tree(self, link: EnterpriseLink) -> None:
        tenant_id = link.tenant_id
        self.session.add(LinkClosure(tenant_id=tenant_id, ancestor_id=link.id, descendant_id=link.id, depth=0))
        if link.parent_id is not None:
            rows = (
                await self.session.execute(
                    select(LinkClosure.ancestor_id, LinkClosure.depth).where(
                        LinkClosure.descendant_id == link.parent_id
                    )
                )
            ).all()
            self.session.add_all(
                LinkClosure(tenant_id=tenant_id, ancestor_id=ancestor, descendant_id=link.id, depth=depth + 1)
                for ancestor, depth in rows
            )
            # loaded already by check_references(): the identity map answers without a query
            parent = await self.session.get_one(EnterpriseLink, (tenant_id, link.parent_id))
            if not parent.has_sub_enterprises:
                parent.has_sub_enterprises = True
        await self.session.flush()

    def _record(self, link: EnterpriseLink, before: str | None, after: str, reason: str | None) -> None:
        self.session.add(
            LinkStatusChange(
                link_id=link.id,
                from_status=before,
                to_status=after,
                reason=reason,
                actor_kind=self.actor.kind if self.actor else "system",
                actor_id=self.actor.user_id if self.actor else None,
            )
        )
        publish(
            self.session,
            EVENT_FOR_STATUS[after],
            "enterprise_link",
            link.id,
            {
                "name": link.name,
                "from": before,
                "to": after,
                "reason": reason,
                "downstream_tenant_id": link.downstream_tenant_id,
            },
        )

    async def transition(self, link_id: uuid.UUID, to_status: str, reason: str | None = None) -> EnterpriseLink:
        link = await self.get(link_id)
        if to_status not in LINK_TRANSITIONS.get(link.status, frozenset()):
            raise Conflict(
                N_("An enterprise that is %(current)s cannot become %(target)s"),
                code="invalid_transition",
                current=link.status,
                target=to_status,
            )
        before = link.status
        members = list(
            await self.session.scalars(
                select(Membership.id).where(Membership.link_id == link.id, Membership.status != "disabled")
            )
        )
        if to_status in ("suspended", "terminated"):
            await revoke_user_sessions(self.session, members, f"link_{to_status}")
        if to_status == "terminated":
            # History (orders, tickets) stays; the people lose access and their quota slots. Row by row
            # through the ORM, so that each membership change is audited and announced like any other.
            for membership in await self.session.scalars(
                select(Membership).where(Membership.link_id == link.id, Membership.status != "disabled")
            ):
                membership.status, membership.disabled_at = "disabled", utcnow()
                publish(
                    self.session,
                    "user.disabled",
                    "membership",
                    membership.id,
                    {"link_id": link.id, "reason": "link_terminated"},
                )
            await quotas.release(self.session, enterprises=1, users=len(members))
            link.terminated_at = utcnow()
        if to_status == "active" and link.activated_at is None:
            link.activated_at = utcnow()
        link.status = to_status
        self._record(link, before, to_status, (reason or "").strip()[:500] or None)
        await self.session.flush()
        return link

    async def search(self, f: LinkFilter, *, limit: int = 50, offset: int = 0) -> tuple[list[EnterpriseLink], int]:
        query = select(EnterpriseLink)
        if f.text:
            literal = f.text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            pattern = f"%{literal}%"
            query = query.where(
                or_(
                    func.lower(EnterpriseLink.name).like(pattern, escape="\\"),
                    func.lower(EnterpriseLink.code).like(pattern, escape="\\"),
                )
            )
        for column, value in (
            (EnterpriseLink.partner_type_id, f.partner_type_id),
            (EnterpriseLink.tier_id, f.tier_id),
            (EnterpriseLink.region_id, f.region_id),
            (EnterpriseLink.status, f.status),
        ):
            if value is not None:
                query = query.where(column == value)
        if f.exclude_terminated:
            query = query.where(EnterpriseLink.status != "terminated")
        if f.under is not None:
            query = query.where(
                EnterpriseLink.id.in_(select(LinkClosure.descendant_id).where(LinkClosure.ancestor_id == f.under))
            )
        total = await self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = await self.session.scalars(
            query.order_by(EnterpriseLink.name, EnterpriseLink.id).limit(limit).offset(offset)
        )
        return list(rows), total

    async def names(self, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
        if not ids:
            return {}
        rows = await self.session.execute(
            select(EnterpriseLink.id, EnterpriseLink.name).where(EnterpriseLink.id.in_(ids))
        )
        return {row.id: row.name for row in rows}

    async def children(self, link_id: uuid.UUID) -> list[EnterpriseLink]:
        return list(
            await self.session.scalars(
                select(EnterpriseLink).where(EnterpriseLink.parent_id == link_id).order_by(EnterpriseLink.name)
            )
        )

    async def history(self, link_id: uuid.UUID) -> list[LinkStatusChange]:
        return list(
            await self.session.scalars(
                select(LinkStatusChange)
                .where(LinkStatusChange.link_id == link_id)
                .order_by(LinkStatusChange.changed_at, LinkStatusChange.id)
            )
        )

    async def history_with_names(self, link_id: uuid.UUID) -> list[tuple[LinkStatusChange, str | None]]:
        """The status history with the display name of who made each change (staff or partner user;
        None for the system)."""
        changes = await self.history(link_id)
        names: dict[uuid.UUID, str] = {}
        for model, kind in ((InternalUser, "internal"), (Membership, "external")):
            ids = {c.actor_id for c in changes if c.actor_kind == kind and c.actor_id is not None}
            if ids:
                rows = await self.session.execute(select(model.id, model.display_name).where(model.id.in_(ids)))
                names.update({row[0]: row[1] for row in rows.all()})
        return [(c, names.get(c.actor_id) if c.actor_id else None) for c in changes]
