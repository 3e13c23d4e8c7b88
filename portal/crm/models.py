"""CRM accounts and contacts: the upstream's record of a company (customer or partner) and its people.

An account keeps the keys a customer is recognised by (`portal.crm.matching`): its name folded
(`name_key`), tax id, phone (E.164) and email, each indexed, so a duplicate check is a handful of index
lookups however many accounts there are."""

from __future__ import annotations

import uuid

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column, validates

from portal.crm.matching import name_key
from portal.db.base import Audited, Base, TenantOwned, Timestamped

ACCOUNT_KINDS = ("customer", "partner")


class Account(TenantOwned, Timestamped, Audited, Base):
    """`enterprise_id` is the partner enterprise whose registration brought the account in; NULL is the
    upstream's own account (made by its staff), which a partner's registration does not take over
    unchallenged. `lead_id` is the lead it was converted from."""

    __tablename__ = "crm_accounts"
    __table_args__ = (
        Index("ix_crm_accounts_tenant_name", "tenant_id", "name"),
        Index("ix_crm_accounts_name_key", "tenant_id", "name_key"),
        Index("ix_crm_accounts_tax_id", "tenant_id", "tax_id"),
        Index("ix_crm_accounts_phone", "tenant_id", "phone"),
        Index("ix_crm_accounts_email", "tenant_id", "email"),
        CheckConstraint("kind IN ('customer', 'partner')", name="kind"),
    )

    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default="customer")
    code: Mapped[str | None] = mapped_column(String(60))
    # set with the name (below); NULL only on rows written by raw SQL before this column existed
    name_key: Mapped[str | None] = mapped_column(String(200))
    tax_id: Mapped[str | None] = mapped_column(String(40))
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    enterprise_id: Mapped[uuid.UUID | None]
    lead_id: Mapped[uuid.UUID | None]

    @validates("name")
    def _fold_name(self, _key: str, value: str) -> str:
        self.name_key = name_key(value)
        return value


class Contact(TenantOwned, Timestamped, Audited, Base):
    """A person at an account."""

    __tablename__ = "crm_contacts"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "account_id"], ["crm_accounts.tenant_id", "crm_accounts.id"], ondelete="CASCADE"
        ),
        Index("ix_crm_contacts_account", "tenant_id", "account_id"),
    )

    account_id: Mapped[uuid.UUID]
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    lead_id: Mapped[uuid.UUID | None]
