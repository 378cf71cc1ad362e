"""The flood limit is kept in the database: one counter row a user, updated atomically.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 04:20:00
"""

import sqlalchemy as sa
from alembic import op

import reporting.db

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "flood_counters",
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("window_start", reporting.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("carried", sa.Integer(), nullable=False),
        sa.Column("last_missed", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("channel", "user_id", name=op.f("pk_flood_counters")),
    )


def downgrade() -> None:
    op.drop_table("flood_counters")
