"""The delivery worker: sends pending outbox deliveries (e-mail, webhooks) at least once, retrying with backoff.

At least once: a delivery is marked sent only after the receiver accepted it. A worker killed in between
leaves it leased; when the lease ends, the next run sends it again with the same idempotency key
(``Message-ID`` of an e-mail, ``Webhook-Id`` of a webhook), which is how a receiver drops the repeat. Two
workers never hold one delivery at a time (``claim_deliveries``).

Failures retry after ``RETRY_BASE_S`` doubling up to ``RETRY_MAX_S``; a delivery still failing a day after
its event was stored is marked ``failed`` and shown to the reader.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from newsloom.errors import ConfigError, DeliveryError, InputError
from newsloom.notify.mail import new_message, send_message
from newsloom.notify.webhook import WebhookEvent, post_webhook
from newsloom.settings import Settings
from newsloom.storage.notify_base import Delivery, NotifyStorage

log = logging.getLogger(__name__)

RETRY_BASE_S = 30.0
RETRY_MAX_S = 4 * 3600.0  # at most four hours apart: about fifteen tries in the day
GIVE_UP_AFTER = timedelta(days=1)
CLAIM_BATCH = 20


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def retry_delay(attempts: int) -> float:
    """Seconds before the next try after ``attempts`` failed ones: 30 s, 1 min, 2 min ... capped at 4 h."""
    return float(min(RETRY_MAX_S, RETRY_BASE_S * 2 ** max(0, attempts - 1)))


def next_attempt(delivery: Delivery, now: datetime) -> datetime | None:
    """When to try again after a failure at ``now``, or None: give up (a day after the event)."""
    retry_at = now + timedelta(seconds=retry_delay(delivery.attempts + 1))
    if retry_at - delivery.notification.created_at > GIVE_UP_AFTER:
        return None
    return retry_at


def story_url(settings: Settings, story_id: str | None) -> str | None:
    base = settings.public_url.rstrip("/")
    return f"{base}/story/{story_id}" if base and story_id else None


def webhook_event(delivery: Delivery, settings: Settings) -> WebhookEvent:
    note = delivery.notification
    data = json.loads(note.payload)
    return WebhookEvent(
        idempotency_key=delivery.idempotency_key, kind=note.kind, created_at=note.created_at, story_id=note.story_id,
        title=note.title, body=note.body, data=data if isinstance(data, dict) else {}, url=story_url(settings, note.story_id),
    )  # fmt: skip


def send_one(delivery: Delivery, settings: Settings, secret_of: Callable[[int], str | None], now: datetime) -> None:
    """Send one delivery; ``DeliveryError`` / ``InputError`` / ``ConfigError`` when it did not go out."""
    note = delivery.notification
    if delivery.channel == "email":
        link = story_url(settings, note.story_id)
        text = f"{note.title}\n\n{note.body}\n" + (f"\n{link}\n" if link else "")
        message = new_message(settings, delivery.destination, note.title, text, message_id=delivery.idempotency_key, now=now)
        send_message(settings, message)
        return
    secret = secret_of(delivery.notification.user_id)
    if not secret:
        raise ConfigError("this reader's webhook has no secret (save the webhook URL again)")
    asyncio.run(post_webhook(delivery.destination, secret, webhook_event(delivery, settings), settings, now=now))


def deliver_due(
    store: NotifyStorage,
    settings: Settings,
    *,
    now: Callable[[], datetime],
    limit: int = 200,
    user_id: int | None = None,
) -> DeliveryReport:
    """Send up to ``limit`` due deliveries; every failure is recorded on its delivery, none raises."""
    report = DeliveryReport()
    lease = timedelta(seconds=settings.notify_lease_s)

    def secret_of(owner: int) -> str | None:
        return store.get_notify_settings(owner).webhook_secret

    while report.sent + report.retrying + report.failed < limit:
        started = now()
        batch = store.claim_deliveries(
            now=started, lease_until=started + lease, limit=min(CLAIM_BATCH, limit), user_id=user_id
        )
        if not batch:
            break
        for delivery in batch:
            try:
                send_one(delivery, settings, secret_of, now())
            except (DeliveryError, InputError, ConfigError) as exc:
                at = now()
                retry_at = None if isinstance(exc, InputError) else next_attempt(delivery, at)
                store.delivery_failed(delivery.id, str(exc), retry_at=retry_at)
                report.errors.append(f"{delivery.channel} {delivery.idempotency_key}: {exc}")
                if retry_at is None:
                    report.failed += 1
                    log.error("notification %s to %s failed for good: %s", delivery.idempotency_key, delivery.destination, exc)
                else:
                    report.retrying += 1
                    log.warning("notification %s to %s failed, retrying at %s: %s", delivery.idempotency_key,
                                delivery.destination, retry_at.isoformat(timespec="seconds"), exc)  # fmt: skip
                continue
            store.delivery_sent(delivery.id, now=now())
            report.sent += 1
    return report
