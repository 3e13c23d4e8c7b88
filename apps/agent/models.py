"""A registered deal: a customer a partner is working on, registered with the upstream."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKeyConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db.base import Audited, Base, TenantOwned, Timestamped
from roles.records import ScopedRecord

STAGES = ("registered", "qualified", "won", "lost")
# A deal registered through the registration check (apps.agent.registrations): flagged for the channel
# manager, approved (protected until `protected_until`) or rejected. NULL: a deal entered directly.
REGISTRATION_STATES = ("conflict", "approved", "rejected")
EXTENSION_STATES = ("pending", "approved", "rejected")


class Deal(TenantOwned, ScopedRecord, Timestamped, Audited, Base):
    """owner_id is the partner membership (or staff user) who registered it; enterprise_id the partner
    enterprise it belongs to, NULL for the upstream's own deal (partners see it only when shared)."""

    __tablename__ = "agent_deals"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "enterprise_id"],
            ["enterprise_links.tenant_id", "enterprise_links.id"],
            ondelete="RESTRICT",
        ),
        # stage is the field sharing rules are made of ("won deals shared with gold partners")
        Index("ix_agent_deals_stage", "tenant_id", "stage"),
        ForeignKeyConstraint(
            ["tenant_id", "account_id"], ["crm_accounts.tenant_id", "crm_accounts.id"], ondelete="RESTRICT"
        ),
        CheckConstraint("stage IN ('registered', 'qualified', 'won', 'lost')", name="stage"),
        CheckConstraint("registration IN ('conflict', 'approved', 'rejected')", name="registration"),
        CheckConstraint("extension IN ('pending', 'approved', 'rejected')", name="extension"),
        # the registrations of one customer, read under the registration's lock
        Index("ix_agent_deals_account", "tenant_id", "account_id"),
        # the channel manager's conflict queue
        Index("ix_agent_deals_registration", "tenant_id", "registration", "created_at"),
    )

    customer_name: Mapped[str] = mapped_column(String(200))
    customer_contact: Mapped[str | None] = mapped_column(String(200))
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    stage: Mapped[str] = mapped_column(String(16), default="registered")
    expected_close: Mapped[date | None] = mapped_column(Date())
    notes: Mapped[str | None] = mapped_column(String(2000))
    # Upstream-only commercial terms: partner roles normally have it hidden by a field rule.
    commission_rate: Mapped[Decimal | None]
    created_by: Mapped[uuid.UUID]
    # the customer (a CRM account and the contact there) and the lead it was converted from
    account_id: Mapped[uuid.UUID | None]
    contact_id: Mapped[uuid.UUID | None]
    lead_id: Mapped[uuid.UUID | None]
    registration: Mapped[str | None] = mapped_column(String(16))
    protected_until: Mapped[datetime | None]
    # the one extension of the protection a partner may ask for, and the upstream's answer
    extension: Mapped[str | None] = mapped_column(String(16))
    decided_by: Mapped[uuid.UUID | None]
    decided_at: Mapped[datetime | None]


# The three indexes roles.scopes.where() is planned against (see roles.records). Declared on the mapped
# columns (not as text("created_at DESC")) so that the schema comparison of the migration test can
# read them back on SQLite too.
Index("ix_agent_deals_enterprise", Deal.tenant_id, Deal.enterprise_id, Deal.created_at.desc())
Index("ix_agent_deals_owner", Deal.tenant_id, Deal.owner_id, Deal.created_at.desc())
Index("ix_agent_deals_created", Deal.tenant_id, Deal.created_at.desc())
