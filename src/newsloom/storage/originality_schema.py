"""The originality label of each article (own reporting, wire copy, rewrite), set at ingest.

Declared on ``schema.metadata`` and built by migration ``0005_originality``. One row per labelled article;
articles stored before the migration have none until they are labelled again (shares count labelled
articles only).
"""

from __future__ import annotations

import sqlalchemy as sa

from newsloom.storage.schema import metadata

article_originality = sa.Table(
    "article_originality",
    metadata,
    sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),  # "own" | "wire" | "rewrite"
    sa.Column("wire", sa.String(64)),  # the agency, for wire copy (and rewrites of it)
    sa.Column("copied_from", sa.Integer, sa.ForeignKey("articles.id", ondelete="SET NULL")),
)
