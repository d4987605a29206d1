"""WebSub decisions (pure): discovery, Link headers, verification of intent, signatures, lease timing."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from newsloom.ingest import websub
from newsloom.ingest.feeds import parse_feed
from newsloom.storage.websub_base import Subscription

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
FEED_URL = "https://news.example/feed.xml"


def sub(**changes: object) -> Subscription:
    values: dict[str, object] = {
        "id": 7, "source_id": 1, "hub_url": "https://hub.example/", "topic_url": FEED_URL, "secret": "s3cret",
        "state": "pending", "created_at": NOW, "requested_at": NOW,
    }  # fmt: skip
    values.update(changes)
    return Subscription(**values)  # type: ignore[arg-type]


RSS = b"""<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>
<title>T</title><link>https://news.example/</link>
<atom:link rel="hub" href="https://hub.example/"/><atom:link rel="hub" href="https://hub2.example/"/>
<atom:link rel="self" href="https://news.example/feed.xml"/>
<item><title>A</title><link>https://news.example/a</link></item></channel></rss>"""
JSON_FEED = (
    b'{"version": "https://jsonfeed.org/version/1.1", "title": "T", "feed_url": "https://news.example/feed.json",'
    b' "hubs": [{"type": "rssCloud", "url": "https://cloud.example/"}, {"type": "WebSub", "url": "https://hub.example/"}],'
    b' "items": [{"id": "1", "url": "https://news.example/a", "content_text": "x"}]}'
)


def test_hubs_and_self_come_from_rss_atom_and_json_feeds() -> None:
    rss = parse_feed(RSS, url=FEED_URL)
    assert rss.hubs == ("https://hub.example/", "https://hub2.example/") and rss.self_url == FEED_URL
    assert websub.discover(rss, [], "https://cdn.example/feed.xml") == websub.HubTopic("https://hub.example/", FEED_URL)
    json_feed = parse_feed(JSON_FEED, url="https://news.example/feed.json")
    assert json_feed.hubs == ("https://hub.example/",) and json_feed.self_url == "https://news.example/feed.json"
    plain = parse_feed(RSS.replace(b'rel="hub"', b'rel="alternate"'), url=FEED_URL)
    assert plain.hubs == () and websub.discover(plain, [], FEED_URL) is None


def test_link_headers_come_first_and_the_fetched_url_is_the_fallback_topic() -> None:
    rss = parse_feed(RSS, url=FEED_URL)
    headers = [("Link", '<https://pubsub.example/>; rel="hub", <https://news.example/topic>; rel="self"')]
    assert websub.discover(rss, headers, FEED_URL) == websub.HubTopic("https://pubsub.example/", "https://news.example/topic")
    no_self = parse_feed(RSS.replace(b'rel="self"', b'rel="x"'), url=FEED_URL)
    assert websub.discover(no_self, [], "https://fetched.example/f").topic == "https://fetched.example/f"  # type: ignore[union-attr]
    assert websub.parse_link_header(['<https://a/>; rel=hub; type="x", <https://b/>; title="a, b"; rel="self alternate"']) == [
        ("https://a/", frozenset({"hub"})), ("https://b/", frozenset({"self", "alternate"}))]  # fmt: skip
    assert websub.parse_link_header(["garbage", ""]) == []
    javascript = [("link", '<javascript:alert(1)>; rel="hub"')]
    assert websub.discover(replace(no_self, hubs=()), javascript, FEED_URL) is None


@pytest.mark.parametrize(
    ("subscription", "params", "accepted"),
    [
        (sub(), {"hub.mode": "subscribe", "hub.topic": FEED_URL, "hub.challenge": "c", "hub.lease_seconds": "99"}, True),
        (None, {"hub.mode": "subscribe", "hub.topic": FEED_URL, "hub.challenge": "c"}, False),
        (sub(requested_at=None), {"hub.mode": "subscribe", "hub.topic": FEED_URL, "hub.challenge": "c"}, False),
        (sub(), {"hub.mode": "subscribe", "hub.topic": "https://other.example/", "hub.challenge": "c"}, False),
        (sub(), {"hub.mode": "unsubscribe", "hub.topic": FEED_URL, "hub.challenge": "c"}, False),
        (sub(), {"hub.mode": "subscribe", "hub.topic": FEED_URL}, False),
        (sub(), {"hub.mode": "subscribe", "hub.topic": FEED_URL, "hub.challenge": "c" * 1001}, False),
        (sub(), {"hub.mode": "denied", "hub.topic": FEED_URL, "hub.reason": "no"}, True),
    ],
)
def test_verification_of_intent(subscription: Subscription | None, params: dict[str, str], accepted: bool) -> None:
    answer = websub.check_verification(subscription, params)
    assert answer.accept is accepted
    if accepted and not answer.denied:
        assert (answer.challenge, answer.lease_seconds) == ("c", 99)


def test_signatures() -> None:
    body = b"<feed/>"
    for method in ("sha1", "sha256", "sha512"):
        good = f"{method}=" + hmac.new(b"s3cret", body, getattr(hashlib, method)).hexdigest()
        assert websub.signature_problem("s3cret", body, good) is None
        assert websub.signature_problem("s3cret", body + b"x", good) == "signature does not match"
        assert websub.signature_problem("other", body, good) == "signature does not match"
    assert websub.signature_problem("s3cret", body, None) == "unsigned delivery (no X-Hub-Signature)"
    assert "unsupported" in (websub.signature_problem("s3cret", body, "md5=abc") or "")


def test_lease_timing() -> None:
    active = sub(state="active", requested_at=None, lease_seconds=86400, lease_expires_at=NOW + timedelta(hours=10))
    assert not websub.renewal_due(active, NOW)
    assert websub.renewal_due(active, NOW + timedelta(hours=5, minutes=12))  # under a fifth of the lease left
    assert not websub.renewal_due(sub(state="active", requested_at=NOW, lease_seconds=86400,
                                      lease_expires_at=NOW + timedelta(minutes=1)), NOW)  # already asked  # fmt: skip
    short = sub(state="active", requested_at=None, lease_seconds=60, lease_expires_at=NOW + timedelta(minutes=9))
    assert websub.renewal_due(short, NOW)  # at least MIN_RENEW_MARGIN_S before the end
    assert websub.is_pushing(active, NOW) and not websub.is_pushing(active, NOW + timedelta(hours=10))
    assert websub.lease_lapsed(active, NOW + timedelta(hours=10)) and not websub.lease_lapsed(active, NOW)
    assert websub.request_timed_out(sub(), NOW + timedelta(seconds=websub.PENDING_TIMEOUT_S))
    assert not websub.request_timed_out(sub(), NOW + timedelta(seconds=60))
    found = websub.HubTopic("https://hub.example/", FEED_URL)
    assert websub.wants_request(None, found, NOW) and not websub.wants_request(active, found, NOW)
    assert websub.wants_request(active, websub.HubTopic("https://new-hub.example/", FEED_URL), NOW)
    failed = sub(state="failed", requested_at=None, retry_at=NOW + timedelta(hours=1))
    assert not websub.wants_request(failed, found, NOW) and websub.wants_request(failed, found, NOW + timedelta(hours=2))
