"""agent funnel: paid fund claims on the partner's account, and lead events read by action

The ordering app's account entries gain the kind "fund" (a market development fund claim paid to the
partner); a fund request records whether its payment was posted. A lead's events gain an index by action
and time, which the agent dashboard's recycling figures count.

Revision ID: 0045_agent_funnel
Revises: 0043_deal_registration
Create Date: 2026-12-05 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from portal.db import rls

revision = "0045_agent_funnel"
down_revision = "0044_service_dealer_tickets"
branch_labels = None
depends_on = None

ENTRY_KINDS = "kind IN ('order', 'payment', 'reversal', 'settlement', 'commission', 'fund')"
OLD_ENTRY_KINDS = "kind IN ('order', 'payment', 'reversal', 'settlement', 'commission')"


def upgrade() -> None:
    with op.batch_alter_table("ordering_account_entries", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_ordering_account_entries_kind"), type_="check")
        batch_op.create_check_constraint("kind", ENTRY_KINDS)
    with op.batch_alter_table("agent_fund_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("posted", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("agent_fund_requests", schema=None) as batch_op:
        batch_op.alter_column("posted", server_default=None)
    with op.batch_alter_table("agent_lead_events", schema=None) as batch_op:
        batch_op.create_index("ix_agent_lead_events_action", ["tenant_id", "action", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("agent_lead_events", schema=None) as batch_op:
        batch_op.drop_index("ix_agent_lead_events_action")
    with op.batch_alter_table("agent_fund_requests", schema=None) as batch_op:
        batch_op.drop_column("posted")
    with rls.as_system_role():
        op.get_bind().execute(sa.text("DELETE FROM ordering_account_entries WHERE kind = 'fund'"))
    with op.batch_alter_table("ordering_account_entries", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_ordering_account_entries_kind"), type_="check")
        batch_op.create_check_constraint("kind", OLD_ENTRY_KINDS)
