"""Access: atomic attempt counters (login, invites), API tokens; the old per-row counters go.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 04:20:00
"""

import sqlalchemy as sa
from alembic import op

import reporting.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attempt_counters",
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("key", sa.String(160), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("window_start", reporting.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_attempt_counters")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("province_code", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", reporting.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", reporting.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", reporting.db.UTCDateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.drop_table("invite_failures")
    with op.batch_alter_table("dashboard_users") as batch:
        batch.drop_column("failed_logins")
        batch.drop_column("locked_until")


def downgrade() -> None:
    with op.batch_alter_table("dashboard_users") as batch:
        batch.add_column(sa.Column("locked_until", reporting.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "invite_failures",
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("window_start", reporting.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", "user_id", name=op.f("pk_invite_failures")),
    )
    op.drop_table("api_tokens")
    op.drop_table("attempt_counters")
