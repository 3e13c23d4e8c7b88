"""delivery: outbox events get a sequence and a fanned-out marker; one delivery per (event, subscriber)
with its lease and attempts, and the log of every attempt; PostgreSQL notifies the workers on insert

Revision ID: 0012_delivery
Revises: 0011_sign_in_guard
Create Date: 2026-12-04 12:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db.types
from portal.db import rls

revision = "0012_delivery"
down_revision = "0011_sign_in_guard"
branch_labels = None
depends_on = None

TABLES = ("outbox_deliveries", "outbox_delivery_attempts")
SEQUENCE = "outbox_events_sequence_seq"
# The channel the workers LISTEN on (sync.delivery.worker.OUTBOX_CHANNEL): one notification per inserting
# statement, sent by PostgreSQL at commit (and folded into one per transaction).
NOTIFY_FUNCTION = """
CREATE OR REPLACE FUNCTION portal_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('portal_outbox', '');
    RETURN NULL;
END $$
"""
# SQLite's writers queue for one lock, so the next number is the largest so far plus one.
SQLITE_SEQUENCE_TRIGGER = """
CREATE TRIGGER outbox_events_sequence AFTER INSERT ON outbox_events
FOR EACH ROW WHEN NEW.sequence IS NULL
BEGIN
    UPDATE outbox_events SET sequence = (SELECT COALESCE(MAX(sequence), 0) + 1 FROM outbox_events)
    WHERE tenant_id = NEW.tenant_id AND id = NEW.id;
END
"""


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    postgres = _postgres()
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_events_pending")
        batch_op.add_column(sa.Column("sequence", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("fanned_out", sa.Boolean(), server_default=sa.false(), nullable=False))
    if postgres:
        op.execute(f"CREATE SEQUENCE {SEQUENCE}")
        rls.grant_sequence(SEQUENCE)
    # events written before there were workers wait to be delivered like any new one, in the order written
    with rls.as_system_role():
        if postgres:
            op.execute(
                "UPDATE outbox_events SET sequence = ordered.n FROM ("
                "SELECT tenant_id, id, nextval('outbox_events_sequence_seq') AS n FROM "
                "(SELECT tenant_id, id FROM outbox_events ORDER BY occurred_at, id) AS o) AS ordered "
                "WHERE outbox_events.tenant_id = ordered.tenant_id AND outbox_events.id = ordered.id"
            )
        else:
            op.execute(
                "UPDATE outbox_events SET sequence = (SELECT COUNT(*) FROM outbox_events AS earlier "
                "WHERE earlier.occurred_at < outbox_events.occurred_at OR (earlier.occurred_at = "
                "outbox_events.occurred_at AND earlier.id <= outbox_events.id))"
            )
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_events_status"), type_="check")
        batch_op.drop_column("status")
        batch_op.drop_column("attempts")
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("delivered_at")
        batch_op.drop_column("last_error")
        batch_op.create_index("ix_outbox_events_sequence", ["sequence"], unique=False)
        batch_op.create_index(
            "ix_outbox_events_unfanned",
            ["sequence"],
            unique=False,
            postgresql_where=sa.text("NOT fanned_out"),
            sqlite_where=sa.text("fanned_out = 0"),
        )
    if postgres:
        op.execute(f"ALTER TABLE outbox_events ALTER COLUMN sequence SET DEFAULT nextval('{SEQUENCE}')")
        op.execute(f"ALTER SEQUENCE {SEQUENCE} OWNED BY outbox_events.sequence")
        op.execute(NOTIFY_FUNCTION)
        op.execute(
            "CREATE TRIGGER outbox_events_notify AFTER INSERT ON outbox_events "
            "FOR EACH STATEMENT EXECUTE FUNCTION portal_outbox_notify()"
        )
    else:
        op.execute(SQLITE_SEQUENCE_TRIGGER)

    op.create_table(
        "outbox_deliveries",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("subscriber", sa.String(length=60), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("aggregate_type", sa.String(length=60), nullable=False),
        sa.Column("aggregate_id", sa.Uuid(), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        sa.Column("lease_expires_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=2000), nullable=True),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('pending', 'delivered', 'dead')", name=op.f("ck_outbox_deliveries_status")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "event_id"],
            ["outbox_events.tenant_id", "outbox_events.id"],
            name=op.f("fk_outbox_deliveries_tenant_id_outbox_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_outbox_deliveries_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_outbox_deliveries")),
        sa.UniqueConstraint(
            "tenant_id", "event_id", "subscriber", name=op.f("uq_outbox_deliveries_tenant_id_event_id_subscriber")
        ),
    )
    with op.batch_alter_table("outbox_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_deliveries_due",
            ["next_attempt_at"],
            unique=False,
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        )
        batch_op.create_index(
            "ix_outbox_deliveries_line",
            ["tenant_id", "subscriber", "aggregate_type", "aggregate_id", "sequence"],
            unique=False,
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        )
        batch_op.create_index("ix_outbox_deliveries_tenant_status", ["tenant_id", "status", "subscriber"], unique=False)
    op.create_table(
        "outbox_delivery_attempts",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("delivery_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=100), nullable=False),
        sa.Column("started_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("error", sa.String(length=2000), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('delivered', 'failed', 'dead', 'lost', 'late')",
            name=op.f("ck_outbox_delivery_attempts_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "delivery_id"],
            ["outbox_deliveries.tenant_id", "outbox_deliveries.id"],
            name=op.f("fk_outbox_delivery_attempts_tenant_id_outbox_deliveries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_outbox_delivery_attempts_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_outbox_delivery_attempts")),
    )
    with op.batch_alter_table("outbox_delivery_attempts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_delivery_attempts_delivery", ["tenant_id", "delivery_id", "number"], unique=False
        )
        batch_op.create_index("ix_outbox_delivery_attempts_finished", ["tenant_id", "finished_at"], unique=False)
    for table in TABLES:
        rls.tenant_table(table)


def downgrade() -> None:
    op.drop_table("outbox_delivery_attempts")
    op.drop_table("outbox_deliveries")
    if _postgres():
        op.execute("DROP TRIGGER outbox_events_notify ON outbox_events")
        op.execute("DROP FUNCTION portal_outbox_notify()")
    else:
        op.execute("DROP TRIGGER outbox_events_sequence")
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_events_unfanned")
        batch_op.drop_index("ix_outbox_events_sequence")
        batch_op.add_column(sa.Column("status", sa.String(length=12), server_default="pending", nullable=False))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(
            sa.Column(
                "next_attempt_at",
                portal.db.types.UTCDateTime(timezone=True),
                server_default=sa.func.current_timestamp(),
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("delivered_at", portal.db.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_error", sa.String(length=2000), nullable=True))
        batch_op.drop_column("fanned_out")
        batch_op.drop_column("sequence")
        batch_op.create_check_constraint(op.f("ck_outbox_events_status"), "status IN ('pending', 'delivered', 'dead')")
        batch_op.create_index("ix_outbox_events_pending", ["status", "next_attempt_at"], unique=False)
    if _postgres():
        op.execute(f"DROP SEQUENCE IF EXISTS {SEQUENCE}")
