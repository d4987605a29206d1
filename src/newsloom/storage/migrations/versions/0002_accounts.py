"""Reader accounts: users, sessions, API tokens, follows, saved items, reads, story visits, editor picks,
app settings, invites and the per-story comparison cache.

Revision ID: 0002_accounts
Revises: 0001
Create Date: 2025-01-02

Tables are spelled out here, as in 0001, so this revision keeps building the same schema whatever
accounts_schema.py becomes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# Registers the reader tables on schema.metadata for whatever compares the schema with the migrations (the
# lifecycle contract test); the tables below do not depend on it.
import newsloom.storage.accounts_schema  # noqa: F401
from newsloom.storage.schema import UTCDateTime

revision = "0002_accounts"
down_revision = "0001"
branch_labels = None
depends_on = None


def _user_fk(column: str, table: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], ["users.id"], name=f"fk_{table}_{column}_users", ondelete=ondelete)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("role", sa.String(16), nullable=False, server_default="reader"),
        sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("feed_nonce", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("last_login_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("username", name="uq_users_username"),
    )
    op.create_table(
        "sessions",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("user_agent", sa.Text),
        sa.PrimaryKeyConstraint("token_hash", name="pk_sessions"),
        _user_fk("user_id", "sessions", "CASCADE"),
    )
    op.create_index("ix_sessions_user_id", "sessions", ["user_id"])
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("last_used_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
        _user_fk("user_id", "api_tokens", "CASCADE"),
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])
    op.create_table(
        "follows",
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("user_id", "kind", "value", name="pk_follows"),
        _user_fk("user_id", "follows", "CASCADE"),
    )
    for table, time_column in (("saved_items", "saved_at"), ("reads", "first_read_at")):
        extra = [sa.Column("last_read_at", UTCDateTime, nullable=False)] if table == "reads" else []
        op.create_table(
            table,
            sa.Column("user_id", sa.Integer, nullable=False),
            sa.Column("article_id", sa.Integer, nullable=False),
            sa.Column(time_column, UTCDateTime, nullable=False),
            *extra,
            sa.PrimaryKeyConstraint("user_id", "article_id", name=f"pk_{table}"),
            _user_fk("user_id", table, "CASCADE"),
            sa.ForeignKeyConstraint(
                ["article_id"], ["articles.id"], name=f"fk_{table}_article_id_articles", ondelete="CASCADE"
            ),
        )
    op.create_index("ix_reads_user_id_last_read_at", "reads", ["user_id", "last_read_at"])
    op.create_table(
        "story_visits",
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("story_id", sa.String(64), nullable=False),
        sa.Column("last_visit_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("user_id", "story_id", name="pk_story_visits"),
        _user_fk("user_id", "story_visits", "CASCADE"),
    )
    op.create_table(
        "editor_picks",
        sa.Column("story_id", sa.String(64), nullable=False),
        sa.Column("picked_by", sa.Integer),
        sa.Column("note", sa.Text),
        sa.Column("picked_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("story_id", name="pk_editor_picks"),
        _user_fk("picked_by", "editor_picks", "SET NULL"),
    )
    op.create_index("ix_editor_picks_picked_at", "editor_picks", ["picked_at"])
    op.create_table(
        "app_settings",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_app_settings"),
    )
    op.create_table(
        "invites",
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("created_by", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("used_by", sa.Integer),
        sa.Column("used_at", UTCDateTime),
        sa.PrimaryKeyConstraint("code_hash", name="pk_invites"),
        _user_fk("created_by", "invites", "CASCADE"),
        _user_fk("used_by", "invites", "SET NULL"),
    )
    op.create_table(
        "story_comparisons",
        sa.Column("story_id", sa.String(64), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("computed_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("story_id", name="pk_story_comparisons"),
    )


def downgrade() -> None:
    for table in (
        "story_comparisons", "invites", "app_settings", "editor_picks", "story_visits", "reads", "saved_items",
        "follows", "api_tokens", "sessions", "users",
    ):  # fmt: skip
        op.drop_table(table)
