"""service public pages: a device's public page token, a ticket's channel, progress link and rating

A device's public page (its QR label) is found by the random token in its address; a ticket records how
it came (existing tickets: "staff", or "partner" when a partner opened it), the nonce and expiry of the
customer's signed progress link, the customer's rating and email; a notification may go to a customer
(no account: email and SMS only).

Revision ID: 0023_service_public
Revises: 0022_oauth
Create Date: 2026-12-04 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db.types

revision = "0023_service_public"
down_revision = "0022_oauth"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("service_devices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("public_token", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_service_devices_public_token", ["tenant_id", "public_token"], unique=True)
    with op.batch_alter_table("service_tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("channel", sa.String(length=16), server_default="staff", nullable=False))
        batch_op.add_column(sa.Column("progress_nonce", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("progress_expires_at", portal.db.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("rating", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("rating_comment", sa.String(length=1000), nullable=True))
        batch_op.add_column(sa.Column("rated_at", portal.db.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_check_constraint("channel", "channel IN ('staff', 'partner', 'api', 'device_page')")
        batch_op.create_check_constraint("rating", "rating BETWEEN 1 AND 5")
    op.execute("UPDATE service_tickets SET channel = 'partner' WHERE opened_by_kind = 'external'")
    with op.batch_alter_table("service_tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contact_email", sa.String(length=254), nullable=True))
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_notifications_recipient_kind"), type_="check")
        batch_op.create_check_constraint("recipient_kind", "recipient_kind IN ('internal', 'external', 'customer')")


def downgrade() -> None:
    op.execute("DELETE FROM notifications WHERE recipient_kind = 'customer'")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_notifications_recipient_kind"), type_="check")
        batch_op.create_check_constraint("recipient_kind", "recipient_kind IN ('internal', 'external')")
    with op.batch_alter_table("service_tickets", schema=None) as batch_op:
        batch_op.drop_column("contact_email")
    with op.batch_alter_table("service_tickets", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_service_tickets_rating"), type_="check")
        batch_op.drop_constraint(op.f("ck_service_tickets_channel"), type_="check")
        for column in ("rated_at", "rating_comment", "rating", "progress_expires_at", "progress_nonce", "channel"):
            batch_op.drop_column(column)
    with op.batch_alter_table("service_devices", schema=None) as batch_op:
        batch_op.drop_index("ix_service_devices_public_token")
        batch_op.drop_column("public_token")
