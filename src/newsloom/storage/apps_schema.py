"""Tables of the apps' APIs (Google Reader API, Fever API): a reader's API password and app settings, and the
reader's own list of subscriptions (titles and folders as the apps show them).

Declared on ``schema.metadata``; built by migration ``0004_app_api``. The API password is kept as an argon2
hash; the Fever key (md5 of ``user:password``, which Fever apps send on every request) is kept as its SHA-256,
so a leaked database gives neither. App sign-ins (ClientLogin) are personal API tokens (``api_tokens``), so
the account page lists and revokes them like any other token.
"""

from __future__ import annotations

import sqlalchemy as sa

from newsloom.storage.schema import UTCDateTime, metadata

app_accounts = sa.Table(
    "app_accounts",
    metadata,
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("password_hash", sa.Text),
    sa.Column("fever_key_hash", sa.String(64), unique=True),
    # "stories": one item per story (the default); "articles": every article, syndicated copies collapsed.
    sa.Column("item_mode", sa.String(16), nullable=False, server_default="stories"),
    # False until the reader's subscriptions were first listed: then every source is copied in once.
    sa.Column("subscriptions_seeded", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

app_subscriptions = sa.Table(
    "app_subscriptions",
    metadata,
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("source_id", sa.Integer, sa.ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("title", sa.Text),
    sa.Column("folder", sa.String(200)),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Index("ix_app_subscriptions_source_id", "source_id"),
)

APP_TABLES = (app_accounts, app_subscriptions)
