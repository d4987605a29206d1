"""Tables of the reader: accounts, sessions, tokens, follows, saved items, read state, picks, settings, invites.

They are declared on ``schema.metadata`` (one schema, one contract test comparing it with the migrations) and
built by migration ``0002_accounts``. Secrets are never stored: sessions, API tokens and invites keep the
SHA-256 of their random token, so a leaked database does not sign anybody in.
"""

from __future__ import annotations

import sqlalchemy as sa

from newsloom.storage.schema import UTCDateTime, metadata

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("role", sa.String(16), nullable=False, server_default="reader"),
    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
    # Bumped to revoke the reader's secret For-you feed URL (the URL is an HMAC over the id and this number).
    sa.Column("feed_nonce", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("last_login_at", UTCDateTime),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("user_agent", sa.Text),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("last_used_at", UTCDateTime),
)

follows = sa.Table(
    "follows",
    metadata,
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("kind", sa.String(16), primary_key=True),  # source | story | topic | entity
    sa.Column("value", sa.String(200), primary_key=True),  # source id, story id, topic word(s) or entity name
    sa.Column("created_at", UTCDateTime, nullable=False),
    # How the reader is told about this follow's events: in_app | email | webhook (added by 0007_notifications).
    sa.Column("channel", sa.String(16), nullable=False, server_default="in_app"),
)

saved_items = sa.Table(
    "saved_items",
    metadata,
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("saved_at", UTCDateTime, nullable=False),
)

reads = sa.Table(
    "reads",
    metadata,
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("first_read_at", UTCDateTime, nullable=False),
    sa.Column("last_read_at", UTCDateTime, nullable=False),
    sa.Index("ix_reads_user_id_last_read_at", "user_id", "last_read_at"),
)

story_visits = sa.Table(
    "story_visits",
    metadata,
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("story_id", sa.String(64), primary_key=True),
    sa.Column("last_visit_at", UTCDateTime, nullable=False),
)

editor_picks = sa.Table(
    "editor_picks",
    metadata,
    sa.Column("story_id", sa.String(64), primary_key=True),
    sa.Column("picked_by", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL")),
    sa.Column("note", sa.Text),
    sa.Column("picked_at", UTCDateTime, nullable=False, index=True),
)

app_settings = sa.Table(
    "app_settings",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

invites = sa.Table(
    "invites",
    metadata,
    sa.Column("code_hash", sa.String(64), primary_key=True),
    sa.Column("created_by", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("used_by", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL")),
    sa.Column("used_at", UTCDateTime),
)

# The comparison of a story is costly (claim alignment over every article); it is computed once per set of
# articles and kept here, keyed by a fingerprint of the article ids, so every web worker shares it.
story_comparisons = sa.Table(
    "story_comparisons",
    metadata,
    sa.Column("story_id", sa.String(64), primary_key=True),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("computed_at", UTCDateTime, nullable=False),
)

ACCOUNT_TABLES = (
    users, sessions, api_tokens, follows, saved_items, reads, story_visits, editor_picks, app_settings, invites,
    story_comparisons,
)  # fmt: skip
