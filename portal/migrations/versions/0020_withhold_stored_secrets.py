"""answers kept for Idempotency-Key replays no longer hold secrets shown once

Revision ID: 0020_withhold_stored_secrets
Revises: 0019_delivery_replay_count
Create Date: 2026-12-05 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from portal.db import rls

revision = "0020_withhold_stored_secrets"
down_revision = "0019_delivery_replay_count"
branch_labels = None
depends_on = None

# What the answers of the routes marked shown_once (portal/http/idempotent.py) hold when set: a webhook
# endpoint's signing secret, a one-time set-password link.
MARKERS = (b'"secret":"whsec_', b'"setup_url":"')
WITHHOLD = {
    "postgresql": "UPDATE idempotency_keys SET response_body = NULL WHERE position(:marker in response_body) > 0",
    "sqlite": "UPDATE idempotency_keys SET response_body = NULL WHERE instr(response_body, :marker) > 0",
}


def upgrade() -> None:
    # Such an answer stored before keeps its status without its body: a retry with its key is refused
    # (409 idempotent_answer_withheld), as for one stored from now on.
    bind = op.get_bind()
    statement = sa.text(WITHHOLD[bind.dialect.name])
    with rls.as_system_role():
        for marker in MARKERS:
            bind.execute(statement.bindparams(sa.bindparam("marker", marker, type_=sa.LargeBinary())))


def downgrade() -> None:
    pass  # what was withheld is gone
