"""Questions editors attach to cards, and what the bot did with each question (weekly shares).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 12:00:00
"""

import sqlalchemy as sa
from alembic import op

import reporting.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "learned_questions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("folded", sa.String(500), nullable=False),
        sa.Column("card_id", sa.String(120), nullable=True),
        sa.Column("added_by", sa.String(64), nullable=False),
        sa.Column("created_at", reporting.db.UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("folded", name="uq_learned_questions_folded"),
    )
    op.create_table(
        "asked_questions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", reporting.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("card_id", sa.String(120), nullable=True),
    )
    op.create_index("ix_asked_questions_at", "asked_questions", ["at"])


def downgrade() -> None:
    op.drop_index("ix_asked_questions_at", table_name="asked_questions")
    op.drop_table("asked_questions")
    op.drop_table("learned_questions")
