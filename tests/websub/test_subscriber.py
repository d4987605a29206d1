"""WebSub end to end on loopback: newsloom subscribes at a real hub, answers its checks and ingests its pushes.

Every test runs on SQLite and on PostgreSQL. The hub (hub.py) speaks the protocol over real HTTP; nothing of
the exchange is mocked.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest

from newsloom.storage.websub_base import Subscription
from newsloom.storage.websub_store import SqlWebSubStore
from tests.websub.conftest import Push, entry, running_push


def store(push: Push) -> SqlWebSubStore:
    return SqlWebSubStore.for_storage(push.service.storage)


def subscribed(push: Push, **feed: object) -> Subscription:
    """Subscribe a feed that names the hub, poll it once, and wait for the hub's verification."""
    source_id = push.subscribe_source()
    push.serve_feed([entry(1, push.feeds.base_url)], **feed)  # type: ignore[arg-type]
    push.service.update(source_ids=[source_id])
    push.hub.wait_verified(1)
    sub = store(push).subscription_for_source(source_id)
    assert sub is not None
    return sub


def pushed_body(push: Push, *numbers: int) -> bytes:
    from tests.websub.conftest import atom

    base = push.feeds.base_url
    return atom(base, [entry(n, base) for n in numbers], hub=push.hub.url, self_url=push.feed_url)


def sign(secret: str, body: bytes, method: str = "sha256") -> str:
    return f"{method}=" + hmac.new(secret.encode(), body, getattr(hashlib, method)).hexdigest()


def test_a_polled_feed_with_a_hub_is_subscribed_and_its_pushes_reach_the_story_page(push: Push) -> None:
    sub = subscribed(push)
    request = push.hub.requests[0]
    assert request["hub.mode"] == "subscribe"
    assert request["hub.topic"] == push.feed_url
    assert request["hub.callback"] == f"{push.base_url}/websub/callback/{sub.id}"
    assert request["hub.secret"] == sub.secret and len(sub.secret) >= 32
    assert push.hub.verifications[0].confirmed
    assert sub.state == "active" and sub.requested_at is None
    assert sub.lease_seconds == push.hub.lease_seconds
    # A pushed feed is only safety-polled, daily.
    source = push.service.storage.get_source(sub.source_id)
    assert source.poll_interval_s == push.settings.websub_safety_poll_s
    assert source.next_poll_at is not None and source.next_poll_at > push.service.now() + timedelta(hours=23)

    assert push.hub.publish(push.feed_url, pushed_body(push, 2)) == [200]
    article = push.service.storage.find_article(canonical_url=f"{push.feeds.base_url}/articles/2")
    assert article is not None and article.story_id is not None and sub.source_id in article.source_ids
    page = push.client.get(f"/story/{article.story_id}")
    assert page.status_code == 200 and "Story number 2" in page.text
    assert store(push).get_subscription(sub.id).deliveries == 1


def test_the_safety_poll_of_a_pushed_feed_that_did_not_change_costs_no_parse(push: Push) -> None:
    sub = subscribed(push)
    (outcome,) = push.service.update(source_ids=[sub.source_id])  # the same body as the first poll
    assert outcome.status == "not-modified"  # known as pushed from the poll's one read of the subscriptions
    source = push.service.storage.get_source(sub.source_id)
    assert source.poll_interval_s == push.settings.websub_safety_poll_s
    assert len(push.hub.requests) == 1  # nothing asked of the hub again


def test_the_hub_may_be_named_in_the_http_link_header(push: Push) -> None:
    topic = push.feeds.url("/topic")
    link = f'<{push.hub.url}>; rel="hub", <{topic}>; rel="self"'
    sub = subscribed(push, hub=False, self_link=False, headers={"Link": link})
    assert (sub.hub_url, sub.topic_url, sub.state) == (push.hub.url, topic, "active")


def test_without_a_public_url_nothing_is_subscribed(tmp_path: Path, engine_url: str) -> None:
    with running_push(tmp_path, engine_url, public_url="") as push:
        source_id = push.subscribe_source()
        push.serve_feed([entry(1, push.feeds.base_url)])
        push.service.update(source_ids=[source_id])
        assert push.hub.requests == []
        assert store(push).subscription_for_source(source_id) is None
        assert push.service.storage.get_source(source_id).poll_interval_s < push.settings.websub_safety_poll_s


