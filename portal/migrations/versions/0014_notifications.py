"""notifications to people (inbox, email, SMS), their preferences, and password reset links

Revision ID: 0014_notifications
Revises: 0013_schedules
Create Date: 2026-12-04 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db.types
from portal.db import rls

revision = "0014_notifications"
down_revision = "0013_schedules"
branch_labels = None
depends_on = None


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"], ["tenants.id"], name=op.f(f"fk_{table}_tenant_id_tenants"), ondelete="RESTRICT"
    )


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("recipient_kind", sa.String(length=16), nullable=False),
        sa.Column("recipient_id", sa.Uuid(), nullable=False),
        sa.Column("recipient_name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("security", sa.Boolean(), nullable=False),
        sa.Column("in_inbox", sa.Boolean(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("mobile", sa.String(length=32), nullable=True),
        sa.Column("email_status", sa.String(length=12), nullable=False),
        sa.Column("sms_status", sa.String(length=12), nullable=False),
        sa.Column("email_sent_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sms_sent_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("secret_link", sa.String(length=600), nullable=True),
        sa.Column("link_expires_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("dedup_key", sa.String(length=120), nullable=True),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("read_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("recipient_kind IN ('internal', 'external')", name=op.f("ck_notifications_recipient_kind")),
        sa.CheckConstraint(
            "email_status IN ('pending', 'sent', 'off', 'expired')", name=op.f("ck_notifications_email_status")
        ),
        sa.CheckConstraint(
            "sms_status IN ('pending', 'sent', 'off', 'expired')", name=op.f("ck_notifications_sms_status")
        ),
        _tenant_fk("notifications"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_notifications")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_notifications_recipient", ["tenant_id", "recipient_kind", "recipient_id", "created_at"], unique=False
        )
        batch_op.create_index("uq_notifications_dedup", ["tenant_id", "dedup_key"], unique=True)
    rls.tenant_table("notifications")

    op.create_table(
        "notification_preferences",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("recipient_kind", sa.String(length=16), nullable=False),
        sa.Column("recipient_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.CheckConstraint("channel IN ('inbox', 'email', 'sms')", name=op.f("ck_notification_preferences_channel")),
        _tenant_fk("notification_preferences"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_notification_preferences")),
        sa.UniqueConstraint(
            "tenant_id",
            "recipient_kind",
            "recipient_id",
            "kind",
            "channel",
            name=op.f("uq_notification_preferences_tenant_id_recipient_kind_recipient_id_kind_channel"),
        ),
    )
    rls.tenant_table("notification_preferences")

    op.create_table(
        "password_resets",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_kind", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("user_kind IN ('internal', 'external')", name=op.f("ck_password_resets_user_kind")),
        _tenant_fk("password_resets"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_password_resets")),
    )
    with op.batch_alter_table("password_resets", schema=None) as batch_op:
        batch_op.create_index("ix_password_resets_user", ["tenant_id", "user_kind", "user_id"], unique=False)
    rls.tenant_table("password_resets")


def downgrade() -> None:
    with op.batch_alter_table("password_resets", schema=None) as batch_op:
        batch_op.drop_index("ix_password_resets_user")
    op.drop_table("password_resets")
    op.drop_table("notification_preferences")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("uq_notifications_dedup")
        batch_op.drop_index("ix_notifications_recipient")
    op.drop_table("notifications")
