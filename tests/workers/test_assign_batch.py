"""The batched assigner: same stories as one article at a time, one commit per batch, acks after the commit.

The first tests run on SQLite files (no services needed); those taking tasks off the queue use the real Redis,
and most of them run a second time with RabbitMQ as the broker.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis

from newsloom.ingest.intake import Intake
from newsloom.settings import Settings, load_settings
from newsloom.storage import open_storage
from newsloom.storage.base import Storage
from newsloom.types import Article, ExtractedArticle
from newsloom.workers import assigner as assigner_module
from newsloom.workers.app import TASK_ASSIGN, configure_app
from newsloom.workers.assigner import Assigner, AssignLoop, LeaseLostError
from newsloom.workers.config import ASSIGN_QUEUE, queue_config, queue_name
from newsloom.workers.inbox import Inbox, article_id_of
from newsloom.workers.lease import Lease
from newsloom.workers.queue import Producer
from tests.workers.conftest import RedisSpace
from tests.workers.newsfeeds import make_events

NOW = datetime(2025, 3, 20, 12, tzinfo=UTC)
OUTLETS = 6
EVENTS = 12


def news_articles(seed: int = 3) -> list[ExtractedArticle]:
    """Outlets reporting the same events in an interleaved stream, with verbatim syndicated copies among them."""
    rng = random.Random(seed)
    events = make_events(rng, EVENTS)
    articles = []
    for round_ in range(OUTLETS):
        for number, event in enumerate(events):
            published = NOW - timedelta(hours=6) + timedelta(minutes=round_ * 20 + number)
            text = "\n\n".join([*rng.sample(event.sentences, 5), f"Outlet {round_} adds its own line {number}."])
            articles.append(ExtractedArticle(
                title=f"{event.headline} ({round_})", author=None, publisher=f"Outlet {round_}", published=published,
                language="en", text=text, url=f"https://outlet{round_}.example/{number}",
            ))
            if number % 4 == 0:  # a wire copy: the same text under another outlet's name
                articles.append(ExtractedArticle(
                    title=f"{event.headline} (wire {round_})", author=None, publisher=f"Wire {round_}",
                    published=published + timedelta(minutes=1), language="en", text=text + "\n\nWire service.",
                    url=f"https://wire{round_}.example/{number}",
                ))
    return articles


def store_all(storage: Storage, settings: Settings) -> list[Article]:
    intake = Intake(storage, settings, store_only=True)
    stored = []
    for extracted in news_articles():
        result = intake.store(extracted, now=NOW)
        assert result.article is not None
        stored.append(result.article)
    return stored


def snapshot(storage: Storage, articles: list[Article]) -> tuple[dict[str, tuple[str | None, str | None]], dict[str, object]]:
    """Each article's story and original (by URL) and every story row reached from them."""
    rows = {}
    stories: dict[str, object] = {}
    for article in articles:
        fresh = storage.get_article(article.id)
        assert fresh.story_id is not None
        original = storage.get_article(fresh.original_id).canonical_url if fresh.original_id else None
        rows[fresh.canonical_url] = (fresh.story_id, original)
        story = storage.get_story(fresh.story_id)
        # Headline and summary are written when a story is saved, weighted by the stream's vocabulary at that
        # moment: once per batch here, once per article one at a time. The membership and counts must agree.
        stories[fresh.story_id] = (story.article_count, story.outlet_count, story.original_count,
                                   story.syndicated_count, story.first_seen, story.last_seen)
    return rows, stories


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(env={}, data_dir=str(tmp_path))


@pytest.mark.parametrize("batch", [1, 7, 1000])
def test_batches_give_the_stories_of_one_at_a_time(settings: Settings, tmp_path: Path, batch: int) -> None:
    one = open_storage(f"sqlite:///{tmp_path}/one.db")
    many = open_storage(f"sqlite:///{tmp_path}/many.db")
    try:
        articles = store_all(one, settings)
        assert [a.id for a in store_all(many, settings)] == [a.id for a in articles]
        single = Intake(one, settings, now=NOW)
        for article in articles:
            single.assign(article, now=NOW)
        batched = Intake(many, settings, now=NOW)
        results = []
        for start in range(0, len(articles), batch):
            results += batched.assign_many(articles[start : start + batch], now=NOW)

        expected, expected_stories = snapshot(one, articles)
        got, got_stories = snapshot(many, articles)
        assert got == expected
        assert got_stories == expected_stories
        assert [r.story_id for r in results] == [expected[a.canonical_url][0] for a in articles]
        assert sum(1 for original in expected.values() if original[1]) >= EVENTS // 4  # copies were linked
        assert len(expected_stories) < len(articles) // 2  # and reports of one event grouped
    finally:
        one.close()
        many.close()


