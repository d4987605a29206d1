"""Stored story pages, a version on each story, and a search snippet on each article.

Revision ID: 0003_story_pages
Revises: 0005_originality
Create Date: 2026-12-04

``stories.version`` is bumped by every write that changes a story's page; ``story_pages`` holds each story's
page data as built for one version (newsloom.story_pages); ``articles.snippet`` is the start of the text, shown
in search results. Existing articles get their snippet here, in SQL (the same cut as rows.snippet_of, less the
word boundary); existing stories start at version 0 with no stored page, which is built on first view.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from newsloom.storage.schema import UTCDateTime

revision = "0003_story_pages"
down_revision = "0005_originality"
branch_labels = None
depends_on = None

SNIPPET_CHARS = 240  # rows.SNIPPET_CHARS at the time of this revision


def upgrade() -> None:
    # Plain ADD COLUMN on both engines (SQLite supports it natively): a batch "move and copy" of articles
    # would drop the FTS5 triggers.
    op.add_column("stories", sa.Column("version", sa.Integer, nullable=False, server_default="0"))
    op.add_column("articles", sa.Column("snippet", sa.Text))
    op.execute(f"UPDATE articles SET snippet = substr(text, 1, {SNIPPET_CHARS})")
    op.create_table(
        "story_pages",
        sa.Column("story_id", sa.String(64), primary_key=True),
        sa.Column("story_version", sa.Integer, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("built_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("story_pages")
    op.drop_column("articles", "snippet")  # SQLite 3.35+ drops a column in place
    op.drop_column("stories", "version")
