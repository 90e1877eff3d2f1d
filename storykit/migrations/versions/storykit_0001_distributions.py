"""The distribution log: every artefact that carried a story somewhere (storykit.distribution).

Revision ID: storykit_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "storykit_0001"
down_revision = None
branch_labels = ("storykit",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "distributions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("story_id", sa.Text, nullable=False),
        sa.Column("consent_version", sa.Integer, nullable=False),
        sa.Column("use", sa.Text, nullable=False),
        sa.Column("format", sa.Text, nullable=False),
        sa.Column("sha256", sa.Text, nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("url", sa.Text),
        sa.Column("job", sa.Text),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("removable", sa.Integer, nullable=False, server_default="1"),
        sa.Column("removed_at", sa.Text),
    )
    op.create_index("distributions_story", "distributions", ["story_id"])
    op.create_index("distributions_path", "distributions", ["path"])

