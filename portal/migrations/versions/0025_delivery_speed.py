"""delivery speed: outbox events lose the (tenant, aggregate) index nothing reads, a write fewer per event

Revision ID: 0025_delivery_speed
Revises: 0024_service_sla
Create Date: 2026-12-04 16:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0025_delivery_speed"
down_revision = "0024_service_sla"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Deliveries carry the aggregate (the claim's line index); no query finds events by aggregate.
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_events_tenant_aggregate")


def downgrade() -> None:
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_events_tenant_aggregate", ["tenant_id", "aggregate_type", "aggregate_id"], unique=False
        )
