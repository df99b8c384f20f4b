"""RevOps review decisions (audit trail)

Revision ID: 0007
Revises: 0006

review_decisions: append-only, one row per decision on a disagreement between an extractor
and gold; labels only (closed-enum values), never text.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STRING = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "review_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report", STRING(length=200), nullable=False),
        sa.Column("case_id", STRING(length=200), nullable=False),
        sa.Column("extractor", STRING(length=200), nullable=False),
        sa.Column("kind", STRING(length=30), nullable=False),
        sa.Column("label", STRING(length=60), nullable=False),
        sa.Column("side", STRING(length=40), nullable=False),
        sa.Column("disagreement", STRING(length=20), nullable=False),
        sa.Column("decision", STRING(length=20), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("reviewer", STRING(length=100), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_review_decisions_slot",
        "review_decisions",
        ["report", "case_id", "kind", "label"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_review_decisions_slot", table_name="review_decisions")
    op.drop_table("review_decisions")
