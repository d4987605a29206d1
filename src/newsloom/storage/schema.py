"""SQLAlchemy Core tables shared by SQLite and PostgreSQL.

This module describes the *current* schema; the migrations in ``migrations/versions`` build it step by step
and a contract test checks that the two agree. To add tables (users, sessions, follows ...): declare them here
on ``metadata``, then add a new revision under ``migrations/versions`` that creates them.

Engine-specific full-text objects (the SQLite FTS5 table and its triggers, the PostgreSQL tsvector column and
GIN index) are not declared here: they live in ``search.py`` and are created by the migrations.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

# Deterministic constraint and index names, so later migrations (and SQLite batch mode) can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """An aware UTC ``datetime`` on every engine.

    PostgreSQL stores ``timestamptz``; SQLite has no time zones, so the value is converted to UTC and stored
    naive (ISO text, which sorts chronologically), then marked UTC again when read. Naive datetimes are
    refused: guessing their zone would silently shift times.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()}: newsloom stores aware UTC times only")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        # Raw SQL results on SQLite bypass the DateTime parser and arrive as ISO text.
        when: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
        if when.tzinfo is None:
            return when.replace(tzinfo=UTC)
        return when.astimezone(UTC)


sources = sa.Table(
    "sources",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("url", sa.Text, nullable=False, unique=True),
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
    sa.Column("next_poll_at", UTCDateTime, index=True),
    sa.Column("poll_interval_s", sa.Integer, nullable=False, server_default="3600"),
    sa.Column("created_at", UTCDateTime),
    sa.Column("feed_digest", sa.String(64)),  # of the last feed body parsed: an unchanged body is not parsed again
)

articles = sa.Table(
    "articles",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("canonical_url", sa.Text, nullable=False, unique=True),
    sa.Column("url", sa.Text),
    sa.Column("title", sa.Text),
    sa.Column("author", sa.Text),
    sa.Column("publisher", sa.Text),
    sa.Column("published_at", UTCDateTime),
    sa.Column("updated_at", UTCDateTime),
    sa.Column("fetched_at", UTCDateTime),
    sa.Column("language", sa.String(35)),  # BCP 47 tags are at most 35 characters
    sa.Column("text", sa.Text, nullable=False, server_default=""),
    sa.Column("html", sa.Text, nullable=False, server_default=""),
    sa.Column("image_url", sa.Text),
    sa.Column("captions", sa.JSON, nullable=False),
    sa.Column("content_hash", sa.String(128), nullable=False, index=True),
    sa.Column("original_id", sa.Integer, sa.ForeignKey("articles.id", ondelete="SET NULL"), index=True),
    sa.Column("story_id", sa.String(64), index=True),  # no FK: clustering may assign before the story is saved
    sa.Column("is_article", sa.Boolean, nullable=False, server_default=sa.true()),
    # The time an article is listed under: published, else fetched, else first stored, never in the future.
    # One indexed column lets newest-first listings and since/until filters use a single index.
    sa.Column("dated_at", UTCDateTime, nullable=False, index=True),
    sa.Column("added_at", UTCDateTime, nullable=False),
    # The start of the text, cut at a word boundary when stored (rows.snippet_of): search results show it
    # without reading the full text and HTML of every hit.
    sa.Column("snippet", sa.Text),
)

article_sources = sa.Table(
    "article_sources",
    metadata,
    sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("source_id", sa.Integer, sa.ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("guid", sa.Text),
    sa.Column("first_seen_at", UTCDateTime, nullable=False),
    sa.Index("ix_article_sources_source_id", "source_id"),
)

stories = sa.Table(
    "stories",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("headline", sa.Text, nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("first_seen", UTCDateTime),
    sa.Column("last_seen", UTCDateTime, index=True),
    sa.Column("article_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("outlet_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("original_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("syndicated_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("entities", sa.JSON, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    # Bumped by every write that changes what the story's page shows (the story row, its articles, their
    # originals and sources): a stored page built from an older version is rebuilt before it is served.
    sa.Column("version", sa.Integer, nullable=False, server_default="0"),
)

story_redirects = sa.Table(
    "story_redirects",
    metadata,
    sa.Column("old_id", sa.String(64), primary_key=True),
    sa.Column("new_id", sa.String(64), nullable=False, index=True),
)

# A story's page data (coverage, comparison, timeline, related stories) as built for ``story_version``; see
# newsloom.story_pages. ``built_at`` only ever increases, by whole seconds, so it can serve as Last-Modified.
story_pages = sa.Table(
    "story_pages",
    metadata,
    sa.Column("story_id", sa.String(64), primary_key=True),
    sa.Column("story_version", sa.Integer, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("built_at", UTCDateTime, nullable=False),
)


# Account tables live in their own module; importing it here registers them on ``metadata`` so that
# migrations and the schema-vs-migrations check see one complete schema.
import newsloom.storage.accounts_schema  # noqa: E402
import newsloom.storage.apps_schema  # noqa: E402
import newsloom.storage.notify_schema  # noqa: E402
import newsloom.storage.originality_schema  # noqa: E402, F401
