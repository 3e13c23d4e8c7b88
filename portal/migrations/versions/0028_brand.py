"""brand: a tenant's colour, logo, partner sign-in text and email header

Revision ID: 0028_brand
Revises: 0027_announcements
Create Date: 2026-12-04 19:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028_brand"
down_revision = "0027_announcements"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("brand_colour", sa.String(length=7), nullable=True))
        batch_op.add_column(sa.Column("brand_logo_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("sign_in_text", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("email_header", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_column("email_header")
        batch_op.drop_column("sign_in_text")
        batch_op.drop_column("brand_logo_id")
        batch_op.drop_column("brand_colour")
