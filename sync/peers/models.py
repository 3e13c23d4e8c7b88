"""Paired deployments: one row per pairing on each side, the one-time codes that start a pairing, and the
signed requests a deployment has taken from its peers.

A pairing row belongs to the tenant that is paired (the upstream's, naming the enterprise link, or the
downstream's); `role` says which side this tenant is on. Each side signs what it sends with a secret of its
own (`own_secret`) and verifies what it receives with the peer's (`peer_secret`); both are sealed at rest
with the webhook secrets' box (sync.webhooks.secrets), bound to the pairing's id."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKeyConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db.base import Audited, Base, TenantOwned, Timestamped
from portal.db.types import utcnow

ROLES = ("upstream", "downstream")
STATUSES = ("active", "unpaired")


class SyncPeer(TenantOwned, Timestamped, Audited, Base):
    """This tenant's pairing with a tenant of another deployment (`peer_url`, `peer_tenant_id`, and the
    peer's own pairing row `peer_pairing_id`, named in every request so the receiver finds its secret)."""

    __tablename__ = "sync_peers"
    __audit_redact__ = frozenset({"own_secret", "peer_secret"})
    __audit_ignore__ = frozenset({"updated_at", "last_contact_at", "last_error", "failures"})
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "link_id"], ["enterprise_links.tenant_id", "enterprise_links.id"], ondelete="RESTRICT"
        ),
        Index("ix_sync_peers_link", "tenant_id", "link_id", "status"),
        CheckConstraint("role IN ('upstream', 'downstream')", name="role"),
        CheckConstraint("status IN ('active', 'unpaired')", name="status"),
    )

    role: Mapped[str] = mapped_column(String(12))
    link_id: Mapped[uuid.UUID | None]
    peer_url: Mapped[str] = mapped_column(String(500))
    peer_tenant_id: Mapped[uuid.UUID]
    peer_tenant_name: Mapped[str] = mapped_column(String(200))
    peer_pairing_id: Mapped[uuid.UUID]
    own_secret: Mapped[str] = mapped_column(String(200))
    peer_secret: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12), default="active")
    last_contact_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(1000))
    failures: Mapped[int] = mapped_column(default=0)
    unpaired_at: Mapped[datetime | None]


class SyncPeerCode(TenantOwned, Base):
    """A one-time pairing code an upstream admin made for a link: kept as a hash, used once, short-lived."""

    __tablename__ = "sync_peer_codes"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "link_id"], ["enterprise_links.tenant_id", "enterprise_links.id"], ondelete="CASCADE"
        ),
        UniqueConstraint("code_hash"),
    )

    link_id: Mapped[uuid.UUID]
    code_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    created_by: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SyncPeerInbound(TenantOwned, Base):
    """A signed request taken from a peer: its event id once per pairing (a retry finds it and gets the
    same answer), the signature it came with (the same request sent again is a replay, refused)."""

    __tablename__ = "sync_peer_inbound"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "peer_id"], ["sync_peers.tenant_id", "sync_peers.id"], ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "peer_id", "event_id"),
    )

    peer_id: Mapped[uuid.UUID]
    event_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(40))
    signature: Mapped[str] = mapped_column(String(64))
    answer: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
