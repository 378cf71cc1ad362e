"""Reminders to units that have not reported: one a unit a Vietnamese calendar day.

Revision ID: 0014
Revises: 0015
Create Date: 2026-11-26 07:30:00
"""

import sqlalchemy as sa
from alembic import op

import reporting.db

revision = "0014"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "unit_reminders",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("plan", sa.String(64), nullable=False),
        sa.Column("form", sa.String(32), nullable=False),
        sa.Column("period", sa.String(8), nullable=False),
        sa.Column("sent_by", sa.String(160), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("sent_at", reporting.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["reporting_units.id"],
                                name=op.f("fk_unit_reminders_unit_id_reporting_units")),
        sa.UniqueConstraint("unit_id", "day", name=op.f("uq_unit_reminders_unit_id")),
    )
    op.create_index("ix_unit_reminders_period", "unit_reminders", ["period", "form"])


def downgrade() -> None:
    op.drop_index("ix_unit_reminders_period", table_name="unit_reminders")
    op.drop_table("unit_reminders")
