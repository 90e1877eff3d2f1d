"""The browser app's tables: accounts and roles, who works on which story, sign-in failures
(the throttle) and reviewers' notes.

Revision ID: storykit_web_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "storykit_web_0001"
down_revision = None
branch_labels = ("storykit_web",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        sa.Column("display_name", sa.Text, nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("active", sa.Integer, nullable=False, server_default="1"),
        sa.Column("session_version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("password_changed_at", sa.Text, nullable=False),
    )
    op.create_table(
        "user_roles",
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("user_id", "role"),
        sa.CheckConstraint("role IN ('advocate', 'reviewer', 'publisher', 'admin')"),
    )
    op.create_table(
        "story_access",
        sa.Column("story_id", sa.Text, nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("access", sa.Text, nullable=False),
        sa.Column("granted_by", sa.Text, nullable=False),
        sa.Column("granted_at", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("story_id", "user_id"),
        sa.CheckConstraint("access IN ('owner', 'shared')"),
    )
    op.create_index("story_access_user", "story_access", ["user_id"])
    owner_only = sa.text("access = 'owner'")
    op.create_index("story_access_one_owner", "story_access", ["story_id"], unique=True,
                    sqlite_where=owner_only, postgresql_where=owner_only)
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.Float(precision=53), nullable=False),
        sa.Column("account", sa.Text, nullable=False),
        sa.Column("ip", sa.Text, nullable=False),
    )
    op.create_index("login_failures_account", "login_failures", ["account", "at"])
    op.create_index("login_failures_ip", "login_failures", ["ip", "at"])
    op.create_table(
        "story_notes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("story_id", sa.Text, nullable=False),
        sa.Column("author", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
    )
    op.create_index("story_notes_story", "story_notes", ["story_id"])
