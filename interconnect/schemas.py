"""Request and response bodies of the interconnect API."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from interconnect.models import EnterpriseLink, ExternalIdentity, Invitation, LinkStatusChange, Membership
from interconnect.quotas import Usage
from portal.http.inputs import Int32, Multiline
from portal.identity.schemas import Strict


class SettingIn(Strict):
    code: str
    name: str
    rank: Int32 = 0


class SettingPatch(Strict):
    name: str | None = None
    rank: Int32 | None = None
    active: bool | None = None


class SettingOut(msgspec.Struct):
    id: uuid.UUID
    code: str
    name: str
    rank: int | None = None
    preset: bool | None = None
    active: bool | None = None


class QuotaOut(msgspec.Struct):
    max_enterprises: int
    enterprises_used: int
    max_external_users: int
    external_users_used: int

    @classmethod
    def of(cls, u: Usage) -> QuotaOut:
        return cls(u.max_enterprises, u.enterprises_used, u.max_external_users, u.external_users_used)


class PersonIn(Strict):
    display_name: str
    email: str | None = None
    mobile: str | None = None
    title: str | None = None


class EnterpriseIn(Strict):
    name: str
    partner_type_id: uuid.UUID
    tier_id: uuid.UUID | None = None
    region_id: uuid.UUID | None = None
    parent_id: uuid.UUID | None = None
    code: str | None = None
    contact_phone: str | None = None
    admin: PersonIn | None = None


class EnterprisePatch(Strict):
    """Only the fields given change; null clears the ones that may be empty."""

    name: str | msgspec.UnsetType = msgspec.UNSET
    partner_type_id: uuid.UUID | msgspec.UnsetType = msgspec.UNSET
    tier_id: uuid.UUID | msgspec.UnsetType | None = msgspec.UNSET
    region_id: uuid.UUID | msgspec.UnsetType | None = msgspec.UNSET
    code: str | msgspec.UnsetType | None = msgspec.UNSET
    contact_phone: str | msgspec.UnsetType | None = msgspec.UNSET


class EnterpriseOut(msgspec.Struct):
    id: uuid.UUID
    name: str
    code: str | None
    status: str
    partner_type_id: uuid.UUID
    tier_id: uuid.UUID | None
    region_id: uuid.UUID | None
    parent_id: uuid.UUID | None
    account_id: uuid.UUID
    downstream_tenant_id: uuid.UUID | None
    created_at: datetime
    activated_at: datetime | None
    terminated_at: datetime | None

    @classmethod
    def of(cls, link: EnterpriseLink) -> EnterpriseOut:
        return cls(
            link.id,
            link.name,
            link.code,
            link.status,
            link.partner_type_id,
            link.tier_id,
            link.region_id,
            link.parent_id,
            link.account_id,
            link.downstream_tenant_id,
            link.created_at,
            link.activated_at,
            link.terminated_at,
        )


class CreatedEnterpriseOut(msgspec.Struct):
    enterprise: EnterpriseOut
    admin_id: uuid.UUID | None = None
    # the first admin's one-time link: sent to them (`setup_link_sent_to`, masked) when email or SMS
    # reaches them, else returned here (`setup_url`) to be passed on; never both
    setup_url: str | None = None
    setup_link_sent_to: str | None = None


class SetupLinkOut(msgspec.Struct):
    """A new one-time link for an invited person (the earlier ones no longer work): sent to them
    (`sent_to`, masked), or, with no channel reaching them, `setup_url` to pass on."""

    setup_url: str | None = None
    sent_to: str | None = None


class EnterprisePage(msgspec.Struct):
    items: list[EnterpriseOut]
    total: int
    limit: int
    offset: int


class StatusIn(Strict):
    status: str
    reason: Multiline | None = None


class StatusChangeOut(msgspec.Struct):
    from_status: str | None
    to_status: str
    reason: str | None
    actor_kind: str
    actor_id: uuid.UUID | None
    changed_at: datetime

    @classmethod
    def of(cls, c: LinkStatusChange) -> StatusChangeOut:
        return cls(c.from_status, c.to_status, c.reason, c.actor_kind, c.actor_id, c.changed_at)


class MemberOut(msgspec.Struct):
    id: uuid.UUID
    display_name: str
    email: str | None
    mobile: str | None
    title: str | None
    is_enterprise_admin: bool
    status: str
    enterprise_id: uuid.UUID | None

    @classmethod
    def of(cls, m: Membership, i: ExternalIdentity) -> MemberOut:
        # The membership's own contact details: what this upstream was given, nothing the person gave others.
        return cls(m.id, m.display_name, m.email, m.mobile, m.title, m.is_enterprise_admin, m.status, m.link_id)


class MemberPage(msgspec.Struct):
    items: list[MemberOut]
    total: int


class EnterpriseDetailOut(msgspec.Struct):
    enterprise: EnterpriseOut
    children: list[EnterpriseOut]
    history: list[StatusChangeOut]
    users: list[MemberOut]


class MemberStatusIn(Strict):
    status: str


class InvitationIn(Strict):
    kind: str
    partner_type_id: uuid.UUID
    tier_id: uuid.UUID | None = None
    parent_id: uuid.UUID | None = None
    max_uses: Int32 | None = None
    expires_in_days: Int32 | None = None
    note: Multiline | None = None


class InvitationOut(msgspec.Struct):
    id: uuid.UUID
    kind: str
    code: str | None
    url: str | None
    partner_type_id: uuid.UUID
    tier_id: uuid.UUID | None
    parent_id: uuid.UUID | None
    max_uses: int | None
    uses: int
    expires_at: datetime | None
    revoked_at: datetime | None
    note: str | None
    # when the scheduled expiry job found it past expires_at (listed with include_inactive)
    expired_at: datetime | None = None

    @classmethod
    def of(cls, inv: Invitation, url: str | None) -> InvitationOut:
        return cls(
            inv.id,
            inv.kind,
            inv.code,
            url,
            inv.partner_type_id,
            inv.tier_id,
            inv.parent_id,
            inv.max_uses,
            inv.uses,
            inv.expires_at,
            inv.revoked_at,
            inv.note,
            inv.expired_at,
        )


class PartnerTokenIn(Strict):
    workspace: str
    login: str
    password: str


class AcceptIn(Strict):
    enterprise_name: str
    display_name: str
    password: str
    email: str | None = None
    mobile: str | None = None
    token: str | None = None
    workspace: str | None = None
    code: str | None = None


class AcceptedOut(msgspec.Struct):
    workspace: str
    enterprise_id: uuid.UUID
    membership_id: uuid.UUID


class SetupIn(Strict):
    token: str
    password: str


class WorkspaceOut(msgspec.Struct):
    slug: str
    name: str
    current: bool


class PartnerMeOut(msgspec.Struct):
    membership_id: uuid.UUID
    display_name: str
    sign_in: str
    enterprise_id: uuid.UUID | None
    enterprise_name: str | None
    is_enterprise_admin: bool
    workspace: str


class ColleagueIn(Strict):
    display_name: str
    email: str | None = None
    mobile: str | None = None
    title: str | None = None
    admin: bool = False


class InvitedColleagueOut(msgspec.Struct):
    colleague: MemberOut
    setup_url: str | None
    setup_link_sent_to: str | None = None
