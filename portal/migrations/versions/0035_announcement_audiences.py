"""announcement audiences: the partner types an announcement is addressed to, as rows a query can match

They were a JSON list on the announcement, which a partner's list could only match in Python.

Revision ID: 0035_announcement_audiences
Revises: 0034_agent_leads
Create Date: 2026-12-04 20:30:00
"""

from __future__ import annotations

import json
import uuid

import sqlalchemy as sa
from alembic import op

from portal.db import rls

revision = "0035_announcement_audiences"
down_revision = "0034_agent_leads"
branch_labels = None
depends_on = None

ANNOUNCEMENTS = sa.table(
    "announcements",
    sa.column("tenant_id", sa.Uuid()),
    sa.column("id", sa.Uuid()),
    sa.column("partner_type_ids", sa.JSON()),
)
AUDIENCES = sa.table(
    "announcement_audiences",
    sa.column("tenant_id", sa.Uuid()),
    sa.column("id", sa.Uuid()),
    sa.column("announcement_id", sa.Uuid()),
    sa.column("partner_type_id", sa.Uuid()),
)


def _listed(value: object) -> list[str]:
    return list(json.loads(value) if isinstance(value, str) else value or [])


def upgrade() -> None:
    op.create_table(
        "announcement_audiences",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("announcement_id", sa.Uuid(), nullable=False),
        sa.Column("partner_type_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "announcement_id"],
            ["announcements.tenant_id", "announcements.id"],
            name=op.f("fk_announcement_audiences_tenant_id_announcement_id_announcements"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "partner_type_id"],
            ["partner_types.tenant_id", "partner_types.id"],
            name=op.f("fk_announcement_audiences_tenant_id_partner_type_id_partner_types"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_announcement_audiences_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_announcement_audiences")),
        sa.UniqueConstraint(
            "tenant_id",
            "announcement_id",
            "partner_type_id",
            name=op.f("uq_announcement_audiences_tenant_id_announcement_id_partner_type_id"),
        ),
    )
    rls.tenant_table("announcement_audiences")
    bind = op.get_bind()
    with rls.as_system_role():
        rows = [
            {
                "tenant_id": tenant_id,
                "id": uuid.uuid4(),
                "announcement_id": announcement_id,
                "partner_type_id": uuid.UUID(t),
            }
            for tenant_id, announcement_id, listed in bind.execute(sa.select(ANNOUNCEMENTS)).all()
            for t in _listed(listed)
        ]
        if rows:
            op.bulk_insert(AUDIENCES, rows)
    with op.batch_alter_table("announcements", schema=None) as batch_op:
        batch_op.drop_column("partner_type_ids")


def downgrade() -> None:
    with op.batch_alter_table("announcements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("partner_type_ids", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
    bind = op.get_bind()
    with rls.as_system_role():
        listed: dict[uuid.UUID, list[str]] = {}
        for announcement_id, partner_type_id in bind.execute(
            sa.select(AUDIENCES.c.announcement_id, AUDIENCES.c.partner_type_id)
        ).all():
            listed.setdefault(announcement_id, []).append(str(partner_type_id))
        for announcement_id, types in listed.items():
            bind.execute(
                ANNOUNCEMENTS.update()
                .where(ANNOUNCEMENTS.c.id == announcement_id)
                .values(partner_type_ids=sorted(types))
            )
    op.drop_table("announcement_audiences")
