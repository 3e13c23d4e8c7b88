"""The partner programme of an upstream tenant: partner types, tiers, regions, enterprise links (with
their closure table and status history), quotas, invitations, external identities and memberships."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from portal.db.base import Audited, Base, TenantOwned, Timestamped
from portal.db.types import utcnow
from portal.ids import uuid7

LINK_STATUSES = ("invited", "active", "suspended", "terminated")
# Allowed status transitions of an enterprise link; anything else is refused.
LINK_TRANSITIONS: dict[str, frozenset[str]] = {
    "invited": frozenset({"active", "terminated"}),
    "active": frozenset({"suspended", "terminated"}),
    "suspended": frozenset({"active", "terminated"}),
    "terminated": frozenset(),
}
PRESET_PARTNER_TYPES = ("distributor", "dealer", "agent", "service_provider", "subsidiary", "store")


def _fk(columns: list[str], table: str, ondelete: str = "RESTRICT") -> ForeignKeyConstraint:
    """A same-tenant reference: the composite key makes a cross-tenant link impossible in the schema."""
    return ForeignKeyConstraint(["tenant_id", *columns], [f"{table}.tenant_id", f"{table}.id"], ondelete=ondelete)


class PartnerType(TenantOwned, Timestamped, Audited, Base):
    __tablename__ = "partner_types"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(100))
    preset: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    sort_order: Mapped[int] = mapped_column(default=0)


class PartnerTier(TenantOwned, Timestamped, Audited, Base):
    __tablename__ = "partner_tiers"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(100))
    rank: Mapped[int] = mapped_column(default=0)  # higher is better (Gold > Silver > Bronze)


class Region(TenantOwned, Timestamped, Audited, Base):
    __tablename__ = "regions"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(100))


class EnterpriseLink(TenantOwned, Timestamped, Audited, Base):
    """A downstream enterprise as the upstream sees it. It may run its own tenant on the platform
    (downstream_tenant_id), which later lets the two tenants sync."""

    __tablename__ = "enterprise_links"
    __table_args__ = (
        _fk(["partner_type_id"], "partner_types"),
        _fk(["tier_id"], "partner_tiers"),
        _fk(["region_id"], "regions"),
        _fk(["account_id"], "crm_accounts"),
        _fk(["parent_id"], "enterprise_links"),
        UniqueConstraint("tenant_id", "code"),
        Index("ix_enterprise_links_tenant_status", "tenant_id", "status"),
        Index("ix_enterprise_links_tenant_name", "tenant_id", "name"),
        Index("ix_enterprise_links_tenant_type", "tenant_id", "partner_type_id"),
        CheckConstraint("status IN ('invited', 'active', 'suspended', 'terminated')", name="status"),
    )

    name: Mapped[str] = mapped_column(String(200))
    code: Mapped[str | None] = mapped_column(String(60))
    partner_type_id: Mapped[uuid.UUID]
    tier_id: Mapped[uuid.UUID | None]
    region_id: Mapped[uuid.UUID | None]
    account_id: Mapped[uuid.UUID]
    parent_id: Mapped[uuid.UUID | None]
    # Some enterprise hangs under this one. Set by the one function that grows the tree (Links), so the
    # session lookup knows, without asking the closure table, that an enterprise with nothing under it
    # is its own subtree.
    has_sub_enterprises: Mapped[bool] = mapped_column(default=False, server_default=false())
    downstream_tenant_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tenants.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(16), default="invited")
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    activated_at: Mapped[datetime | None]
    terminated_at: Mapped[datetime | None]


class LinkClosure(TenantOwned, Base):
    """Every (ancestor, descendant) pair of the link tree, itself included at depth 0: "this enterprise
    and everything under it" is one indexed lookup at any depth."""

    __tablename__ = "enterprise_link_closure"
    __table_args__ = (
        _fk(["ancestor_id"], "enterprise_links", "CASCADE"),
        _fk(["descendant_id"], "enterprise_links", "CASCADE"),
        UniqueConstraint("tenant_id", "ancestor_id", "descendant_id"),
        Index("ix_enterprise_link_closure_descendant", "tenant_id", "descendant_id"),
    )

    ancestor_id: Mapped[uuid.UUID]
    descendant_id: Mapped[uuid.UUID]
    depth: Mapped[int]


