"""The WebSub subscriptions table, declared on ``schema.metadata`` and built by migration ``0006_websub``."""

from __future__ import annotations

import sqlalchemy as sa

from newsloom.storage.schema import UTCDateTime, metadata

websub_subscriptions = sa.Table(
    "websub_subscriptions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    # One subscription per feed; it goes with the feed (the hub is told 410 Gone on its next delivery).
    sa.Column(
        "source_id", sa.Integer, sa.ForeignKey("sources.id", ondelete="CASCADE"), nullable=False, unique=True
    ),
    sa.Column("hub_url", sa.Text, nullable=False),
    sa.Column("topic_url", sa.Text, nullable=False),
    sa.Column("secret", sa.Text, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("requested_at", UTCDateTime),
    sa.Column("verified_at", UTCDateTime),
    sa.Column("lease_seconds", sa.Integer),
    sa.Column("lease_expires_at", UTCDateTime, index=True),
    sa.Column("last_delivery_at", UTCDateTime),
    sa.Column("deliveries", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text),
    sa.Column("error_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("retry_at", UTCDateTime),
)
