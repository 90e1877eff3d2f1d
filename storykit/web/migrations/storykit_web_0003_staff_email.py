"""Staff email addresses for notices (storykit.web.alerts): one per account, optional.

Revision ID: storykit_web_0003
"""

import sqlalchemy as sa
from alembic import op

revision = "storykit_web_0003"
down_revision = "storykit_web_0002_packs_takedown"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_emails",
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("notices", sa.Integer, nullable=False, server_default="1"),
    )
