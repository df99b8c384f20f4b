"""scoring engine: overrides, playbook triggers (issue 6)

Revision ID: 0002
Revises: 0001

score_runs, score_overrides and playbook_triggers are new; score_snapshots gains its run,
segment, trends, expansion readiness, risk streak, trigger conditions and the override
that was active (the computed score stays in `score`). Existing snapshots get neutral
values: no run, not expansion-ready, no conditions.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "score_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("finished_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("as_of", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("profile_version", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("accounts", sa.Integer(), nullable=False),
        sa.Column("scored", sa.Integer(), nullable=False),
        sa.Column("triggers", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "score_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("author", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("cleared_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("cleared_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("score_overrides", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_score_overrides_account_id"), ["account_id"], unique=False
        )

    with op.batch_alter_table("score_snapshots", schema=None) as batch_op:
        batch_op.add_column(sa.Column("run_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("segment", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=True)
        )
        batch_op.add_column(sa.Column("trend", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("trend_30d", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("expansion", sa.Float(), nullable=True))
        batch_op.add_column(
            sa.Column("expansion_ready", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("expansion_drivers", sa.JSON(), nullable=False, server_default="[]")
        )
        batch_op.add_column(
            sa.Column("risk_since", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("conditions", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("override_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("override_score", sa.Float(), nullable=True))
        batch_op.add_column(
            sa.Column("override_band", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True)
        )
        batch_op.create_foreign_key(
            "fk_score_snapshots_run_id_score_runs", "score_runs", ["run_id"], ["id"]
        )
        batch_op.create_foreign_key(
            "fk_score_snapshots_override_id_score_overrides",
            "score_overrides",
            ["override_id"],
            ["id"],
        )
        batch_op.create_index(
            "ix_score_snapshots_run_account", ["run_id", "account_id"], unique=False
        )
        batch_op.create_index(
            "ix_score_snapshots_account_as_of", ["account_id", "as_of"], unique=False
        )

    op.create_table(
        "playbook_triggers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("snapshot_id", sa.Integer(), nullable=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("as_of", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("profile_version", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("delivered_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["score_runs.id"],
        ),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["score_snapshots.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("playbook_triggers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_playbook_triggers_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_playbook_triggers_run_id"), ["run_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_playbook_triggers_delivered_at"), ["delivered_at"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("playbook_triggers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_playbook_triggers_delivered_at"))
        batch_op.drop_index(batch_op.f("ix_playbook_triggers_run_id"))
        batch_op.drop_index(batch_op.f("ix_playbook_triggers_account_id"))

    op.drop_table("playbook_triggers")
    with op.batch_alter_table("score_snapshots", schema=None) as batch_op:
        batch_op.drop_index("ix_score_snapshots_account_as_of")
        batch_op.drop_index("ix_score_snapshots_run_account")
        batch_op.drop_constraint(
            "fk_score_snapshots_override_id_score_overrides", type_="foreignkey"
        )
        batch_op.drop_constraint("fk_score_snapshots_run_id_score_runs", type_="foreignkey")
        batch_op.drop_column("override_band")
        batch_op.drop_column("override_score")
        batch_op.drop_column("override_id")
        batch_op.drop_column("conditions")
        batch_op.drop_column("risk_since")
        batch_op.drop_column("expansion_drivers")
        batch_op.drop_column("expansion_ready")
        batch_op.drop_column("expansion")
        batch_op.drop_column("trend_30d")
        batch_op.drop_column("trend")
        batch_op.drop_column("segment")
        batch_op.drop_column("run_id")

    with op.batch_alter_table("score_overrides", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_score_overrides_account_id"))

    op.drop_table("score_overrides")
    op.drop_table("score_runs")
