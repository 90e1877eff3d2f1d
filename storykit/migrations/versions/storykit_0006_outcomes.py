"""Outcomes (storykit.outcomes): what was decided or done because of stories, who owns it,
when it is due and how far it has got; the stories behind each one, the storytellers'
responses, and the letters that told them.

Revision ID: storykit_0006
"""

import sqlalchemy as sa
from alembic import op

revision = "storykit_0006"
down_revision = "storykit_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outcomes",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("why", sa.Text, nullable=False, server_default=""),
        sa.Column("owner", sa.Text, nullable=False, server_default=""),
        sa.Column("due", sa.Text),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("service", sa.Text),
        sa.Column("meeting", sa.Text),
        sa.Column("meeting_date", sa.Text),
        sa.Column("pack_id", sa.Text),
        sa.Column("done_on", sa.Text),
        sa.Column("source", sa.Text, unique=True),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Text, nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
        sa.CheckConstraint("status IN ('proposed', 'agreed', 'in_progress', 'done', "
                           "'not_taken')"),
    )
    op.create_index("outcomes_status", "outcomes", ["status", "due"])
    op.create_table(
        "outcome_stories",
        sa.Column("outcome_id", sa.Text, sa.ForeignKey("outcomes.id"), nullable=False),
        sa.Column("story_id", sa.Text, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("outcome_id", "story_id"),
    )
    op.create_index("outcome_stories_story", "outcome_stories", ["story_id"])
    op.create_table(
        "outcome_responses",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("outcome_id", sa.Text, sa.ForeignKey("outcomes.id"), nullable=False),
        sa.Column("story_id", sa.Text, nullable=False),
        sa.Column("received_on", sa.Text, nullable=False),
        sa.Column("how", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("recorded_at", sa.Text, nullable=False),
        sa.Column("recorded_by", sa.Text, nullable=False),
    )
    op.create_index("outcome_responses_outcome", "outcome_responses", ["outcome_id"])
    op.create_table(
        "outcome_messages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("outcome_id", sa.Text, sa.ForeignKey("outcomes.id"), nullable=False),
        sa.Column("story_id", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("style", sa.Text, nullable=False),
        sa.Column("sha256", sa.Text, nullable=False),
        sa.Column("sent_at", sa.Text, nullable=False),
        sa.Column("sent_by", sa.Text, nullable=False),
    )
    op.create_index("outcome_messages_outcome", "outcome_messages", ["outcome_id"])
