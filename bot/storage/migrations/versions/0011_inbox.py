"""A durable inbox for webhook and polling updates; the process holding a row is named.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 04:30:00
"""

import sqlalchemy as sa
from alembic import op

import reporting.db

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("update_id", sa.String(128), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("received_at", reporting.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("owner", sa.BigInteger(), nullable=True),
        sa.Column("claimed_at", reporting.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("done_at", reporting.db.UTCDateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("channel", "update_id", name="uq_inbox_channel"),
    )
    op.create_index("ix_inbox_state_id", "inbox", ["state", "id"])
    op.create_index("ix_inbox_user", "inbox", ["channel", "user_id", "state"])
    with op.batch_alter_table("outgoing_messages") as batch:
        batch.add_column(sa.Column("owner", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outgoing_messages") as batch:
        batch.drop_column("owner")
    op.drop_index("ix_inbox_user", table_name="inbox")
    op.drop_index("ix_inbox_state_id", table_name="inbox")
    op.drop_table("inbox")
