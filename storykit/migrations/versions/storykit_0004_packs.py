"""Packs (storykit.packs): each pack built, who it is for, the stories in it, and saved pack
definitions; the distribution log names the pack each artefact went out in.

Revision ID: storykit_0004
"""

import sqlalchemy as sa
from alembic import op

revision = "storykit_0004"
down_revision = "storykit_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pack_definitions",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        sa.Column("definition", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Text, nullable=False),
    )
    op.create_table(
        "packs",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("definition_id", sa.Text),
        sa.Column("rebuilt_from", sa.Text),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("use", sa.Text, nullable=False),
        sa.Column("formats", sa.Text, nullable=False),
        sa.Column("length", sa.Text, nullable=False),
        sa.Column("theme", sa.Text),
        sa.Column("meeting", sa.Text),
        sa.Column("meeting_date", sa.Text),
        sa.Column("definition", sa.Text, nullable=False),
        sa.Column("decided_for", sa.Text, nullable=False),
        sa.Column("built_at", sa.Text, nullable=False),
        sa.Column("built_by", sa.Text, nullable=False),
        sa.Column("file_name", sa.Text, nullable=False),
        sa.Column("location", sa.Text),
        sa.Column("sha256", sa.Text, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("stories", sa.Integer, nullable=False),
        sa.Column("refused", sa.Integer, nullable=False, server_default="0"),
        sa.CheckConstraint("length IN ('full', 'summary')"),
    )
    op.create_index("packs_built_at", "packs", ["built_at"])
    op.create_table(
        "pack_recipients",
        sa.Column("pack_id", sa.Text, sa.ForeignKey("packs.id"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("pack_id", "position"),
    )
    op.create_table(
        "pack_stories",
        sa.Column("pack_id", sa.Text, sa.ForeignKey("packs.id"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("story_id", sa.Text, nullable=False),
        sa.Column("consent_version", sa.Integer, nullable=False),
        sa.Column("consent_expires", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("pack_id", "position"),
    )
    op.create_index("pack_stories_story", "pack_stories", ["story_id"])
    with op.batch_alter_table("distributions") as batch:
        batch.add_column(sa.Column("pack_id", sa.Text))
    op.create_index("distributions_pack", "distributions", ["pack_id"])
