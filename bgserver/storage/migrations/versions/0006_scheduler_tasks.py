"""scheduler tasks as rows; runs queued, taken, with progress

The run log of the fixed tasks before this (task name, status) is history only: it is
dropped and the run table made anew.

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa

from bgserver.storage.schema import BigId
from bgserver.storage.types import UtcDateTime

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("scheduler_run")
    op.create_table(
        "scheduler_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("module_id", sa.Integer(),
                  sa.ForeignKey("module_instance.id", ondelete="CASCADE",
                                name="fk_scheduler_task_module_id_module_instance"),
                  nullable=True),
        sa.Column("cron", sa.String(100), nullable=True),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default="1", nullable=False),
        sa.Column("fired_through", UtcDateTime(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduler_task")),
    )
    op.create_table(
        "scheduler_run",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("scheduled_for", UtcDateTime(), nullable=False),
        sa.Column("queued_at", UtcDateTime(), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=True),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.Column("holder", sa.String(200), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("progress_done", sa.BigInteger(), nullable=True),
        sa.Column("progress_total", sa.BigInteger(), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["task_id"], ["scheduler_task.id"],
                                name=op.f("fk_scheduler_run_task_id_scheduler_task")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduler_run")),
    )
    op.create_index(op.f("ix_scheduler_run_state_task_id"), "scheduler_run",
                    ["state", "task_id"])
    op.create_index(op.f("ix_scheduler_run_task_id_id"), "scheduler_run", ["task_id", "id"])


def downgrade() -> None:
    op.drop_table("scheduler_run")
    op.drop_table("scheduler_task")
    op.create_table(
        "scheduler_run",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("task", sa.String(100), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", UtcDateTime, nullable=False),
        sa.Column("finished_at", UtcDateTime, nullable=True),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("result", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_scheduler_run"),
    )
    op.create_index("ix_scheduler_run_task_started_at", "scheduler_run", ["task", "started_at"])
