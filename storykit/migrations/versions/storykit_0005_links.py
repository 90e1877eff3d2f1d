"""One-time links (storykit.links: a storyteller's sign-off or consent answer, without an
account) and the outbox of emails (storykit.mail: queued, sent or failed, never story text).

Revision ID: storykit_0005
"""

import sqlalchemy as sa
from alembic import op

revision = "storykit_0005"
down_revision = "storykit_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "one_time_links",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("story_id", sa.Text, nullable=False),
        sa.Column("revision", sa.Integer),
        sa.Column("etag", sa.Text),
        sa.Column("token_hash", sa.Text, nullable=False, unique=True),
        sa.Column("code_hash", sa.Text, unique=True),
        sa.Column("session_hash", sa.Text),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("expires_at", sa.Float(precision=53), nullable=False),
        sa.Column("opened_at", sa.Text),
        sa.Column("used_at", sa.Text),
        sa.Column("revoked_at", sa.Text),
        sa.Column("revoked_by", sa.Text),
        sa.Column("answer", sa.Text),
        sa.Column("answer_detail", sa.Text),
        sa.Column("answered_via", sa.Text),
        sa.Column("taken_by", sa.Text),
    )
    op.create_index("one_time_links_story", "one_time_links", ["story_id", "purpose"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("event", sa.Text, nullable=False),
        sa.Column("story_id", sa.Text),
        sa.Column("audience", sa.Text, nullable=False),
        sa.Column("to_addr", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False, server_default="queued"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("error", sa.Text),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("sent_at", sa.Text),
        sa.CheckConstraint("state IN ('queued', 'sent', 'failed')"),
        sa.CheckConstraint("audience IN ('staff', 'storyteller')"),
    )
    op.create_index("outbox_story", "outbox", ["story_id"])
    op.create_index("outbox_state", "outbox", ["state", "id"])