def test_verification_is_answered_only_for_our_own_outstanding_request(push: Push) -> None:
    sub = subscribed(push)
    callback = f"/websub/callback/{sub.id}"
    good = {"hub.mode": "subscribe", "hub.topic": push.feed_url, "hub.challenge": "abc", "hub.lease_seconds": "60"}
    # Already verified: no request is outstanding, so a replayed or forged confirmation is refused.
    assert push.client.get(callback, params=good).status_code == 404
    assert push.client.get("/websub/callback/999999", params=good).status_code == 404
    assert push.client.get(callback, params={**good, "hub.mode": "unsubscribe"}).status_code == 404
    store(push).update_subscription(sub.id, requested_at=push.service.now())
    assert push.client.get(callback, params={**good, "hub.topic": push.feeds.url("/other")}).status_code == 404
    assert push.client.get(callback, params={**good, "hub.challenge": ""}).status_code == 404
    answer = push.client.get(callback, params=good)
    assert (answer.status_code, answer.text) == (200, "abc")
    assert store(push).get_subscription(sub.id).lease_seconds == 60


def test_forged_and_unsigned_deliveries_are_refused_and_nothing_is_ingested(
    push: Push, caplog: pytest.LogCaptureFixture
) -> None:
    sub = subscribed(push)
    before = push.service.storage.count_articles()
    body = pushed_body(push, 3)
    callback = f"/websub/callback/{sub.id}"
    headers = {"Content-Type": "application/atom+xml"}
    with caplog.at_level(logging.WARNING):
        unsigned = push.client.post(callback, content=body, headers=headers)
        forged = push.client.post(callback, content=body, headers={**headers, "X-Hub-Signature": sign("guess", body)})
        odd = push.client.post(callback, content=body, headers={**headers, "X-Hub-Signature": "md5=" + "0" * 32})
        tampered = push.client.post(
            callback, content=body + b" ", headers={**headers, "X-Hub-Signature": sign(sub.secret, body)}
        )
    assert [r.status_code for r in (unsigned, forged, odd, tampered)] == [403, 403, 403, 403]
    assert push.service.storage.count_articles() == before
    assert "unsigned delivery" in caplog.text and "signature does not match" in caplog.text
    # The hub's own signature, sha1 as older hubs send it, is accepted.
    sha1 = push.client.post(callback, content=body, headers={**headers, "X-Hub-Signature": sign(sub.secret, body, "sha1")})
    assert sha1.status_code == 200
    assert push.service.storage.count_articles() == before + 1


def test_unknown_callbacks_and_topics_are_refused(push: Push) -> None:
    sub = subscribed(push)
    body = pushed_body(push, 4)
    signed = {"Content-Type": "application/atom+xml", "X-Hub-Signature": sign(sub.secret, body)}
    assert push.client.post("/websub/callback/999999", content=body, headers=signed).status_code == 410
    other = {**signed, "Link": f'<{push.hub.url}>; rel="hub", <{push.feeds.url("/other")}>; rel="self"'}
    assert push.client.post(f"/websub/callback/{sub.id}", content=body, headers=other).status_code == 404
    # A removed feed's subscription goes with it: its hub is told 410 Gone and stops delivering.
    push.service.remove(str(sub.source_id))
    assert push.hub.publish(push.feed_url, body) == [410]
    assert push.hub.subscription(push.feed_url) is None
    assert push.service.storage.find_article(canonical_url=f"{push.feeds.base_url}/articles/4") is None


def test_an_oversized_delivery_is_refused_at_the_fetchers_size_limit(tmp_path: Path, engine_url: str) -> None:
    with running_push(tmp_path, engine_url, max_body_bytes=20_000) as push:
        sub = subscribed(push)
        before = push.service.storage.count_articles()
        body = pushed_body(push, 5) + b" " * 20_000
        headers = {"Content-Type": "application/atom+xml", "X-Hub-Signature": sign(sub.secret, body)}
        assert push.client.post(f"/websub/callback/{sub.id}", content=body, headers=headers).status_code == 413

        def chunked() -> object:  # no Content-Length: the limit is counted while reading
            yield body[:10_000]
            yield body[10_000:]

        streamed = push.client.post(f"/websub/callback/{sub.id}", content=chunked(), headers=headers)  # type: ignore[arg-type]
        assert streamed.status_code == 413
        assert push.service.storage.count_articles() == before