class LinkStatusChange(TenantOwned, Base):
    __tablename__ = "enterprise_link_status_changes"
    __table_args__ = (
        _fk(["link_id"], "enterprise_links"),
        Index("ix_enterprise_link_status_changes_link", "tenant_id", "link_id", "changed_at"),
    )

    link_id: Mapped[uuid.UUID]
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(500))
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[uuid.UUID | None]
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class InterconnectQuota(TenantOwned, Base):
    """How many downstream enterprises and external users the upstream may connect, and how many it
    has. The counters move only by conditional UPDATE, so concurrent accepts cannot overshoot."""

    __tablename__ = "interconnect_quotas"
    __table_args__ = (
        UniqueConstraint("tenant_id"),
        CheckConstraint("enterprises_used <= max_enterprises", name="enterprises_within_quota"),
        CheckConstraint("external_users_used <= max_external_users", name="users_within_quota"),
        CheckConstraint("enterprises_used >= 0 AND external_users_used >= 0", name="non_negative"),
    )

    max_enterprises: Mapped[int] = mapped_column(default=50)
    max_external_users: Mapped[int] = mapped_column(default=500)
    enterprises_used: Mapped[int] = mapped_column(default=0)
    external_users_used: Mapped[int] = mapped_column(default=0)


class Invitation(TenantOwned, Timestamped, Audited, Base):
    """An invitation link (signed, expiring, single- or multi-use) or a published invite code, bound to
    a partner type and optionally a tier and a parent enterprise."""

    __tablename__ = "invitations"
    __table_args__ = (
        _fk(["partner_type_id"], "partner_types"),
        _fk(["tier_id"], "partner_tiers"),
        _fk(["parent_id"], "enterprise_links"),
        UniqueConstraint("tenant_id", "code"),
        CheckConstraint("kind IN ('link', 'code')", name="kind"),
    )

    kind: Mapped[str] = mapped_column(String(8))
    code: Mapped[str | None] = mapped_column(String(40))
    partner_type_id: Mapped[uuid.UUID]
    tier_id: Mapped[uuid.UUID | None]
    parent_id: Mapped[uuid.UUID | None]
    max_uses: Mapped[int | None]
    uses: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[datetime | None]
    # Set by the scheduled expiry job once expires_at has passed (interconnect.expiry).
    expired_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[uuid.UUID | None]


class ExternalIdentity(Timestamped, Base):
    """One person, across every upstream they work with (global: no tenant). Sign-in names are unique
    platform-wide; each upstream sees the person only through its own membership."""

    __tablename__ = "external_identities"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    mobile: Mapped[str | None] = mapped_column(String(32), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(200))
    locale: Mapped[str | None] = mapped_column(String(8))


class Membership(TenantOwned, Timestamped, Audited, Base):
    """An external user in one upstream: an employee of a downstream enterprise (link_id), or an
    individual (retailer, consumer) with no enterprise."""

    __tablename__ = "memberships"
    __table_args__ = (
        _fk(["link_id"], "enterprise_links"),
        UniqueConstraint("tenant_id", "identity_id"),
        Index("ix_memberships_tenant_link", "tenant_id", "link_id"),
        CheckConstraint("status IN ('invited', 'active', 'disabled')", name="status"),
    )

    identity_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("external_identities.id", ondelete="RESTRICT"))
    link_id: Mapped[uuid.UUID | None]
    display_name: Mapped[str] = mapped_column(String(200))
    # The contact details this upstream itself was given; the identity may have others it never sees.
    email: Mapped[str | None] = mapped_column(String(254))
    mobile: Mapped[str | None] = mapped_column(String(32))
    title: Mapped[str | None] = mapped_column(String(100))
    is_enterprise_admin: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default="active")
    joined_at: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]


class SetupToken(TenantOwned, Base):
    """A one-time link to set a password (first admins created by the upstream, invited colleagues)."""

    __tablename__ = "setup_tokens"
    __table_args__ = (_fk(["membership_id"], "memberships", "CASCADE"),)

    membership_id: Mapped[uuid.UUID]
    secret_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]
    expired_at: Mapped[datetime | None]  # set by the scheduled expiry job (interconnect.expiry)
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ImportJob(TenantOwned, Base):
    """A bulk onboarding run: its progress and per-row outcome, for the page that follows it."""

    __tablename__ = "import_jobs"
    __table_args__ = (CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status"),)

    filename: Mapped[str] = mapped_column(String(200))
    mode: Mapped[str] = mapped_column(String(16))  # all_or_nothing | valid_rows
    status: Mapped[str] = mapped_column(String(16), default="queued")
    total_rows: Mapped[int] = mapped_column(default=0)
    processed_rows: Mapped[int] = mapped_column(default=0)
    created_count: Mapped[int] = mapped_column(default=0)
    skipped_count: Mapped[int] = mapped_column(default=0)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_by: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    # The file's rows as [row number, {column: text}], kept while the job waits for a worker and runs.
    # Deferred: the progress page, polled while the job runs, never loads them.
    rows: Mapped[list[Any] | None] = mapped_column(JSON, deferred=True)
    # While running: the worker's lease, extended as progress is committed; past it, the worker stopped.
    lease_until: Mapped[datetime | None]
