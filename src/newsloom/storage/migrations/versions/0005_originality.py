"""The originality label of each article: own reporting, wire copy reprinted (which wire), or rewritten.

Revision ID: 0005_originality
Revises: 0007_notifications
Create Date: 2026-12-04

Additive: one new table, spelled out here so this revision keeps building the same schema whatever
originality_schema.py becomes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import newsloom.storage.originality_schema  # noqa: F401  (registers the table for the schema check)

revision = "0005_originality"
down_revision = "0007_notifications"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "article_originality",
        sa.Column("article_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("wire", sa.String(64)),
        sa.Column("copied_from", sa.Integer),
        sa.PrimaryKeyConstraint("article_id", name="pk_article_originality"),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name="fk_article_originality_article_id_articles", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["copied_from"], ["articles.id"], name="fk_article_originality_copied_from_articles", ondelete="SET NULL"
        ),
    )


def downgrade() -> None:
    op.drop_table("article_originality")
