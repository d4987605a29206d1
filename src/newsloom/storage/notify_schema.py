"""Tables of notifications: per-reader delivery settings, the outbox of events and their deliveries.

Declared on ``schema.metadata`` (one schema, checked against the migrations) and built by migration
``0007_notifications``, which also adds the per-follow ``channel`` column to ``follows``.

The outbox pattern: an event row (``notifications``) and one row per destination (``notification_deliveries``)
are written in the same transaction as the story change that caused them, so a crash either keeps both or
neither. The worker then delivers pending rows and marks them sent; a crash between sending and marking sends
again with the same idempotency key, which receivers use to drop the repeat.
"""

from __future__ import annotations

import sqlalchemy as sa

from newsloom.storage.schema import UTCDateTime, metadata

notify_settings = sa.Table(
    "notify_settings",
    metadata,
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("email", sa.String(320)),
    sa.Column("digest", sa.String(16), nullable=False, server_default="off"),  # off | hourly | daily
    sa.Column("webhook_url", sa.Text),
    sa.Column("webhook_secret", sa.String(128)),
    sa.Column("last_digest_at", UTCDateTime),
)

notifications = sa.Table(
    "notifications",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    # What happened, stable across retries of the change that caused it: "new_outlet:s12:345". Unique per
    # reader, so an event is written once however often the hook runs for the same change.
    sa.Column("event_key", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("story_id", sa.String(64)),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),  # JSON, the webhook's "data"
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("read_at", UTCDateTime),
    sa.UniqueConstraint("user_id", "event_key", name="uq_notifications_user_id_event_key"),
    sa.Index("ix_notifications_user_id_id", "user_id", "id"),
)

notification_deliveries = sa.Table(
    "notification_deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "notification_id", sa.Integer, sa.ForeignKey("notifications.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("channel", sa.String(16), nullable=False),  # email | webhook
    sa.Column("destination", sa.Text, nullable=False),
    # Sent with every attempt (Message-ID, the webhook-id header): the receiver's key to drop repeats.
    sa.Column("idempotency_key", sa.String(128), nullable=False, unique=True),
    sa.Column("status", sa.String(16), nullable=False, server_default="pending"),  # pending | sent | failed
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", UTCDateTime, nullable=False),
    sa.Column("lease_until", UTCDateTime),  # a worker is sending it until then; later, another may take it
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("sent_at", UTCDateTime),
    sa.Index("ix_notification_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
)

NOTIFY_TABLES = (notify_settings, notifications, notification_deliveries)
