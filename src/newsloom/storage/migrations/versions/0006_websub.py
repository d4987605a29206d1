"""WebSub subscriptions: one row per feed subscribed at its hub.

Revision ID: 0006_websub
Revises: 0004_app_api
Create Date: 2026-12-04

The table is spelled out here, as in 0001, so this revision keeps building the same schema whatever
websub_schema.py becomes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# Registers the table on schema.metadata for the lifecycle contract test that compares schema and migrations.
import newsloom.storage.websub_schema  # noqa: F401
from newsloom.storage.schema import UTCDateTime

revision = "0006_websub"
down_revision = "0004_app_api"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "websub_subscriptions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source_id", sa.Integer, nullable=False),
        sa.Column("hub_url", sa.Text, nullable=False),
        sa.Column("topic_url", sa.Text, nullable=False),
        sa.Column("secret", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("requested_at", UTCDateTime),
        sa.Column("verified_at", UTCDateTime),
        sa.Column("lease_seconds", sa.Integer),
        sa.Column("lease_expires_at", UTCDateTime),
        sa.Column("last_delivery_at", UTCDateTime),
        sa.Column("deliveries", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
        sa.Column("error_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("retry_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_websub_subscriptions"),
        sa.UniqueConstraint("source_id", name="uq_websub_subscriptions_source_id"),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name="fk_websub_subscriptions_source_id_sources", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_websub_subscriptions_lease_expires_at", "websub_subscriptions", ["lease_expires_at"])


def downgrade() -> None:
    op.drop_index("ix_websub_subscriptions_lease_expires_at", table_name="websub_subscriptions")
    op.drop_table("websub_subscriptions")
