"""extraction: token usage and cost per conversation and per run, batch jobs (issue 5)

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_USAGE = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "requests")


def upgrade() -> None:
    op.create_table(
        "batch_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column(
            "provider_batch_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False
        ),
        sa.Column("extractor_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("prompt_version", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("request_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("reconciled_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["extraction_runs.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_batch_jobs_provider_batch_id"), "batch_jobs", ["provider_batch_id"], unique=False
    )
    op.create_table(
        "batch_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_job_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("custom_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.ForeignKeyConstraint(["batch_job_id"], ["batch_jobs.id"]),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("batch_job_id", "custom_id", name="uq_batch_item"),
    )
    op.create_index(
        op.f("ix_batch_items_batch_job_id"), "batch_items", ["batch_job_id"], unique=False
    )
    op.create_index(
        op.f("ix_batch_items_conversation_id"), "batch_items", ["conversation_id"], unique=False
    )
    with op.batch_alter_table("conversation_extractions") as batch:
        for name in _USAGE:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("cost_usd", sa.Float(), nullable=False, server_default="0"))
    with op.batch_alter_table("extraction_runs") as batch:
        for name in ("cache_read_tokens", "cache_write_tokens", "requests"):
            batch.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    op.drop_index(op.f("ix_batch_items_conversation_id"), table_name="batch_items")
    op.drop_index(op.f("ix_batch_items_batch_job_id"), table_name="batch_items")
    op.drop_table("batch_items")
    op.drop_index(op.f("ix_batch_jobs_provider_batch_id"), table_name="batch_jobs")
    op.drop_table("batch_jobs")
    with op.batch_alter_table("extraction_runs") as batch:
        for name in ("cache_read_tokens", "cache_write_tokens", "requests"):
            batch.drop_column(name)
    with op.batch_alter_table("conversation_extractions") as batch:
        batch.drop_column("cost_usd")
        for name in reversed(_USAGE):
            batch.drop_column(name)
