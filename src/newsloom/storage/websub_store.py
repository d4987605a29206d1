"""``WebSubStorage`` over the same connections as ``SqlStorage`` (SQLite or PostgreSQL), one code path.

Build it from an open storage with ``SqlWebSubStore.for_storage(storage)``. Its calls go through the storage's
``connection()``, so they join a ``storage.transaction()`` block of the calling thread (a subscription row and
the source's fetch state change together).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from newsloom.errors import NotFoundError, StorageError
from newsloom.storage.engine import dialect_insert
from newsloom.storage.rows import without_nul
from newsloom.storage.schema import sources
from newsloom.storage.sql import SqlStorage
from newsloom.storage.websub_base import Subscription, SubscriptionState
from newsloom.storage.websub_schema import websub_subscriptions as table

FIELDS = tuple(f.name for f in fields(Subscription))
CHANGEABLE = frozenset(FIELDS) - {"id", "source_id"}


def _subscription(row: Mapping[Any, Any]) -> Subscription:
    return Subscription(**{name: row[name] for name in FIELDS})


class SqlWebSubStore:
    """``WebSubStorage`` on a ``SqlStorage``. Thread-safe like it."""

    def __init__(self, storage: SqlStorage) -> None:
        self._storage = storage

    @classmethod
    def for_storage(cls, storage: object) -> SqlWebSubStore:
        if not isinstance(storage, SqlStorage):
            raise StorageError("WebSub storage needs a SQL storage (SQLite or PostgreSQL)")
        return cls(storage)

    def get_subscription(self, subscription_id: int) -> Subscription:
        with self._storage.connection("reading a WebSub subscription") as connection:
            row = connection.execute(sa.select(table).where(table.c.id == subscription_id)).mappings().first()
        if row is None:
            raise NotFoundError(f"no WebSub subscription with id {subscription_id}")
        return _subscription(row)

    def subscription_for_source(self, source_id: int) -> Subscription | None:
        with self._storage.connection("reading a WebSub subscription") as connection:
            row = connection.execute(sa.select(table).where(table.c.source_id == source_id)).mappings().first()
        return None if row is None else _subscription(row)

    def list_subscriptions(self, *, states: tuple[SubscriptionState, ...] | None = None) -> list[Subscription]:
        statement = sa.select(table).order_by(table.c.id)
        if states is not None:
            statement = statement.where(table.c.state.in_(states))
        with self._storage.connection("listing WebSub subscriptions") as connection:
            rows = connection.execute(statement).mappings().all()
        return [_subscription(row) for row in rows]

    def put_subscription(
        self, source_id: int, *, hub_url: str, topic_url: str, secret: str, now: datetime
    ) -> Subscription:
        request = {
            "hub_url": without_nul(hub_url), "topic_url": without_nul(topic_url), "secret": secret,
            "state": "pending", "requested_at": now,
        }  # fmt: skip
        statement = (
            dialect_insert(self._storage.engine.dialect.name, table)
            .values(source_id=source_id, created_at=now, **request)
            .on_conflict_do_update(index_elements=[table.c.source_id], set_=request)
            .returning(*table.c)
        )
        with self._storage.connection("saving a WebSub subscription", write=True) as connection:
            known = connection.execute(sa.select(sources.c.id).where(sources.c.id == source_id)).first()
            if known is None:
                raise NotFoundError(f"no source with id {source_id}")
            row = connection.execute(statement).mappings().one()
        return _subscription(row)

    def update_subscription(self, subscription_id: int, **changes: object) -> Subscription:
        unknown = set(changes) - CHANGEABLE
        if unknown:
            raise TypeError(f"update_subscription: cannot change {', '.join(sorted(unknown))}")
        values = {name: without_nul(value) for name, value in changes.items()}
        with self._storage.connection("updating a WebSub subscription", write=True) as connection:
            if values:
                connection.execute(sa.update(table).where(table.c.id == subscription_id).values(**values))
            row = connection.execute(sa.select(table).where(table.c.id == subscription_id)).mappings().first()
        if row is None:
            raise NotFoundError(f"no WebSub subscription with id {subscription_id}")
        return _subscription(row)

    def record_delivery(self, subscription_id: int, *, now: datetime, count: int = 1) -> None:
        statement = (
            sa.update(table)
            .where(table.c.id == subscription_id)
            .values(deliveries=table.c.deliveries + count, last_delivery_at=now)
        )
        with self._storage.connection("counting a WebSub delivery", write=True) as connection:
            connection.execute(statement)
