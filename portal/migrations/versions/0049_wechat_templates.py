"""wechat templates: notifications as WeChat template messages through the tenant's official account (each
notice's openid, status, time sent and WeChat's error), the channel "wechat" among a person's choices, and
which template carries each kind of notification per tenant

Revision ID: 0049_wechat_templates
Revises: 0043_deal_registration
Create Date: 2026-12-05 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db.types
from portal.db import rls

revision = "0049_wechat_templates"
down_revision = "0048_sync_reconciliation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("wechat_to", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("wechat_status", sa.String(length=16), nullable=False, server_default="off"))
        batch_op.add_column(sa.Column("wechat_sent_at", portal.db.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("wechat_error", sa.String(length=200), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_notifications_wechat_status"),
            "wechat_status IN ('pending', 'sent', 'off', 'undeliverable', 'failed')",
        )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.alter_column("wechat_status", server_default=None)
    with op.batch_alter_table("notification_preferences", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_notification_preferences_channel"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_notification_preferences_channel"), "channel IN ('inbox', 'email', 'sms', 'wechat')"
        )

    op.create_table(
        "wechat_templates",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("template_id", sa.String(length=64), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_wechat_templates_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_wechat_templates")),
        sa.UniqueConstraint("tenant_id", "kind", name=op.f("uq_wechat_templates_tenant_id_kind")),
    )
    rls.tenant_table("wechat_templates")


def downgrade() -> None:
    op.drop_table("wechat_templates")
    op.execute("DELETE FROM notification_preferences WHERE channel = 'wechat'")
    with op.batch_alter_table("notification_preferences", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_notification_preferences_channel"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_notification_preferences_channel"), "channel IN ('inbox', 'email', 'sms')"
        )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_notifications_wechat_status"), type_="check")
        batch_op.drop_column("wechat_error")
        batch_op.drop_column("wechat_sent_at")
        batch_op.drop_column("wechat_status")
        batch_op.drop_column("wechat_to")