def test_assign_many_skips_assigned_and_repeated_articles(settings: Settings, tmp_path: Path) -> None:
    storage = open_storage(f"sqlite:///{tmp_path}/a.db")
    try:
        articles = store_all(storage, settings)[:5]
        intake = Intake(storage, settings, now=NOW)
        first = intake.assign_many([articles[0], articles[1], articles[0]], now=NOW)
        assert [r.created for r in first] == [True, True, True]
        assert first[0].story_id == first[2].story_id
        again = intake.assign_many([storage.get_article(a.id) for a in articles[:3]], now=NOW)
        assert [r.created for r in again] == [False, False, True]  # the assigned two are returned as they are
        assert again[0].story_id == first[0].story_id
        assert storage.get_story(first[0].story_id or "").article_count >= 1
    finally:
        storage.close()


# -- taking tasks off the queue ------------------------------------------------------------------------------


@pytest.fixture
def queue_settings(queue_space: RedisSpace, tmp_path: Path) -> Settings:
    return load_settings(env={**queue_space.env(), "NEWSLOOM_DATABASE_URL": f"sqlite:///{tmp_path}/q.db"},
                         data_dir=str(tmp_path))


@pytest.fixture
def held_lease(queue_space: RedisSpace) -> Iterator[Lease]:
    lease = Lease(redis.Redis.from_url(queue_space.url), f"{queue_space.prefix}:lease:assign", 30)
    assert lease.try_acquire()
    yield lease
    lease.release()


def inbox_for(settings: Settings, *, batch_max: int = 100, restore_interval_s: float = 90.0) -> Inbox:
    config = queue_config(settings)
    return Inbox(configure_app(settings, config), queue_name(config, ASSIGN_QUEUE), batch_max=batch_max,
                 restore_interval_s=restore_interval_s)


def unacked(space: RedisSpace) -> int | None:
    """Tasks taken and not yet acknowledged, on Redis (kombu's index); None on AMQP, where only the broker's
    management API could tell."""
    if space.broker != "redis":
        return None
    return int(space.client.zcard(f"{space.prefix}:kombu:unacked_index"))


def nothing_comes_back(settings: Settings, inbox: Inbox) -> bool:
    """Close the inbox and look again from a fresh one: on AMQP, tasks taken and not acknowledged would be
    back on the queue at once; acknowledged ones are gone. (On Redis they would wait for the visibility
    timeout, which ``unacked`` checks instead.)"""
    inbox.close()
    fresh = inbox_for(settings)
    try:
        return fresh.take() == []
    finally:
        fresh.close()


def test_a_batch_is_assigned_in_one_go_and_acknowledged_after(
    queue_settings: Settings, queue_space: RedisSpace, held_lease: Lease
) -> None:
    storage = open_storage(queue_settings.effective_database_url)
    producer = Producer(queue_settings)
    inbox = inbox_for(queue_settings, batch_max=30)
    try:
        assigner = Assigner(storage, queue_settings, held_lease)
        _ = assigner.intake  # ready (nothing stored yet to catch up on)
        articles = store_all(storage, queue_settings)[:40]
        for article in articles:
            producer.enqueue_assign(article.id)
        producer.enqueue_assign(articles[0].id)  # a duplicate task
        producer.send(TASK_ASSIGN, ASSIGN_QUEUE, ["not an id"])  # a malformed one is dropped
        loop = AssignLoop(assigner, inbox, threading.Event())

        batch = inbox.take()
        assert [article_id_of(m) for m in batch] == [a.id for a in articles[:30]]  # queue order
        assert unacked(queue_space) in (30, None)  # taken, not yet acknowledged
        assert producer.queue_length(queue_name(producer.config, ASSIGN_QUEUE)) == 12  # no longer waiting
        loop.handle(batch)
        assert unacked(queue_space) in (0, None)
        assert all(storage.get_article(a.id).story_id for a in articles[:30])
        assert storage.get_article(articles[30].id).story_id is None

        rest = inbox.take()
        assert len(rest) == 12 and article_id_of(rest[-1]) is None
        loop.handle(rest)
        assert inbox.take() == [] and unacked(queue_space) in (0, None)
        assert all(storage.get_article(a.id).story_id for a in articles)
        assert nothing_comes_back(queue_settings, inbox)  # the acknowledgements reached the broker
    finally:
        inbox.close()
        producer.close()
        storage.close()


