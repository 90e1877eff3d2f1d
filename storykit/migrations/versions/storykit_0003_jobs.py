"""Background jobs (storykit.jobs): one row per job, so the app can show progress and results
and nothing is lost when a worker stops. The task queue (Huey) only carries the row's id.

Revision ID: storykit_0003
"""

import sqlalchemy as sa
from alembic import op

revision = "storykit_0003"
down_revision = "storykit_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("params", sa.Text, nullable=False, server_default="{}"),
        sa.Column("key", sa.Text),  # jobs with one key are coalesced (e.g. one queued build)
        sa.Column("state", sa.Text, nullable=False, server_default="queued"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("progress", sa.Float(precision=53), nullable=False, server_default="0"),
        sa.Column("message", sa.Text, nullable=False, server_default=""),
        sa.Column("result", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("started_at", sa.Text),
        sa.Column("finished_at", sa.Text),
        sa.Column("worker", sa.Text),
        sa.Column("heartbeat", sa.Float(precision=53)),
        sa.CheckConstraint("state IN ('queued', 'running', 'done', 'failed')",
                           name="jobs_state_known"),
    )
    op.create_index("jobs_state", "jobs", ["state", "id"])
    op.create_index("jobs_key", "jobs", ["key", "state"])
    op.create_index("jobs_kind", "jobs", ["kind", "id"])
