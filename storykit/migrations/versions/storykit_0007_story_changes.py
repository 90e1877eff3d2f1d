"""The change feed (storykit.changes): one row per story save, consent change, withdrawal or
erasure, so app servers sharing one stories folder see each other's changes at once. No
story text, names or reasons: the id, the new etags of story.md and consent.yml, the kind
and when.

Revision ID: storykit_0007
"""

import sqlalchemy as sa
from alembic import op

revision = "storykit_0007"
down_revision = "storykit_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "story_changes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("story_id", sa.Text, nullable=False),
        sa.Column("etag", sa.Text),
        sa.Column("consent_etag", sa.Text),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("at", sa.Text, nullable=False),
        sa.CheckConstraint("kind IN ('create', 'save', 'consent', 'withdrawal', 'erasure')"),
    )
    op.create_index("story_changes_story", "story_changes", ["story_id", "id"])


def downgrade() -> None:
    op.drop_table("story_changes")
