"""Notifications: per-follow channel, per-reader delivery settings, the outbox and its deliveries.

Revision ID: 0007_notifications
Revises: 0004_app_api
Create Date: 2026-12-04

Additive only: one new column with a default on ``follows`` and three new tables, spelled out here so this
revision keeps building the same schema whatever notify_schema.py becomes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import newsloom.storage.notify_schema  # noqa: F401  (registers the tables on schema.metadata)
from newsloom.storage.schema import UTCDateTime

revision = "0007_notifications"
down_revision = "0006_websub"
branch_labels = None
depends_on = None


def _user_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=f"fk_{table}_user_id_users", ondelete="CASCADE")


def upgrade() -> None:
    with op.batch_alter_table("follows") as batch:
        batch.add_column(sa.Column("channel", sa.String(16), nullable=False, server_default="in_app"))
    op.create_table(
        "notify_settings",
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("email", sa.String(320)),
        sa.Column("digest", sa.String(16), nullable=False, server_default="off"),
        sa.Column("webhook_url", sa.Text),
        sa.Column("webhook_secret", sa.String(128)),
        sa.Column("last_digest_at", UTCDateTime),
        sa.PrimaryKeyConstraint("user_id", name="pk_notify_settings"),
        _user_fk("notify_settings"),
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("event_key", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("story_id", sa.String(64)),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("read_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_notifications"),
        sa.UniqueConstraint("user_id", "event_key", name="uq_notifications_user_id_event_key"),
        _user_fk("notifications"),
    )
    op.create_index("ix_notifications_user_id_id", "notifications", ["user_id", "id"])
    op.create_table(
        "notification_deliveries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("notification_id", sa.Integer, nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("destination", sa.Text, nullable=False),
        sa.Column("idempotency_key", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", UTCDateTime, nullable=False),
        sa.Column("lease_until", UTCDateTime),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("sent_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_notification_deliveries"),
        sa.UniqueConstraint("idempotency_key", name="uq_notification_deliveries_idempotency_key"),
        sa.ForeignKeyConstraint(
            ["notification_id"], ["notifications.id"],
            name="fk_notification_deliveries_notification_id_notifications", ondelete="CASCADE",
        ),
        _user_fk("notification_deliveries"),
    )
    op.create_index("ix_notification_deliveries_notification_id", "notification_deliveries", ["notification_id"])
    op.create_index("ix_notification_deliveries_user_id", "notification_deliveries", ["user_id"])
    op.create_index(
        "ix_notification_deliveries_status_next_attempt_at", "notification_deliveries", ["status", "next_attempt_at"]
    )


def downgrade() -> None:
    op.drop_table("notification_deliveries")
    op.drop_table("notifications")
    op.drop_table("notify_settings")
    with op.batch_alter_table("follows") as batch:
        batch.drop_column("channel")
