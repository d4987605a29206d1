"""The NotifyStorage Protocol: per-reader delivery settings, the notification outbox and its deliveries.

The contract of ``storage/base.py`` holds: thread-safe, aware UTC datetimes in and out, storage never reads the
clock (methods that stamp take ``now``), each call atomic, and every call made inside the storage's
``transaction()`` block joins it. That last point is what the outbox rests on: the notification hook runs
inside the story-assignment transaction, so an event is stored exactly when the change that caused it is.

Privacy: per-reader methods take the ``user_id`` and touch only that reader's rows. ``followers`` is the one
cross-reader read; only the notification hook calls it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

Channel = Literal["in_app", "email", "webhook"]
CHANNELS: tuple[Channel, ...] = ("in_app", "email", "webhook")
DigestFrequency = Literal["off", "hourly", "daily"]
DIGEST_FREQUENCIES: tuple[DigestFrequency, ...] = ("off", "hourly", "daily")
DeliveryStatus = Literal["pending", "sent", "failed"]


@dataclass(frozen=True, slots=True)
class NotifySettings:
    user_id: int
    email: str | None = None
    digest: DigestFrequency = "off"
    webhook_url: str | None = None
    webhook_secret: str | None = None
    last_digest_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to store for one reader; ``event_key`` is unique per reader (the second write is a no-op)."""

    event_key: str
    kind: str
    story_id: str | None
    title: str
    body: str
    payload: str  # JSON


@dataclass(frozen=True, slots=True)
class Notification:
    id: int
    user_id: int
    event_key: str
    kind: str
    story_id: str | None
    title: str
    body: str
    payload: str
    created_at: datetime
    read_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    notification: Notification
    channel: Literal["email", "webhook"]
    destination: str
    idempotency_key: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    last_error: str | None = None
    sent_at: datetime | None = None


class NotifyStorage(Protocol):
    """Notification state. See the module docstring for the contract."""

    def get_notify_settings(self, user_id: int) -> NotifySettings:
        """This reader's settings (defaults when never set)."""

    def update_notify_settings(self, user_id: int, **changes: object) -> NotifySettings:
        """Change ``email``, ``digest``, ``webhook_url``, ``webhook_secret`` or ``last_digest_at``.

        ``TypeError`` for any other field; ``NotFoundError`` for an unknown user.
        """

    def digest_readers(self) -> list[NotifySettings]:
        """Settings of every reader with an e-mail address and a digest other than ``off``, by user id."""

    def claim_digest(self, user_id: int, *, now: datetime, due_before: datetime) -> bool:
        """Take this reader's digest for sending: set ``last_digest_at`` to ``now`` if it is empty or at or
        before ``due_before`` (and the digest is not off), in one statement. True for the one caller that
        changed it; every concurrent or later caller gets False until the next period."""

    def release_digest(self, user_id: int, *, claimed_at: datetime, previous: datetime | None) -> None:
        """Undo a claim whose sending failed (``last_digest_at`` back to ``previous``), unless it changed since."""

    def followers(self, kind: str, values: Iterable[str]) -> list[tuple[int, str, Channel]]:
        """``(user_id, value, channel)`` of every enabled reader following one of ``values`` of ``kind``.

        Values compare exactly for sources and stories, case-insensitively for topics and entities.
        """

    def redirect_story_follows(self, old_ids: Sequence[str], new_id: str) -> int:
        """Point follows of stories merged away at the story they went into; returns how many moved.

        A reader following both keeps one follow (the one of ``new_id``).
        """

    def followed_values(self, kind: str) -> list[str]:
        """Every distinct value of ``kind`` that some enabled reader follows (topics and entities lower-cased)."""

    def record_event(
        self, user_id: int, event: NewEvent, destinations: Sequence[tuple[str, str]], *, now: datetime
    ) -> int | None:
        """Store the event and one pending delivery per ``(channel, destination)``; its id, None if already stored.

        The idempotency key of a delivery is derived from the notification id and the destination.
        """

    def list_notifications(
        self, user_id: int, *, limit: int = 50, offset: int = 0, since: datetime | None = None
    ) -> list[Notification]:
        """This reader's notifications, newest first (created at or after ``since`` if given)."""

    def count_unread(self, user_id: int) -> int:
        """How many of this reader's notifications are unread."""

    def mark_notifications_read(self, user_id: int, *, now: datetime, ids: Sequence[int] | None = None) -> int:
        """Mark these (None: all) unread notifications of the reader read; returns how many changed."""

    def claim_deliveries(
        self, *, now: datetime, lease_until: datetime, limit: int, user_id: int | None = None
    ) -> list[Delivery]:
        """Take up to ``limit`` pending deliveries that are due and not leased, leasing them until ``lease_until``.

        Two workers never hold one delivery at once; a worker killed while holding one lets it go at
        ``lease_until``, and the next claim sends it again (with the same idempotency key).
        """

    def pending_deliveries(self, *, now: datetime, limit: int = 100) -> list[Delivery]:
        """Pending deliveries that are due, oldest first, without claiming them (for ``notify --dry-run``)."""

    def delivery_sent(self, delivery_id: int, *, now: datetime) -> None:
        """Mark a delivery sent (and count the attempt)."""

    def delivery_failed(self, delivery_id: int, error: str, *, retry_at: datetime | None) -> None:
        """Count a failed attempt: pending again from ``retry_at``, or ``failed`` for good when it is None."""

    def list_deliveries(self, user_id: int, *, status: DeliveryStatus | None = None, limit: int = 50) -> list[Delivery]:
        """This reader's deliveries, newest first."""
