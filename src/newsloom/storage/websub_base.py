"""The WebSubStorage Protocol: the subscriber side of WebSub, one subscription per subscribed feed.

The contract of ``storage/base.py`` holds here too: thread-safe, aware UTC datetimes in and out (naive ones are
refused with ``StorageError``), storage never reads the clock (methods that stamp take ``now``), each call
atomic and joining an open ``storage.transaction()``, ``NotFoundError`` for a missing subscription or source,
``StorageError`` for driver failures.

Secrets: the per-subscription HMAC secret is stored as it is (the signature of every delivery is checked
against it, so a hash would not do); it is random, per feed, and worth nothing beyond forging that feed's
deliveries to this server.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

SubscriptionState = Literal["pending", "active", "failed", "expired"]
SUBSCRIPTION_STATES: tuple[SubscriptionState, ...] = ("pending", "active", "failed", "expired")


@dataclass(frozen=True, slots=True)
class Subscription:
    """One feed's subscription at its hub.

    ``state``: ``pending`` (asked, not verified yet), ``active`` (verified, lease running), ``failed`` (the hub
    refused, denied or never verified; ``retry_at`` says when to ask again) or ``expired`` (the lease ran out
    unrenewed; the feed is polled as before). ``requested_at`` is set while a subscribe request is outstanding
    (the first one or a renewal): only then is a verification of intent answered.
    """

    id: int
    source_id: int
    hub_url: str
    topic_url: str
    secret: str
    state: SubscriptionState
    created_at: datetime
    requested_at: datetime | None = None
    verified_at: datetime | None = None
    lease_seconds: int | None = None
    lease_expires_at: datetime | None = None
    last_delivery_at: datetime | None = None
    deliveries: int = 0
    last_error: str | None = None
    error_count: int = 0
    retry_at: datetime | None = None


class WebSubStorage(Protocol):
    """Subscriptions of feeds at their WebSub hubs. See the module docstring."""

    def get_subscription(self, subscription_id: int) -> Subscription:
        """The subscription with this id; ``NotFoundError`` when there is none."""

    def subscription_for_source(self, source_id: int) -> Subscription | None:
        """The subscription of this source, or None."""

    def list_subscriptions(self, *, states: tuple[SubscriptionState, ...] | None = None) -> list[Subscription]:
        """Every subscription (only those in ``states`` if given), by id."""

    def put_subscription(
        self, source_id: int, *, hub_url: str, topic_url: str, secret: str, now: datetime
    ) -> Subscription:
        """Create this source's subscription in state ``pending`` with ``requested_at=now``, or, when it has
        one, point it at this hub and topic with this secret and make it ``pending`` again (a new request),
        keeping its id (the callback URL) and its delivery counts. ``NotFoundError`` for an unknown source.
        """

    def update_subscription(self, subscription_id: int, **changes: object) -> Subscription:
        """Change fields of a subscription (any but ``id`` and ``source_id``); returns it updated.

        ``TypeError`` for an unknown field; ``NotFoundError`` for an unknown subscription.
        """

    def record_delivery(self, subscription_id: int, *, now: datetime, count: int = 1) -> None:
        """Count ``count`` verified deliveries (``deliveries`` + count, ``last_delivery_at`` = now), atomically."""
