"""``NotifyStorage`` on the connections of an open ``SqlStorage`` (SQLite or PostgreSQL), one code path.

It goes through ``SqlStorage.connection`` rather than the engine, so that calls made inside the storage's
``transaction()`` block join it: the outbox row and the story change commit together or not at all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from newsloom.errors import NotFoundError, StorageError
from newsloom.storage.accounts_schema import follows, users
from newsloom.storage.engine import dialect_insert
from newsloom.storage.notify_base import (
    Channel,
    Delivery,
    DeliveryStatus,
    NewEvent,
    Notification,
    NotifySettings,
)
from newsloom.storage.notify_schema import notification_deliveries, notifications, notify_settings
from newsloom.storage.sql import SqlStorage

SETTINGS_CHANGES = frozenset({"email", "digest", "webhook_url", "webhook_secret", "last_digest_at"})
CASE_FREE_KINDS = frozenset({"topic", "entity"})
IN_CHUNK = 500  # ids per IN (...) list, as in sql.py


def idempotency_key(notification_id: int, channel: str, destination: str) -> str:
    """Stable per event and destination: every retry carries the same key."""
    digest = hashlib.sha256(f"{channel}\0{destination}".encode()).hexdigest()[:16]
    return f"nl-{notification_id}-{channel}-{digest}"


def _notification(row: Mapping[Any, Any]) -> Notification:
    return Notification(
        id=row["id"], user_id=row["user_id"], event_key=row["event_key"], kind=row["kind"], story_id=row["story_id"],
        title=row["title"], body=row["body"], payload=row["payload"], created_at=row["created_at"],
        read_at=row["read_at"],
    )  # fmt: skip


def _settings(user_id: int, row: Mapping[Any, Any] | None) -> NotifySettings:
    if row is None:
        return NotifySettings(user_id=user_id)
    return NotifySettings(
        user_id=user_id, email=row["email"], digest=row["digest"], webhook_url=row["webhook_url"],
        webhook_secret=row["webhook_secret"], last_digest_at=row["last_digest_at"],
    )  # fmt: skip


_DELIVERY_COLUMNS = (
    *notification_deliveries.c,
    *(c.label(f"n_{c.name}") for c in notifications.c),
)


def _delivery(row: Mapping[Any, Any]) -> Delivery:
    note = _notification({k[2:]: v for k, v in row.items() if isinstance(k, str) and k.startswith("n_")})
    return Delivery(
        id=row["id"], notification=note, channel=row["channel"], destination=row["destination"],
        idempotency_key=row["idempotency_key"], status=row["status"], attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"], created_at=row["created_at"], last_error=row["last_error"],
        sent_at=row["sent_at"],
    )  # fmt: skip


class SqlNotifyStore:
    """``NotifyStorage`` over a ``SqlStorage``. Thread-safe like it."""

    def __init__(self, storage: SqlStorage) -> None:
        self._storage = storage
        self._dialect = storage.engine.dialect.name

    @classmethod
    def for_storage(cls, storage: object) -> SqlNotifyStore:
        if not isinstance(storage, SqlStorage):
            raise StorageError("notifications need a SQL storage (SQLite or PostgreSQL)")
        return cls(storage)

    def _select_deliveries(self) -> sa.Select[Any]:
        return sa.select(*_DELIVERY_COLUMNS).join(
            notifications, notifications.c.id == notification_deliveries.c.notification_id
        )

    # -- settings --------------------------------------------------------------------------------------------

    def get_notify_settings(self, user_id: int) -> NotifySettings:
        with self._storage.connection("reading notification settings") as connection:
            row = connection.execute(sa.select(notify_settings).where(notify_settings.c.user_id == user_id)).mappings().first()
        return _settings(user_id, row)

    def update_notify_settings(self, user_id: int, **changes: object) -> NotifySettings:
        unknown = set(changes) - SETTINGS_CHANGES
        if unknown:
            raise TypeError(f"update_notify_settings: cannot change {', '.join(sorted(unknown))}")
        with self._storage.connection("changing notification settings", write=True) as connection:
            if connection.execute(sa.select(users.c.id).where(users.c.id == user_id)).first() is None:
                raise NotFoundError(f"no user with id {user_id}")
            statement = dialect_insert(self._dialect, notify_settings).values(user_id=user_id, **changes)
            if changes:
                statement = statement.on_conflict_do_update(index_elements=[notify_settings.c.user_id], set_=changes)
            else:
                statement = statement.on_conflict_do_nothing()
            connection.execute(statement)
            row = connection.execute(sa.select(notify_settings).where(notify_settings.c.user_id == user_id)).mappings().first()
        return _settings(user_id, row)

    def claim_digest(self, user_id: int, *, now: datetime, due_before: datetime) -> bool:
        # One conditional UPDATE: of two senders racing for the same digest only one sees its row change.
        statement = (
            sa.update(notify_settings)
            .where(
                notify_settings.c.user_id == user_id, notify_settings.c.digest != "off",
                sa.or_(notify_settings.c.last_digest_at.is_(None), notify_settings.c.last_digest_at <= due_before),
            )
            .values(last_digest_at=now)
        )  # fmt: skip
        with self._storage.connection("claiming a digest", write=True) as connection:
            return connection.execute(statement).rowcount == 1

    def release_digest(self, user_id: int, *, claimed_at: datetime, previous: datetime | None) -> None:
        statement = (
            sa.update(notify_settings)
            .where(notify_settings.c.user_id == user_id, notify_settings.c.last_digest_at == claimed_at)
            .values(last_digest_at=previous)
        )
        with self._storage.connection("releasing a digest", write=True) as connection:
            connection.execute(statement)

    def digest_readers(self) -> list[NotifySettings]:
        statement = (
            sa.select(notify_settings)
            .join(users, users.c.id == notify_settings.c.user_id)
            .where(notify_settings.c.digest != "off", notify_settings.c.email.is_not(None), users.c.disabled.is_(False))
            .order_by(notify_settings.c.user_id)
        )
        with self._storage.connection("listing digest readers") as connection:
            rows = connection.execute(statement).mappings().all()
        return [_settings(r["user_id"], r) for r in rows]

    # -- events ----------------------------------------------------------------------------------------------

    def followers(self, kind: str, values: Iterable[str]) -> list[tuple[int, str, Channel]]:
        wanted = list(dict.fromkeys(values))
        if not wanted:
            return []
        fold = kind in CASE_FREE_KINDS
        column = sa.func.lower(follows.c.value) if fold else follows.c.value
        found: list[tuple[int, str, Channel]] = []
        with self._storage.connection("reading followers") as connection:
            for start in range(0, len(wanted), IN_CHUNK):
                chunk = wanted[start : start + IN_CHUNK]
                statement = (
                    sa.select(follows.c.user_id, follows.c.value, follows.c.channel)
                    .join(users, users.c.id == follows.c.user_id)
                    .where(follows.c.kind == kind, column.in_([v.lower() for v in chunk] if fold else chunk))
                    .where(users.c.disabled.is_(False))
                    .order_by(follows.c.user_id, follows.c.value)
                )
                found.extend((r.user_id, r.value, r.channel) for r in connection.execute(statement))
        return found

    def redirect_story_follows(self, old_ids: Sequence[str], new_id: str) -> int:
        old = [i for i in dict.fromkeys(old_ids) if i != new_id][:IN_CHUNK]
        if not old:
            return 0
        story = follows.c.kind == "story"
        already = sa.select(follows.c.user_id).where(story, follows.c.value == new_id)
        with self._storage.connection("moving story follows", write=True) as connection:
            connection.execute(sa.delete(follows).where(story, follows.c.value.in_(old), follows.c.user_id.in_(already)))
            moved = connection.execute(sa.update(follows).where(story, follows.c.value.in_(old)).values(value=new_id))
            return int(moved.rowcount)

    def followed_values(self, kind: str) -> list[str]:
        column = sa.func.lower(follows.c.value) if kind in CASE_FREE_KINDS else follows.c.value
        statement = (
            sa.select(column.label("value"))
            .distinct()
            .join(users, users.c.id == follows.c.user_id)
            .where(follows.c.kind == kind, users.c.disabled.is_(False))
            .order_by("value")
        )
        with self._storage.connection("reading follows") as connection:
            return [str(v) for v in connection.execute(statement).scalars()]

    def record_event(
        self, user_id: int, event: NewEvent, destinations: Sequence[tuple[str, str]], *, now: datetime
    ) -> int | None:
        values = {
            "user_id": user_id, "event_key": event.event_key[:200], "kind": event.kind, "story_id": event.story_id,
            "title": event.title, "body": event.body, "payload": event.payload, "created_at": now,
        }  # fmt: skip
        statement = (
            dialect_insert(self._dialect, notifications)
            .values(**values)
            .on_conflict_do_nothing(index_elements=[notifications.c.user_id, notifications.c.event_key])
            .returning(notifications.c.id)
        )
        with self._storage.connection("storing a notification", write=True) as connection:
            notification_id = connection.execute(statement).scalar()
            if notification_id is None:
                return None
            for channel, destination in dict.fromkeys(destinations):
                key = idempotency_key(notification_id, channel, destination)
                row = {"notification_id": notification_id, "user_id": user_id, "channel": channel,
                       "destination": destination, "idempotency_key": key, "status": "pending", "attempts": 0,
                       "next_attempt_at": now, "created_at": now}  # fmt: skip
                connection.execute(sa.insert(notification_deliveries).values(**row))
        return int(notification_id)

    def list_notifications(
        self, user_id: int, *, limit: int = 50, offset: int = 0, since: datetime | None = None
    ) -> list[Notification]:
        statement = sa.select(notifications).where(notifications.c.user_id == user_id)
        if since is not None:
            statement = statement.where(notifications.c.created_at >= since)
        statement = statement.order_by(notifications.c.id.desc()).limit(limit).offset(offset)
        with self._storage.connection("listing notifications") as connection:
            rows = connection.execute(statement).mappings().all()
        return [_notification(r) for r in rows]

    def count_unread(self, user_id: int) -> int:
        statement = (
            sa.select(sa.func.count())
            .select_from(notifications)
            .where(notifications.c.user_id == user_id, notifications.c.read_at.is_(None))
        )
        with self._storage.connection("counting notifications") as connection:
            return int(connection.execute(statement).scalar_one())

    def mark_notifications_read(self, user_id: int, *, now: datetime, ids: Sequence[int] | None = None) -> int:
        statement = (
            sa.update(notifications)
            .where(notifications.c.user_id == user_id, notifications.c.read_at.is_(None))
            .values(read_at=now)
        )
        if ids is not None:
            statement = statement.where(notifications.c.id.in_(list(ids)[:IN_CHUNK]))
        with self._storage.connection("marking notifications read", write=True) as connection:
            return int(connection.execute(statement).rowcount)

    # -- deliveries ------------------------------------------------------------------------------------------

    def claim_deliveries(
        self, *, now: datetime, lease_until: datetime, limit: int, user_id: int | None = None
    ) -> list[Delivery]:
        d = notification_deliveries
        due = sa.and_(
            d.c.status == "pending", d.c.next_attempt_at <= now, sa.or_(d.c.lease_until.is_(None), d.c.lease_until <= now)
        )
        candidates = sa.select(d.c.id).where(due).order_by(d.c.next_attempt_at, d.c.id).limit(limit)
        if user_id is not None:
            candidates = candidates.where(d.c.user_id == user_id)
        if self._dialect == "postgresql":
            candidates = candidates.with_for_update(skip_locked=True)
        with self._storage.connection("claiming deliveries", write=True) as connection:
            ids = list(connection.execute(candidates).scalars())
            claimed: list[int] = []
            for delivery_id in ids:
                # The WHERE repeats the due test: under READ COMMITTED another worker may have claimed it since.
                taken = connection.execute(sa.update(d).where(d.c.id == delivery_id, due).values(lease_until=lease_until))
                if taken.rowcount:
                    claimed.append(delivery_id)
            if not claimed:
                return []
            rows = connection.execute(self._select_deliveries().where(d.c.id.in_(claimed)).order_by(d.c.id)).mappings().all()
        return [_delivery(r) for r in rows]

    def pending_deliveries(self, *, now: datetime, limit: int = 100) -> list[Delivery]:
        d = notification_deliveries
        statement = (
            self._select_deliveries()
            .where(d.c.status == "pending", d.c.next_attempt_at <= now)
            .order_by(d.c.next_attempt_at, d.c.id)
            .limit(limit)
        )
        with self._storage.connection("listing pending deliveries") as connection:
            rows = connection.execute(statement).mappings().all()
        return [_delivery(r) for r in rows]

    def delivery_sent(self, delivery_id: int, *, now: datetime) -> None:
        d = notification_deliveries
        statement = (
            sa.update(d)
            .where(d.c.id == delivery_id)
            .values(status="sent", sent_at=now, attempts=d.c.attempts + 1, lease_until=None, last_error=None)
        )
        with self._storage.connection("marking a delivery sent", write=True) as connection:
            connection.execute(statement)

    def delivery_failed(self, delivery_id: int, error: str, *, retry_at: datetime | None) -> None:
        d = notification_deliveries
        changes: dict[str, Any] = {"attempts": d.c.attempts + 1, "lease_until": None, "last_error": error[:1000]}
        if retry_at is None:
            changes["status"] = "failed"
        else:
            changes["next_attempt_at"] = retry_at
        with self._storage.connection("recording a failed delivery", write=True) as connection:
            connection.execute(sa.update(d).where(d.c.id == delivery_id, d.c.status == "pending").values(**changes))

    def list_deliveries(self, user_id: int, *, status: DeliveryStatus | None = None, limit: int = 50) -> list[Delivery]:
        d = notification_deliveries
        statement = self._select_deliveries().where(d.c.user_id == user_id)
        if status is not None:
            statement = statement.where(d.c.status == status)
        statement = statement.order_by(d.c.id.desc()).limit(limit)
        with self._storage.connection("listing deliveries") as connection:
            rows = connection.execute(statement).mappings().all()
        return [_delivery(r) for r in rows]
