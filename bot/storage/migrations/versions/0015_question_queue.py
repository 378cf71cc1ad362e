"""Hand-over requests remember when the province was last told and how often (escalation rounds).

Revision ID: 0015
Revises: 0011
Create Date: 2026-11-26 07:15:00
"""

import sqlalchemy as sa
from alembic import op

import reporting.db

revision = "0015"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("handover_requests") as batch:
        batch.add_column(sa.Column("notified_at", reporting.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("notices", sa.Integer(), nullable=False, server_default="0"))
    # questions already in the province's queue were told to its officials once, when escalated
    op.execute("UPDATE handover_requests SET notified_at = escalated_at, notices = 1 WHERE escalated_at IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("handover_requests") as batch:
        batch.drop_column("notices")
        batch.drop_column("notified_at")