def test_leases_are_renewed_before_they_end(push: Push) -> None:
    sub = subscribed(push)
    assert sub.lease_expires_at is not None and sub.lease_seconds is not None
    early = push.service.websub_maintain(now=sub.lease_expires_at - timedelta(seconds=sub.lease_seconds * 0.5))
    assert early.renewed == 0 and len(push.hub.requests) == 1
    report = push.service.websub_maintain(now=sub.lease_expires_at - timedelta(seconds=sub.lease_seconds * 0.1))
    assert report.renewed == 1
    push.hub.wait_verified(2)
    assert push.hub.requests[1]["hub.callback"] == push.hub.requests[0]["hub.callback"]
    renewed = store(push).get_subscription(sub.id)
    assert renewed.state == "active" and renewed.requested_at is None
    assert renewed.verified_at is not None and sub.verified_at is not None and renewed.verified_at > sub.verified_at


def test_a_lapsed_lease_falls_back_to_polling_then_subscribes_again(push: Push) -> None:
    sub = subscribed(push)
    assert sub.lease_expires_at is not None
    later = sub.lease_expires_at + timedelta(seconds=1)
    report = push.service.websub_maintain(now=later)
    assert report.expired == 1
    lapsed = store(push).get_subscription(sub.id)
    assert lapsed.state == "expired"
    source = push.service.storage.get_source(sub.source_id)
    assert source.next_poll_at is not None and source.next_poll_at <= later  # due at once
    assert source.poll_interval_s < push.settings.websub_safety_poll_s
    push.service.update(source_ids=[sub.source_id])  # the poll finds the hub again and asks anew
    push.hub.wait_verified(2)
    assert store(push).get_subscription(sub.id).state == "active"


def test_a_hub_that_fails_leaves_the_feed_polled(tmp_path: Path, engine_url: str) -> None:
    with running_push(tmp_path, engine_url) as push:
        push.hub.refuse_status = 503
        source_id = push.subscribe_source()
        push.serve_feed([entry(1, push.feeds.base_url)])
        push.service.update(source_ids=[source_id])
        sub = store(push).subscription_for_source(source_id)
        assert sub is not None and sub.state == "failed" and "HTTP 503" in (sub.last_error or "")
        assert sub.retry_at is not None and sub.retry_at > push.service.now()
        source = push.service.storage.get_source(source_id)
        assert source.poll_interval_s < push.settings.websub_safety_poll_s and source.last_error is None
        push.service.update(source_ids=[source_id])  # before retry_at: the hub is not asked again
        assert len(push.hub.requests) == 1


def test_a_denied_or_never_verified_request_fails(tmp_path: Path, engine_url: str) -> None:
    with running_push(tmp_path, engine_url) as push:
        push.hub.deny = True
        sub = subscribed(push)
        assert sub.state == "failed" and "denied" in (sub.last_error or "")
    with running_push(tmp_path / "silent", engine_url) as push:
        push.hub.verify = False
        source_id = push.subscribe_source()
        push.serve_feed([entry(1, push.feeds.base_url)])
        push.service.update(source_ids=[source_id])
        pending = store(push).subscription_for_source(source_id)
        assert pending is not None and pending.state == "pending" and pending.requested_at is not None
        report = push.service.websub_maintain(now=pending.requested_at + timedelta(hours=1))
        assert report.timed_out == 1
        assert store(push).get_subscription(pending.id).state == "failed"


def test_a_hub_that_misses_items_sends_the_feed_back_to_polling(push: Push) -> None:
    sub = subscribed(push)
    push.serve_feed([entry(1, push.feeds.base_url), entry(6, push.feeds.base_url)])  # item 6 was never pushed
    push.service.update(source_ids=[sub.source_id])
    missed = store(push).get_subscription(sub.id)
    assert missed.state == "failed" and "did not push" in (missed.last_error or "")
    assert push.service.storage.get_source(sub.source_id).poll_interval_s < push.settings.websub_safety_poll_s


def test_a_burst_of_pushes_all_land_and_a_forged_one_among_them_changes_nothing(push: Push) -> None:
    sub = subscribed(push)
    before = push.service.storage.count_articles()
    bodies = [pushed_body(push, n) for n in range(10, 30)]
    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(lambda body: push.hub.publish(push.feed_url, body), bodies))
    assert statuses == [[200]] * 20
    assert push.service.storage.count_articles() == before + 20
    # One batch holding good and forged deliveries: each is judged alone.
    good, forged = pushed_body(push, 40), pushed_body(push, 41)
    results = push.reader.service.websub_deliver_many([
        (sub.id, good, {"x-hub-signature": sign(sub.secret, good)}),
        (sub.id, forged, {"x-hub-signature": sign("not-the-secret", forged)}),
    ])  # fmt: skip
    assert [r.status for r in results] == [200, 403] and results[0].new_articles == 1
    assert push.service.storage.find_article(canonical_url=f"{push.feeds.base_url}/articles/41") is None
