"""Sources, articles, the sources that delivered them, stories, story redirects and full-text search.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Migrations spell out their tables instead of importing schema.py: a revision must keep building the same
schema after schema.py has moved on.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from newsloom.storage.schema import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Full-text index. The names match newsloom.storage.search, which queries them.
SQLITE_FTS_UPGRADE = (
    "CREATE VIRTUAL TABLE articles_fts USING fts5(title, text, content='articles', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    # An external-content FTS5 table is kept in sync by triggers, so every write path (the storage methods,
    # later migrations, a manual UPDATE) updates the index in the same transaction.
    """CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
        INSERT INTO articles_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
    END""",
    """CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text);
    END""",
    """CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, text ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text);
        INSERT INTO articles_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
    END""",
)
SQLITE_FTS_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS articles_fts_update",
    "DROP TRIGGER IF EXISTS articles_fts_delete",
    "DROP TRIGGER IF EXISTS articles_fts_insert",
    "DROP TABLE IF EXISTS articles_fts",
)
# A generated column is computed by the server on every insert and update: nothing can forget to refresh it.
# Title words get weight A, body words B; 'simple' does not stem, like FTS5's unicode61.
# A tsvector holds at most 1 MB, and 2 MB of text can exceed it (an INSERT would then fail), so only the first
# 200,000 characters of the body are indexed: about 30,000 words, longer than nearly every news article;
# measured worst case (all words distinct) about 250 KB of tsvector.
POSTGRES_FTS_UPGRADE = (
    """ALTER TABLE articles ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple'::regconfig, left(coalesce(title, ''), 10000)), 'A') ||
        setweight(to_tsvector('simple'::regconfig, left(coalesce(text, ''), 200000)), 'B')) STORED""",
    "CREATE INDEX ix_articles_search_vector ON articles USING gin (search_vector)",
)
POSTGRES_FTS_DOWNGRADE = (
    "DROP INDEX IF EXISTS ix_articles_search_vector",
    "ALTER TABLE articles DROP COLUMN IF EXISTS search_vector",
)



def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False, server_default="feed"),
        sa.Column("title", sa.Text),
        sa.Column("site_url", sa.Text),
        sa.Column("category", sa.Text),
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
        sa.Column("last_polled_at", UTCDateTime),
        sa.Column("last_success_at", UTCDateTime),
        sa.Column("last_error", sa.Text),
        sa.Column("error_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_poll_at", UTCDateTime),
        sa.Column("poll_interval_s", sa.Integer, nullable=False, server_default="3600"),
        sa.Column("created_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_sources"),
        sa.UniqueConstraint("url", name="uq_sources_url"),
    )
    op.create_index("ix_sources_next_poll_at", "sources", ["next_poll_at"])

    op.create_table(
        "articles",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("canonical_url", sa.Text, nullable=False),
        sa.Column("url", sa.Text),
        sa.Column("title", sa.Text),
        sa.Column("author", sa.Text),
        sa.Column("publisher", sa.Text),
        sa.Column("published_at", UTCDateTime),
        sa.Column("updated_at", UTCDateTime),
        sa.Column("fetched_at", UTCDateTime),
        sa.Column("language", sa.String(35)),
        sa.Column("text", sa.Text, nullable=False, server_default=""),
        sa.Column("html", sa.Text, nullable=False, server_default=""),
        sa.Column("image_url", sa.Text),
        sa.Column("captions", sa.JSON, nullable=False),
        sa.Column("content_hash", sa.String(128), nullable=False),
        sa.Column("original_id", sa.Integer),
        sa.Column("story_id", sa.String(64)),
        sa.Column("is_article", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("dated_at", UTCDateTime, nullable=False),
        sa.Column("added_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_articles"),
        sa.UniqueConstraint("canonical_url", name="uq_articles_canonical_url"),
        sa.ForeignKeyConstraint(
            ["original_id"], ["articles.id"], name="fk_articles_original_id_articles", ondelete="SET NULL"
        ),
    )
    op.create_index("ix_articles_content_hash", "articles", ["content_hash"])
    op.create_index("ix_articles_original_id", "articles", ["original_id"])
    op.create_index("ix_articles_story_id", "articles", ["story_id"])
    op.create_index("ix_articles_dated_at", "articles", ["dated_at"])

    op.create_table(
        "article_sources",
        sa.Column("article_id", sa.Integer, nullable=False),
        sa.Column("source_id", sa.Integer, nullable=False),
        sa.Column("guid", sa.Text),
        sa.Column("first_seen_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("article_id", "source_id", name="pk_article_sources"),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name="fk_article_sources_article_id_articles", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name="fk_article_sources_source_id_sources", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_article_sources_source_id", "article_sources", ["source_id"])

    op.create_table(
        "stories",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("headline", sa.Text, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("first_seen", UTCDateTime),
        sa.Column("last_seen", UTCDateTime),
        sa.Column("article_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("outlet_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("original_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("syndicated_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("entities", sa.JSON, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_stories"),
    )
    op.create_index("ix_stories_last_seen", "stories", ["last_seen"])

    op.create_table(
        "story_redirects",
        sa.Column("old_id", sa.String(64), nullable=False),
        sa.Column("new_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("old_id", name="pk_story_redirects"),
    )
    op.create_index("ix_story_redirects_new_id", "story_redirects", ["new_id"])

    is_sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in SQLITE_FTS_UPGRADE if is_sqlite else POSTGRES_FTS_UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    is_sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in SQLITE_FTS_DOWNGRADE if is_sqlite else POSTGRES_FTS_DOWNGRADE:
        op.execute(statement)
    for table in ("story_redirects", "stories", "article_sources", "articles", "sources"):
        op.drop_table(table)
