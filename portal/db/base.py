"""Declarative base, naming convention and the mixins every table is built from.

Tenant-owned tables have the composite primary key (tenant_id, id): keys lead with the tenant so the
schema can be distributed by tenant, and composite foreign keys make a cross-tenant reference impossible
in the database itself.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, MetaData, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from portal.db.types import Money, UTCDateTime, utcnow
from portal.ids import uuid7

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# A column's `info` marking it as the platform's own bookkeeping (a link's token or nonce, a timer's next
# instant): never offered to people as a field to share by or to show (roles' sharing rules).
MACHINERY: dict[str, object] = {"machinery": True}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: UTCDateTime(),
        Decimal: Money(),
        uuid.UUID: Uuid(),
    }


class TenantOwned:
    """A row that belongs to exactly one tenant. Queries are filtered and writes stamped automatically."""

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), primary_key=True, sort_order=-20
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7, sort_order=-10)


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(default=utcnow, sort_order=90)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, sort_order=91)


class Audited:
    """Marks a model whose every insert, update and delete is written to the audit log in the same flush."""

    # Columns never copied into the audit log (secrets); they appear as "***" when they change.
    __audit_redact__: frozenset[str] = frozenset()
    # Bookkeeping columns whose change alone is not worth an entry (e.g. last sign-in time).
    __audit_ignore__: frozenset[str] = frozenset({"updated_at"})
