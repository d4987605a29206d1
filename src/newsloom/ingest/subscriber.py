"""The WebSub subscriber's I/O: asking hubs for subscriptions, answering their checks, keeping leases alive.

The decisions are the pure functions of ``websub.py``; this module reads and writes the subscription rows and
talks to hubs through the ``Fetcher`` (so a hub address taken from a feed gets the same SSRF guard and limits
as any fetch). Nothing here ever stops a poll: a failure is logged and recorded on the subscription, and the
feed is polled as it would be without a hub.

Lifecycle: a poll that finds a hub (``after_poll``) stores a ``pending`` subscription with a fresh secret and
POSTs the request; the hub's verification of intent (``verify``) makes it ``active`` with the granted lease,
and the feed's poll interval grows to ``websub_safety_poll_s``. ``maintain`` renews leases before they end,
gives up on requests a hub never verified, and sends a feed whose lease lapsed back to polling at once. A poll
of a pushed feed that finds new items the hub did not push marks the hub as failing (polling resumes).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from newsloom.errors import FetchError, NewsloomError, NotFoundError
from newsloom.ingest import websub
from newsloom.ingest.fetch import Fetcher
from newsloom.ingest.schedule import backoff_delay
from newsloom.settings import Settings
from newsloom.storage.base import Storage
from newsloom.storage.websub_base import Subscription
from newsloom.storage.websub_store import SqlWebSubStore
from newsloom.types import FetchResult, ParsedFeed, Source

log = logging.getLogger(__name__)

# Hub answers that accept a subscription request (§5.1: 202 Accepted; some hubs verify first and say 204/200).
ACCEPTED_STATUSES = frozenset({200, 202, 204})


@dataclass(frozen=True, slots=True)
class Delivery:
    """What became of a content delivery: the HTTP status the hub gets, why, and what was ingested."""

    status: int
    reason: str = "ok"
    items: int = 0
    new_articles: int = 0
    subscription: Subscription | None = None

    @property
    def accepted(self) -> bool:
        return self.status < 300


@dataclass
class MaintenanceReport:
    renewed: int = 0
    expired: int = 0
    timed_out: int = 0


class Subscriber:
    """WebSub subscriptions of one storage's feeds. ``fetcher`` is needed for what talks to hubs."""

    def __init__(self, storage: Storage, settings: Settings, fetcher: Fetcher | None = None) -> None:
        self.storage = storage
        self.settings = settings
        self.fetcher = fetcher
        self.store = SqlWebSubStore.for_storage(storage)
        # Subscriptions read by check_delivery, by id: a burst of pushes is mostly one hub's few topics, and a
        # Subscriber lives for one batch (see Service.websub_deliver_many), so nothing here goes stale.
        self._checked: dict[int, Subscription | None] = {}

    @property
    def enabled(self) -> bool:
        """Without a public URL no hub could reach us: nothing is subscribed, polling stays as it is."""
        return bool(self.settings.public_url)

    def pushing_sources(self, now: datetime) -> frozenset[int]:
        """The sources whose items arrive by push at ``now``, in one read: a poll asks this of every feed that
        answers 304, and one query per feed was a quarter of a re-poll's cost."""
        active = self.store.list_subscriptions(states=("active",))
        return frozenset(sub.source_id for sub in active if websub.is_pushing(sub, now))

    # -- asking ----------------------------------------------------------------------------------------------

    async def after_poll(
        self, source: Source, feed: ParsedFeed, result: FetchResult, *, new_articles: int, now: datetime
    ) -> bool:
        """Subscribe when the polled feed advertises a hub; True when the feed's items arrive by push."""
        sub = self.store.subscription_for_source(source.id)
        if websub.is_pushing(sub, now) and new_articles > 0:
            assert sub is not None
            self._failed(sub, f"the hub did not push {new_articles} new item(s) a poll found", now, keep_lease=False)
            return False
        if not self.enabled:
            return False
        found = websub.discover(feed, result.headers, result.final_url)
        if found is not None and websub.wants_request(sub, found, now):
            await self.request(source, found, now)
            sub = self.store.subscription_for_source(source.id)
        return websub.is_pushing(sub, now)

    async def request(self, source: Source, found: websub.HubTopic, now: datetime) -> Subscription:
        """Store a pending subscription with a new secret, then ask the hub; the row is written first, since a
        hub may verify before it answers the request."""
        sub = self.store.put_subscription(
            source.id, hub_url=found.hub, topic_url=found.topic, secret=secrets.token_urlsafe(websub.SECRET_BYTES),
            now=now,
        )
        log.info("source %s: subscribing to %s at hub %s", source.id, found.topic, found.hub)
        return await self._send(sub, now)

    async def _send(self, sub: Subscription, now: datetime) -> Subscription:
        if self.fetcher is None:
            raise RuntimeError("Subscriber needs a Fetcher to talk to hubs")
        form = websub.subscribe_form(sub, websub.callback_url(self.settings.public_url, sub.id), self.settings.websub_lease_s)
        try:
            status = await self.fetcher.post_form(sub.hub_url, form)
        except FetchError as exc:
            return self._failed(sub, f"hub request failed: {exc.reason}", now)
        if status not in ACCEPTED_STATUSES:
            return self._failed(sub, f"hub refused the subscription request (HTTP {status})", now)
        return sub

    def _failed(self, sub: Subscription, reason: str, now: datetime, *, keep_lease: bool = True) -> Subscription:
        """Record a failure; the feed is polled normally and the hub is asked again after a backoff.

        A failing renewal leaves a still-running lease active (deliveries keep working until it ends), unless
        ``keep_lease`` is False (the hub was caught not pushing: polling takes over at once).
        """
        errors = sub.error_count + 1
        delay = backoff_delay(
            errors, retry_after_s=None, base_s=self.settings.min_poll_interval_s, max_s=self.settings.max_poll_interval_s
        )
        still_leased = keep_lease and websub.is_pushing(sub, now)
        if not still_leased:
            self._poll_soon(sub.source_id, now)
        log.warning("WebSub subscription %s (source %s, hub %s): %s", sub.id, sub.source_id, sub.hub_url, reason)
        return self.store.update_subscription(
            sub.id, state="active" if still_leased else "failed", requested_at=None, last_error=reason[:500],
            error_count=errors, retry_at=now + timedelta(seconds=delay),
        )  # fmt: skip

    def _poll_soon(self, source_id: int, now: datetime) -> None:
        """Back to polling: the feed is due now, at its normal adaptive pace from then on."""
        try:
            source = self.storage.get_source(source_id)
        except NotFoundError:
            return
        interval = min(source.poll_interval_s, self.settings.default_poll_interval_s)
        self.storage.update_source(source_id, next_poll_at=now, poll_interval_s=interval)

    # -- answering -------------------------------------------------------------------------------------------

    def verify(self, subscription_id: int, params: dict[str, str], now: datetime) -> websub.Verification:
        """Answer a hub's verification of intent (§5.3); ``accept`` False means 404."""
        try:
            sub: Subscription | None = self.store.get_subscription(subscription_id)
        except NotFoundError:
            sub = None
        answer = websub.check_verification(sub, params)
        if not answer.accept or sub is None:
            log.info("WebSub verification for callback %s refused: %s", subscription_id, answer.reason)
            return answer
        if answer.denied:
            self._failed(sub, f"hub denied the subscription: {answer.reason}", now)
            return answer
        lease = answer.lease_seconds or sub.lease_seconds or self.settings.websub_lease_s
        with self.storage.transaction():
            self.store.update_subscription(
                sub.id, state="active", requested_at=None, verified_at=now, lease_seconds=lease,
                lease_expires_at=now + timedelta(seconds=lease), last_error=None, error_count=0, retry_at=None,
            )  # fmt: skip
            # Pushed from now on: the next poll is the daily safety poll (or sooner, if the lease ends first:
            # ``maintain`` then brings the poll forward).
            self.storage.update_source(
                sub.source_id, poll_interval_s=self.settings.websub_safety_poll_s,
                next_poll_at=now + timedelta(seconds=self.settings.websub_safety_poll_s),
            )  # fmt: skip
        log.info("WebSub subscription %s (source %s) verified, lease %d s", sub.id, sub.source_id, lease)
        return answer

    def check_delivery(self, subscription_id: int, body: bytes, headers: dict[str, str]) -> Delivery:
        """§8: is this POST a delivery we may ingest? 410 for an unknown callback (the hub drops it), 404 for
        another topic, 413 over the fetcher's size limit, 403 unsigned or forged. ``headers`` lower-cased.

        Every refusal is logged; nothing of a refused delivery is ingested.
        """
        if subscription_id not in self._checked:
            try:
                self._checked[subscription_id] = self.store.get_subscription(subscription_id)
            except NotFoundError:
                self._checked[subscription_id] = None
        sub = self._checked[subscription_id]
        if sub is None:
            return self.refused(Delivery(410, f"no subscription {subscription_id} (gone)"), subscription_id)
        if len(body) > self.settings.max_body_bytes:
            return self.refused(Delivery(413, f"body over the {self.settings.max_body_bytes}-byte limit", subscription=sub), subscription_id)
        problem = websub.signature_problem(sub.secret, body, headers.get("x-hub-signature"))
        if problem is not None:
            return self.refused(Delivery(403, problem, subscription=sub), subscription_id)
        links = websub.parse_link_header([headers.get("link", "")])
        topic = next((target for target, rels in links if "self" in rels), None)
        if topic is not None and topic != sub.topic_url:
            return self.refused(Delivery(404, f"topic {topic[:200]!r} is not this subscription's", subscription=sub), subscription_id)
        return Delivery(200, subscription=sub)

    @staticmethod
    def refused(delivery: Delivery, subscription_id: int) -> Delivery:
        log.warning("WebSub delivery to callback %s refused (%d): %s", subscription_id, delivery.status, delivery.reason)
        return delivery

    # -- keeping leases ------------------------------------------------------------------------------------------

    async def maintain(self, now: datetime) -> MaintenanceReport:
        """Renew leases about to end, expire lapsed ones (back to polling), give up on unverified requests."""
        report = MaintenanceReport()
        for sub in self.store.list_subscriptions(states=("pending", "active")):
            try:
                if websub.lease_lapsed(sub, now):
                    self.store.update_subscription(sub.id, state="expired", requested_at=None, retry_at=None,
                                                   last_error="lease ended without renewal")
                    self._poll_soon(sub.source_id, now)
                    log.warning("WebSub subscription %s (source %s): lease lapsed; polling again", sub.id, sub.source_id)
                    report.expired += 1
                elif websub.request_timed_out(sub, now):
                    self._failed(sub, "the hub never verified the subscription request", now)
                    report.timed_out += 1
                elif self.enabled and websub.renewal_due(sub, now):
                    sub = self.store.update_subscription(sub.id, requested_at=now)
                    await self._send(sub, now)
                    report.renewed += 1
            except NewsloomError as exc:  # one subscription's trouble must not stop the others
                log.warning("WebSub subscription %s: maintenance failed: %s", sub.id, exc)
        return report


async def maintain_subscriptions(storage: Storage, settings: Settings, now: datetime) -> MaintenanceReport:
    """``Subscriber.maintain`` with a fetcher of its own (the scheduler and ``Service.update`` call this)."""
    if not Subscriber(storage, settings).store.list_subscriptions(states=("pending", "active")):
        return MaintenanceReport()
    async with Fetcher(settings) as fetcher:
        return await Subscriber(storage, settings, fetcher).maintain(now)
