"""calendars: each tenant's business calendar (working week, holidays, make-up working days)

Tenants that exist get the week a new tenant gets (Monday to Friday, 09:00 to 18:00, no holidays), frozen
here as it was at this revision.

Revision ID: 0018_calendars
Revises: 0017_storage
Create Date: 2026-12-04 17:00:00
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import portal.db.types
from portal.db import rls

revision = "0018_calendars"
down_revision = "0017_storage"
branch_labels = None
depends_on = None

DEFAULT_WEEK = [[[540, 1080]]] * 5 + [[], []]
TENANTS = sa.table("tenants", sa.column("id", sa.Uuid()))
CALENDARS = sa.table(
    "business_calendars",
    sa.column("tenant_id", sa.Uuid()),
    sa.column("id", sa.Uuid()),
    sa.column("week", sa.JSON()),
    sa.column("days", sa.JSON()),
    sa.column("created_at", portal.db.types.UTCDateTime()),
    sa.column("updated_at", portal.db.types.UTCDateTime()),
)


def upgrade() -> None:
    op.create_table(
        "business_calendars",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("week", sa.JSON(), nullable=False),
        sa.Column("days", sa.JSON(), nullable=False),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_business_calendars_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_business_calendars")),
    )
    op.create_index("uq_business_calendars_tenant", "business_calendars", ["tenant_id"], unique=True)
    rls.tenant_table("business_calendars")
    bind = op.get_bind()
    now = datetime.now(UTC)
    with rls.as_system_role():
        rows = [
            {"tenant_id": t, "id": uuid.uuid4(), "week": DEFAULT_WEEK, "days": [], "created_at": now, "updated_at": now}
            for t in bind.scalars(sa.select(TENANTS.c.id)).all()
        ]
        if rows:
            op.bulk_insert(CALENDARS, rows)


def downgrade() -> None:
    op.drop_index("uq_business_calendars_tenant", table_name="business_calendars")
    op.drop_table("business_calendars")
