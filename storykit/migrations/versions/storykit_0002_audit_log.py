"""The audit log (storykit.audit): append-only on both engines, hash-chained.

SQLite triggers, and on PostgreSQL a trigger function, refuse every UPDATE and DELETE (and, on
PostgreSQL, TRUNCATE) with "the audit log is append-only".

Revision ID: storykit_0002
"""

import sqlalchemy as sa
from alembic import op

revision = "storykit_0002"
down_revision = "storykit_0001"
branch_labels = None
depends_on = None

MESSAGE = "the audit log is append-only"


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("story_id", sa.Text),
        sa.Column("etag", sa.Text),
        sa.Column("ip", sa.Text),
        sa.Column("detail", sa.Text),
        sa.Column("prev_hash", sa.Text, nullable=False),
        sa.Column("hash", sa.Text, nullable=False),
    )
    op.create_index("audit_log_at", "audit_log", ["at"])
    op.create_index("audit_log_actor", "audit_log", ["actor", "at"])
    op.create_index("audit_log_action", "audit_log", ["action", "at"])
    op.create_index("audit_log_story", "audit_log", ["story_id", "at"])
    if op.get_bind().dialect.name == "sqlite":
        for event in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER audit_log_no_{event.lower()} BEFORE {event} ON audit_log "
                       f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END")
    else:
        # restrict_violation (23001) is an integrity error, as SQLite's RAISE(ABORT) is
        op.execute("CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
                   f"$$ BEGIN RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'restrict_violation'; "
                   "END $$")
        op.execute("CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
                   "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()")
        op.execute("CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
                   "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()")

