"""`ScopedRecord`: the two columns that put a business record under the data-permission rules.

Mix it into a tenant-owned model next to `TenantOwned` (and `Timestamped`, whose created_at the list pages
sort by)::

    class Order(TenantOwned, ScopedRecord, Timestamped, Audited, Base):
        __tablename__ = "orders"
        __table_args__ = (
            ForeignKeyConstraint(
                ["tenant_id", "enterprise_id"], ["enterprise_links.tenant_id", "enterprise_links.id"],
                ondelete="RESTRICT",
            ),
            Index("ix_orders_enterprise", "tenant_id", "enterprise_id", Order.created_at.desc()),
            Index("ix_orders_owner", "tenant_id", "owner_id", Order.created_at.desc()),
            Index("ix_orders_created", "tenant_id", Order.created_at.desc()),
        )

(declared after the class, or with the column objects, as apps/agent/models.py does: a `text()`
expression reads back differently on SQLite and the migration check would see a change.)

The three indexes are what `roles.scopes.where()` is planned against: each branch of the compiled
condition (the viewer's enterprise, the owner, everything) is one index range inside the tenant, and the
third serves the unscoped and "all" pages in created_at order. A field used by a sharing rule needs an
index of its own (leading with tenant_id) for the rule not to turn the page into a filtered scan.

The foreign key of enterprise_id is the app's to declare (a mixin cannot name the table's constraints);
owner_id has none, because it points at an internal user or a partner membership.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy.orm import Mapped, mapped_column


class ScopedRecord:
    """A record owned by one person and belonging to one partner enterprise, or to the upstream itself."""

    if TYPE_CHECKING:  # provided by TenantOwned, which every scoped model also mixes in
        tenant_id: Mapped[uuid.UUID]
        id: Mapped[uuid.UUID]

    # An internal user id or a partner membership id: both are uuid7, so one column holds either.
    owner_id: Mapped[uuid.UUID] = mapped_column(sort_order=-5)
    # The partner enterprise (its enterprise link id); NULL is the upstream's own record, which partners
    # see only through a sharing rule or a record team.
    enterprise_id: Mapped[uuid.UUID | None] = mapped_column(sort_order=-4)
