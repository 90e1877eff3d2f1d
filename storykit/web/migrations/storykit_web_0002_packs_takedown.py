"""The browser app's packs and takedown checklists: pack orders (a pack asked for in the
browser, waiting for or built by its background job) and the ticks staff put against each
copy of a withdrawn story, with a note.

Revision ID: storykit_web_0002_packs_takedown
"""

import sqlalchemy as sa
from alembic import op

revision = "storykit_web_0002_packs_takedown"
down_revision = "storykit_web_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pack_orders",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("definition", sa.Text, nullable=False),
        sa.Column("definition_id", sa.Text),
        sa.Column("rebuilt_from", sa.Text),
        sa.Column("save_as", sa.Text),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("job_id", sa.Integer),
        sa.Column("pack_id", sa.Text),
    )
    op.create_table(
        "takedown_ticks",
        sa.Column("story_id", sa.Text, nullable=False),
        sa.Column("item", sa.Text, nullable=False),
        sa.Column("done", sa.Integer, nullable=False, server_default="0"),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("by", sa.Text, nullable=False),
        sa.Column("at", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("story_id", "item"),
    )
