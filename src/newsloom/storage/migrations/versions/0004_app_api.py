"""The apps' APIs: API passwords and app settings per reader, and each reader's subscriptions and folders.

Revision ID: 0004_app_api
Revises: 0002_accounts
Create Date: 2026-12-04

Tables spelled out, as in 0001 and 0002, so this revision keeps building the same schema whatever
apps_schema.py becomes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import newsloom.storage.apps_schema  # noqa: F401  (registers the tables for the schema-vs-migrations check)
from newsloom.storage.schema import UTCDateTime

revision = "0004_app_api"
down_revision = "0002_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "app_accounts",
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("password_hash", sa.Text),
        sa.Column("fever_key_hash", sa.String(64)),
        sa.Column("item_mode", sa.String(16), nullable=False, server_default="stories"),
        sa.Column("subscriptions_seeded", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_app_accounts"),
        sa.UniqueConstraint("fever_key_hash", name="uq_app_accounts_fever_key_hash"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_app_accounts_user_id_users", ondelete="CASCADE"),
    )
    op.create_table(
        "app_subscriptions",
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("source_id", sa.Integer, nullable=False),
        sa.Column("title", sa.Text),
        sa.Column("folder", sa.String(200)),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("user_id", "source_id", name="pk_app_subscriptions"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_app_subscriptions_user_id_users", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name="fk_app_subscriptions_source_id_sources", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_app_subscriptions_source_id", "app_subscriptions", ["source_id"])


def downgrade() -> None:
    op.drop_table("app_subscriptions")
    op.drop_table("app_accounts")
