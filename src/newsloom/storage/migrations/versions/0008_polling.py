"""Polling: each source remembers a digest of the last feed body it parsed.

Revision ID: 0008_polling
Revises: 0005_originality
Create Date: 2026-12-04

A server that sends neither ETag nor Last-Modified answers every poll with the whole feed; when the body is
byte for byte the one parsed last time, the poll stops there (one request, one fetch-state write) instead of
parsing it and looking up each of its items again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_polling"
down_revision = "0003_story_pages"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("feed_digest", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("feed_digest")
