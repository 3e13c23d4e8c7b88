"""service partner load: an index a dispatch decision reads each partner's open tickets and rating from

Revision ID: 0033_service_partner_load
Revises: 0032_wechat_credential_mark
Create Date: 2026-12-04 19:50:00
"""

from __future__ import annotations

from alembic import op

revision = "0033_service_partner_load"
down_revision = "0032_wechat_credential_mark"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_service_tickets_partner_load",
        "service_tickets",
        ["tenant_id", "enterprise_id", "status", "rating"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_service_tickets_partner_load", table_name="service_tickets")
