"""Webhooks: signed JSON POSTs to a reader's URL, through the fetcher's SSRF guard.

Signature (documented in docs/notifications.md): the receiver gets

``Webhook-Id``
    the delivery's idempotency key: the same on every retry of one event to one URL; drop ids seen before;
``Webhook-Timestamp``
    Unix seconds when this attempt was signed; refuse ones far from your clock (replays);
``X-Newsloom-Signature``
    ``t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>.<body>" keyed with the reader's webhook secret>``.

``verify_signature`` is the receiving side, for Python receivers and the tests.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import httpx

from newsloom.errors import DeliveryError, FetchError
from newsloom.ingest.netguard import AddressPolicy, GuardedTransport
from newsloom.settings import Settings

SIGNATURE_HEADER = "X-Newsloom-Signature"
ID_HEADER = "Webhook-Id"
TIMESTAMP_HEADER = "Webhook-Timestamp"
# Receivers should refuse a signature older than this: a captured request replayed later is then useless.
REPLAY_TOLERANCE_S = 300
# A receiver's answer is read up to this size and otherwise ignored: only the status matters.
MAX_RESPONSE_BYTES = 64_000
USER_AGENT_SUFFIX = " webhook"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_signature(
    secret: str, headers: Mapping[str, str], body: bytes, *, now: float, tolerance_s: float = REPLAY_TOLERANCE_S
) -> str:
    """Check a delivery as a receiver would; the event id, or ``DeliveryError`` saying what is wrong."""
    lower = {k.lower(): v for k, v in headers.items()}
    header = lower.get(SIGNATURE_HEADER.lower(), "")
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    if "t" not in parts or "v1" not in parts or not parts["t"].isdigit():
        raise DeliveryError("unsigned webhook: no valid X-Newsloom-Signature header")
    timestamp = int(parts["t"])
    if abs(now - timestamp) > tolerance_s:
        raise DeliveryError(f"webhook signature is {int(now - timestamp)} s old: refusing a replay")
    if not hmac.compare_digest(sign(secret, timestamp, body), f"t={timestamp},v1={parts['v1']}"):
        raise DeliveryError("webhook signature does not match the body")
    event_id = lower.get(ID_HEADER.lower(), "")
    if not event_id:
        raise DeliveryError("webhook without a Webhook-Id")
    return event_id


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    idempotency_key: str
    kind: str
    created_at: datetime
    story_id: str | None
    title: str
    body: str
    data: Mapping[str, object]
    url: str | None  # the story in the reader, when the public URL is known

    def json_body(self) -> bytes:
        """The payload (schema in docs/notifications.md and the OpenAPI ``WebhookPayload``)."""
        payload = {
            "id": self.idempotency_key, "type": self.kind, "created_at": self.created_at.isoformat(),
            "story_id": self.story_id, "title": self.title, "body": self.body, "url": self.url, "data": dict(self.data),
        }  # fmt: skip
        return json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()


async def post_webhook(url: str, secret: str, event: WebhookEvent, settings: Settings, *, now: datetime) -> int:
    """POST the signed event; the status code of a 2xx answer, else ``DeliveryError`` with the reason."""
    policy = AddressPolicy.from_settings(settings)
    try:
        policy.check_url(url)
    except FetchError as exc:
        raise DeliveryError(f"webhook {url}: {exc.reason}") from exc
    body = event.json_body()
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": settings.user_agent + USER_AGENT_SUFFIX,
        ID_HEADER: event.idempotency_key,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, timestamp, body),
        "X-Newsloom-Event": event.kind,
    }
    transport = GuardedTransport(policy, limits=httpx.Limits(max_connections=4))
    timeout = httpx.Timeout(settings.webhook_timeout_s)
    try:
        async with httpx.AsyncClient(transport=transport, timeout=timeout, follow_redirects=False) as client:
            async with asyncio.timeout(settings.webhook_timeout_s * 2):
                async with client.stream("POST", url, content=body, headers=headers) as response:
                    read = 0
                    async for chunk in response.aiter_raw():
                        read += len(chunk)
                        if read > MAX_RESPONSE_BYTES:
                            break
    except TimeoutError as exc:
        raise DeliveryError(f"webhook {url}: no answer within {settings.webhook_timeout_s:g} s") from exc
    except httpx.TimeoutException as exc:
        raise DeliveryError(f"webhook {url}: no answer within {settings.webhook_timeout_s:g} s") from exc
    except FetchError as exc:
        raise DeliveryError(f"webhook {url}: {exc.reason}") from exc
    except httpx.HTTPError as exc:
        raise DeliveryError(f"webhook {url}: {type(exc).__name__}: {exc}") from exc
    if not 200 <= response.status_code < 300:
        raise DeliveryError(f"webhook {url}: answered HTTP {response.status_code}")
    return response.status_code
