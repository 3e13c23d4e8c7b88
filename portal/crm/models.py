"""CRM accounts: the upstream's record of a company, customer or partner."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db.base import Audited, Base, TenantOwned, Timestamped

ACCOUNT_KINDS = ("customer", "partner")


class Account(TenantOwned, Timestamped, Audited, Base):
    __tablename__ = "crm_accounts"
    __table_args__ = (
        Index("ix_crm_accounts_tenant_name", "tenant_id", "name"),
        CheckConstraint("kind IN ('customer', 'partner')", name="kind"),
    )

    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default="customer")
    code: Mapped[str | None] = mapped_column(String(60))
