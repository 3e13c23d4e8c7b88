"""memberships keep the contact details their upstream was given

Revision ID: 0003_membership_contacts
Revises: 0002_interconnect
Create Date: 2026-11-23 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_membership_contacts"
down_revision = "0002_interconnect"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("mobile", sa.String(length=32), nullable=True))
    # Existing memberships were all created with the sign-in name the upstream typed.
    op.execute(
        "UPDATE memberships SET email = (SELECT e.email FROM external_identities e WHERE e.id = memberships.identity_id),"
        " mobile = (SELECT e.mobile FROM external_identities e WHERE e.id = memberships.identity_id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_column("mobile")
        batch_op.drop_column("email")
