"""Units of reporting can be renamed, merged and retired, with an audit line each.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 02:10:00
"""

import sqlalchemy as sa
from alembic import op

import reporting.db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reporting_units") as batch:
        batch.add_column(sa.Column("retired_at", reporting.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_reporting_units_merged_into_id_reporting_units"), "reporting_units",
                                 ["merged_into_id"], ["id"])
    op.create_table(
        "unit_changes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("changed_by", sa.String(160), nullable=False),
        sa.Column("changed_at", reporting.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["reporting_units.id"],
                                name=op.f("fk_unit_changes_unit_id_reporting_units")),
    )
    op.create_index("ix_unit_changes_unit_id", "unit_changes", ["unit_id"])


def downgrade() -> None:
    op.drop_index("ix_unit_changes_unit_id", table_name="unit_changes")
    op.drop_table("unit_changes")
    with op.batch_alter_table("reporting_units") as batch:
        batch.drop_constraint(op.f("fk_reporting_units_merged_into_id_reporting_units"), type_="foreignkey")
        batch.drop_column("merged_into_id")
        batch.drop_column("retired_at")
