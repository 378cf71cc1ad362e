"""Crash-safe sending: leases and per-call progress on queued messages; a Zalo refresh lease.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 22:20:00
"""

import sqlalchemy as sa
from alembic import op

import reporting.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outgoing_messages") as batch:
        batch.add_column(sa.Column("claimed_at", reporting.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("parts_done", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("in_flight", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("uncertain", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("oauth_tokens") as batch:
        batch.add_column(sa.Column("refreshing_since", reporting.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("needs_reauth", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("oauth_tokens") as batch:
        batch.drop_column("needs_reauth")
        batch.drop_column("refreshing_since")
    with op.batch_alter_table("outgoing_messages") as batch:
        batch.drop_column("uncertain")
        batch.drop_column("in_flight")
        batch.drop_column("parts_done")
        batch.drop_column("claimed_at")
