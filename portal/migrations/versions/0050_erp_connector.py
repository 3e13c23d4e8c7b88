"""ERP connector: integration keys (hashed, scoped, expiring, rotated with an overlap), the ERP's external
ids per object, the change feed with its per-tenant head, and the log of requests made with a key

Revision ID: 0050_erp_connector
Revises: 0043_deal_registration
Create Date: 2026-12-05 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db.types
from portal.db import rls

revision = "0050_erp_connector"
down_revision = "0049_wechat_templates"
branch_labels = None
depends_on = None

TABLES = (
    "integration_keys",
    "integration_external_ids",
    "integration_feed_heads",
    "integration_changes",
    "integration_requests",
)
STAMP = portal.db.types.UTCDateTime(timezone=True)


def _tenant(table: str) -> list[sa.SchemaItem]:
    return [
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f(f"fk_{table}_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f(f"pk_{table}")),
    ]


def upgrade() -> None:
    op.create_table(
        "integration_keys",
        *_tenant("integration_keys"),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("hint", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("expires_at", STAMP, nullable=True),
        sa.Column("revoked_at", STAMP, nullable=True),
        sa.Column("retires_at", STAMP, nullable=True),
        sa.Column("replaced_by", sa.Uuid(), nullable=True),
        sa.Column("last_used_at", STAMP, nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", STAMP, nullable=False),
        sa.Column("updated_at", STAMP, nullable=False),
    )
    op.create_table(
        "integration_external_ids",
        *_tenant("integration_external_ids"),
        sa.Column("object", sa.String(length=40), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", STAMP, nullable=False),
        sa.UniqueConstraint("tenant_id", "object", "external_id", name="uq_integration_external_ids_key"),
        sa.UniqueConstraint("tenant_id", "object", "record_id", name="uq_integration_external_ids_record"),
    )
    op.create_table(
        "integration_feed_heads",
        *_tenant("integration_feed_heads"),
        sa.Column("position", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "integration_changes",
        *_tenant("integration_changes"),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("object", sa.String(length=40), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("occurred_at", STAMP, nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.UniqueConstraint("tenant_id", "position", name="uq_integration_changes_position"),
        sa.UniqueConstraint("tenant_id", "event_id", "record_id", name="uq_integration_changes_event"),
    )
    op.create_table(
        "integration_requests",
        *_tenant("integration_requests"),
        sa.Column("key_id", sa.Uuid(), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(length=200), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("problem", sa.String(length=60), nullable=True),
        sa.Column("at", STAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "key_id"],
            ["integration_keys.tenant_id", "integration_keys.id"],
            name=op.f("fk_integration_requests_tenant_id_key_id_integration_keys"),
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_integration_requests_time", "integration_requests", ["tenant_id", "at"])
    op.create_index("ix_integration_requests_key", "integration_requests", ["tenant_id", "key_id", "at"])
    for table in TABLES:
        rls.tenant_table(table)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