@pytest.mark.parametrize("queue_space", ["redis"], indirect=True)  # the database only: one broker is enough
def test_a_new_holder_first_assigns_what_was_left_without_a_story(
    queue_settings: Settings, held_lease: Lease, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(assigner_module, "ASSIGN_BATCH_MAX", 25)
    storage = open_storage(queue_settings.effective_database_url)
    try:
        articles = store_all(storage, queue_settings)  # stored, their tasks lost with a dead assigner
        assert len(articles) > 3 * 25  # several catch-up batches
        _ = Assigner(storage, queue_settings, held_lease).intake
        assert storage.unassigned_article_ids(10) == []
    finally:
        storage.close()


def test_tasks_of_a_batch_that_lost_its_lease_go_back_unwritten(
    queue_settings: Settings, queue_space: RedisSpace, held_lease: Lease
) -> None:
    storage = open_storage(queue_settings.effective_database_url)
    producer = Producer(queue_settings)
    inbox = inbox_for(queue_settings)
    try:
        assigner = Assigner(storage, queue_settings, held_lease)
        _ = assigner.intake
        articles = store_all(storage, queue_settings)[:5]
        for article in articles:
            producer.enqueue_assign(article.id)
        held_lease.release()  # e.g. the heartbeat could not reach Redis for a whole lease period
        with pytest.raises(LeaseLostError):
            AssignLoop(assigner, inbox, threading.Event()).handle(inbox.take())
        assert all(storage.get_article(a.id).story_id is None for a in articles)
        assert unacked(queue_space) in (0, None)
        assert len(inbox.take()) == 5  # back on the queue for the next holder
    finally:
        inbox.close()
        producer.close()
        storage.close()


def test_tasks_taken_by_a_dead_assigner_come_back_after_the_visibility_timeout(
    redis_space: RedisSpace, tmp_path: Path
) -> None:
    settings = load_settings(env={**redis_space.env(), "NEWSLOOM_QUEUE_VISIBILITY_TIMEOUT_S": "1"},
                             data_dir=str(tmp_path))
    producer = Producer(settings)
    dead, standby = inbox_for(settings), inbox_for(settings, restore_interval_s=0.1)
    try:
        for article_id in (1, 2, 3):
            producer.enqueue_assign(article_id)
        assert len(dead.take()) == 3  # and then died without acknowledging (a clean close would give them back)
        assert standby.take() == []
        deadline = datetime.now(UTC) + timedelta(seconds=10)
        back: list[object] = []
        while not back and datetime.now(UTC) < deadline:
            standby.restore_overdue()
            back = standby.take()
            threading.Event().wait(0.2)
        assert sorted(article_id_of(m) for m in back) == [1, 2, 3]
        for message in back:
            message.ack()
    finally:
        standby.close()
        dead.close()
        producer.close()


# A taker that dies holding tasks, as its own process: SIGKILL drops its broker connection without a word.
DEAD_TAKER = """
import sys, time
from newsloom.settings import load_settings
from tests.workers.test_assign_batch import inbox_for
inbox = inbox_for(load_settings())
print(len(inbox.take()), flush=True)
time.sleep(60)
"""


def test_tasks_taken_by_a_killed_assigner_come_back_at_once_on_amqp(amqp_space: RedisSpace, tmp_path: Path) -> None:
    settings = load_settings(env=amqp_space.env(), data_dir=str(tmp_path))
    producer = Producer(settings)
    standby = inbox_for(settings, restore_interval_s=0.1)
    dead = subprocess.Popen([sys.executable, "-c", DEAD_TAKER], env={**os.environ, **amqp_space.env()},
                            stdout=subprocess.PIPE, text=True)
    try:
        for article_id in (1, 2, 3):
            producer.enqueue_assign(article_id)
        assert dead.stdout is not None and dead.stdout.readline().strip() == "3"
        assert standby.take() == []  # taken and held by the live taker
        dead.kill()
        dead.wait(timeout=10)
        deadline = time.monotonic() + 10  # RabbitMQ requeues when it sees the connection close: well under 1 s
        back: list[object] = []
        while not back and time.monotonic() < deadline:
            standby.restore_overdue()  # nothing to do on AMQP, and it must not fail
            back = standby.take()
            time.sleep(0.1)
        assert sorted(article_id_of(m) for m in back) == [1, 2, 3]
        for message in back:
            message.ack()
    finally:
        dead.kill()
        dead.wait(timeout=10)
        standby.close()
        producer.close()
