"""Processed deliveries (dedupe of platform updates) and media messages.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from bot.storage.db import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "processed_deliveries",
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("delivery_id", sa.String(128), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("channel", "delivery_id", name="pk_processed_deliveries"),
    )
    op.create_table(
        "media_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ref", sa.String(255), nullable=True),
        sa.Column("caption", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_media_messages"),
    )
    op.create_index("ix_media_messages_user", "media_messages", ["channel", "user_id"])


def downgrade() -> None:
    op.drop_index("ix_media_messages_user", table_name="media_messages")
    op.drop_table("media_messages")
    op.drop_table("processed_deliveries")
