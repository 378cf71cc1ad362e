"""Dashboard accounts: full name, commune and disabling of users; invite links; the audit log.

Revision ID: 0016
Revises: 0014
Create Date: 2026-11-26 07:15:00
"""

import sqlalchemy as sa
from alembic import op

import reporting.db

revision = "0016"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dashboard_users") as batch:
        batch.add_column(sa.Column("full_name", sa.String(200), nullable=True))
        batch.add_column(sa.Column("commune_code", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("disabled_at", reporting.db.UTCDateTime(timezone=True), nullable=True))
    op.create_table(
        "dashboard_invites",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("full_name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("province_code", sa.Integer(), nullable=False),
        sa.Column("commune_code", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", reporting.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", reporting.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", reporting.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("used_by", sa.String(64), nullable=True),
        sa.Column("revoked_at", reporting.db.UTCDateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("token_hash", name=op.f("uq_dashboard_invites_token_hash")),
    )
    op.create_table(
        "dashboard_audit",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", reporting.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(64), nullable=True),
        sa.Column("province_code", sa.Integer(), nullable=True),
        sa.Column("line", sa.Text(), nullable=False),
    )
    op.create_index("ix_dashboard_audit_at", "dashboard_audit", ["at"])


def downgrade() -> None:
    op.drop_index("ix_dashboard_audit_at", table_name="dashboard_audit")
    op.drop_table("dashboard_audit")
    op.drop_table("dashboard_invites")
    with op.batch_alter_table("dashboard_users") as batch:
        batch.drop_column("disabled_at")
        batch.drop_column("commune_code")
        batch.drop_column("full_name")
