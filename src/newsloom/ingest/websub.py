"""WebSub subscriber decisions (W3C Recommendation, 23 January 2018). Pure: no I/O, the time is passed in.

What the hub and topic of a fetched feed are (§4 discovery), what a subscription request says (§5.1), whether
a verification of intent is one we asked for (§5.3), whether a delivery's signature holds (§8), and when a
lease is renewed or has lapsed. The network side (asking the hub, answering it) is in ``subscriber.py``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from newsloom.storage.websub_base import Subscription
from newsloom.types import ParsedFeed

# §8 "Authenticated Content Distribution": the hub signs with one of these; sha1 is what older hubs send.
SIGNATURE_ALGORITHMS = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
    "sha512": hashlib.sha512,
}
# §5.1: hub.secret must be under 200 bytes; 32 random bytes (43 URL-safe characters) are plenty for an HMAC key.
SECRET_BYTES = 32
CALLBACK_PATH = "/websub/callback/"
# A lease is renewed once less than a fifth of it is left, and at least this long before it ends: the
# in-process poller looks every 30 s to 5 min, the queue scheduler every 30 s, so 10 min is several chances.
RENEW_FRACTION = 0.2
MIN_RENEW_MARGIN_S = 600
# A hub that has not verified a request after this long never will (hubs verify within seconds); the
# subscription counts as failed and the feed is polled as before.
PENDING_TIMEOUT_S = 900
# Longest hub.challenge echoed back: hubs send a few dozen characters; anything longer is not a hub.
MAX_CHALLENGE_CHARS = 1000

_LINK_VALUE = re.compile(r"<([^>]*)>((?:\s*;\s*[^;,=\s]+\s*(?:=\s*(?:\"[^\"]*\"|[^;,]*))?)*)")
_LINK_PARAM = re.compile(r";\s*([^;=\s]+)\s*(?:=\s*(?:\"([^\"]*)\"|([^;,]*)))?")


@dataclass(frozen=True, slots=True)
class HubTopic:
    """Where to subscribe (``hub``) and to what (``topic``, the feed's self URL)."""

    hub: str
    topic: str


def parse_link_header(values: Iterable[str]) -> list[tuple[str, frozenset[str]]]:
    """RFC 8288 ``Link`` header values -> (target, rel values lower-cased), in order. Unparseable parts are skipped."""
    links: list[tuple[str, frozenset[str]]] = []
    for value in values:
        for match in _LINK_VALUE.finditer(value):
            rels: set[str] = set()
            for name, quoted, bare in _LINK_PARAM.findall(match.group(2)):
                if name.lower() == "rel":
                    rels.update((quoted or bare).lower().split())
            links.append((match.group(1).strip(), frozenset(rels)))
    return links


def discover(feed: ParsedFeed, headers: Iterable[tuple[str, str]], fetched_url: str) -> HubTopic | None:
    """The hub and topic of a fetched feed, or None when it advertises no hub.

    §4: the HTTP ``Link`` headers first, then the document's links. The topic is the ``rel="self"`` URL
    (header, then document), else the URL the feed was fetched from. Only http(s) hubs are used.
    """
    links = parse_link_header(value for name, value in headers if name.lower() == "link")
    header_hubs = [target for target, rels in links if "hub" in rels]
    header_self = next((target for target, rels in links if "self" in rels), None)
    hubs = header_hubs or list(feed.hubs)
    topic = header_self if header_hubs and header_self else (feed.self_url or header_self or fetched_url)
    hub = next((h for h in hubs if h.startswith(("http://", "https://"))), None)
    if hub is None or not topic.startswith(("http://", "https://")):
        return None
    return HubTopic(hub=hub, topic=topic)


def callback_url(public_url: str, subscription_id: int) -> str:
    """The callback the hub verifies and delivers to: one per subscription, under the server's public URL."""
    return f"{public_url.rstrip('/')}{CALLBACK_PATH}{subscription_id}"


def subscribe_form(sub: Subscription, callback: str, lease_seconds: int | None) -> dict[str, str]:
    """The body of the subscription request (§5.1), form-encoded by the caller."""
    form = {
        "hub.mode": "subscribe",
        "hub.topic": sub.topic_url,
        "hub.callback": callback,
        "hub.secret": sub.secret,
    }
    if lease_seconds:
        form["hub.lease_seconds"] = str(lease_seconds)
    return form


@dataclass(frozen=True, slots=True)
class Verification:
    """The answer to a verification of intent: ``challenge`` to echo (200), or a refusal (404) with a reason.

    ``lease_seconds`` is the lease the hub granted; ``denied`` marks the hub's "denied" notice (§5.2).
    """

    accept: bool
    reason: str = ""
    challenge: str = ""
    lease_seconds: int | None = None
    denied: bool = False


def check_verification(sub: Subscription | None, params: dict[str, str]) -> Verification:
    """§5.3: confirm only a subscribe request we made and still wait on, for the same topic; refuse the rest.

    A ``denied`` notice for our topic is acknowledged (it ends the request). We never unsubscribe (a removed
    feed's subscription is dropped, and its deliveries get 410 Gone), so ``unsubscribe`` is always refused.
    """
    mode = params.get("hub.mode", "")
    topic = params.get("hub.topic", "")
    if sub is None:
        return Verification(False, "unknown subscription")
    if topic != sub.topic_url:
        return Verification(False, f"topic {topic[:200]!r} is not this subscription's")
    if mode == "denied":
        return Verification(True, params.get("hub.reason", "")[:200] or "denied by the hub", denied=True)
    if mode != "subscribe":
        return Verification(False, f"mode {mode[:40]!r} was not requested")
    if sub.requested_at is None:
        return Verification(False, "no subscription request is outstanding")
    challenge = params.get("hub.challenge", "")
    if not challenge or len(challenge) > MAX_CHALLENGE_CHARS:
        return Verification(False, "missing or oversized hub.challenge")
    lease = params.get("hub.lease_seconds", "")
    lease_seconds = int(lease) if lease.isdigit() and int(lease) > 0 else None
    return Verification(True, challenge=challenge, lease_seconds=lease_seconds)


def signature_problem(secret: str, body: bytes, header: str | None) -> str | None:
    """Why a delivery's ``X-Hub-Signature`` (``method=hexdigest``) does not prove it came from our hub, or None."""
    if not header:
        return "unsigned delivery (no X-Hub-Signature)"
    method, _, digest = header.strip().partition("=")
    algorithm = SIGNATURE_ALGORITHMS.get(method.strip().lower())
    if algorithm is None:
        return f"unsupported signature method {method[:20]!r}"
    expected = hmac.new(secret.encode(), body, algorithm).hexdigest()
    if not hmac.compare_digest(expected, digest.strip().lower()):
        return "signature does not match"
    return None


def renewal_due(sub: Subscription, now: datetime) -> bool:
    """An active lease with less than ``RENEW_FRACTION`` of it (at least ``MIN_RENEW_MARGIN_S``) left, not asked yet."""
    if sub.state != "active" or sub.lease_expires_at is None or sub.requested_at is not None:
        return False
    margin = max(RENEW_FRACTION * (sub.lease_seconds or 0), MIN_RENEW_MARGIN_S)
    return sub.lease_expires_at - now <= timedelta(seconds=margin)


def lease_lapsed(sub: Subscription, now: datetime) -> bool:
    return sub.state == "active" and sub.lease_expires_at is not None and sub.lease_expires_at <= now


def request_timed_out(sub: Subscription, now: datetime) -> bool:
    """A subscribe request (first or renewal) the hub has left unverified for ``PENDING_TIMEOUT_S``."""
    return sub.requested_at is not None and now - sub.requested_at >= timedelta(seconds=PENDING_TIMEOUT_S)


def is_pushing(sub: Subscription | None, now: datetime) -> bool:
    """Whether the feed's new items arrive by push now (a verified, unexpired lease)."""
    return sub is not None and sub.state == "active" and (sub.lease_expires_at is None or sub.lease_expires_at > now)


def wants_request(sub: Subscription | None, found: HubTopic, now: datetime) -> bool:
    """Whether a poll that found ``found`` should (re)subscribe: none yet, another hub or topic, or a failed or
    expired one whose retry time has come."""
    if sub is None or (sub.hub_url, sub.topic_url) != (found.hub, found.topic):
        return True
    if sub.state in ("failed", "expired"):
        return sub.retry_at is None or sub.retry_at <= now
    return False
