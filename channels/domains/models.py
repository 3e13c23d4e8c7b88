"""A tenant's claim to a partner domain: the host it asked for and the token the TXT record must carry.

The claim is the tenant's own (row-level security); once verified, the host is also written to the tenant
registry (`tenants.partner_domain`, unique), which is what every request's host is looked up in and what
keeps a domain one tenant's.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db.base import Audited, Base, TenantOwned, Timestamped


class DomainClaim(TenantOwned, Timestamped, Audited, Base):
    """The tenant's one partner domain, verified or waiting to be (until `expires_at`)."""

    __tablename__ = "partner_domains"
    __table_args__ = (UniqueConstraint("tenant_id"),)
    __audit_ignore__ = frozenset({"updated_at", "checked_at", "problem"})

    domain: Mapped[str] = mapped_column(String(253))
    token: Mapped[str] = mapped_column(String(64))
    # an unverified claim ends here: another token must be asked for
    expires_at: Mapped[datetime]
    verified_at: Mapped[datetime | None]
    # the last check of the TXT record, and what it found wrong (a code of channels.domains.verify)
    checked_at: Mapped[datetime | None]
    problem: Mapped[str | None] = mapped_column(String(32))
    created_by: Mapped[uuid.UUID | None]
