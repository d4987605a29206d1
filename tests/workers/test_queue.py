"""Queue mode in one process, on the real Redis (or RabbitMQ beside it) and SQLite: bounds, de-duplication,
idempotent stages. Tests taking ``queue_settings`` run once per broker."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis

from newsloom.errors import ConfigError, QueueError
from newsloom.service import Service
from newsloom.settings import Settings, load_settings
from newsloom.types import FeedItem, ParsedFeed
from newsloom.workers import stages
from newsloom.workers.app import TASK_PAGES, configure_app
from newsloom.workers.assigner import Assigner
from newsloom.workers.config import queue_config, queue_name
from newsloom.workers.context import WorkerContext
from newsloom.workers.inbox import Inbox
from newsloom.workers.lease import Lease
from newsloom.workers.payload import feed_from_json, feed_to_json, item_from_json, item_to_json
from newsloom.workers.queue import Producer
from newsloom.workers.runner import parse_stages
from tests.loopback import LoopbackServer
from tests.workers.conftest import RedisSpace

BODY = " ".join(
    f"Sentence {i} about the harbour bridge vote in Kalomer, which the council approved on Tuesday." for i in range(15)
)


@pytest.fixture
def queue_settings(queue_space: RedisSpace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    for name, value in queue_space.env().items():
        monkeypatch.setenv(name, value)
    yield load_settings(env=dict(queue_space.env()), data_dir=str(tmp_path), allow_private_networks=True,
                        per_host_delay_s=0.0, respect_robots=False)


def test_a_full_queue_slows_then_refuses(queue_settings: Settings) -> None:
    producer = Producer(dataclasses.replace(queue_settings, queue_max_length=3, queue_full_wait_s=0.3))
    for article_id in range(3):
        producer.enqueue_assign(article_id)
    with pytest.raises(QueueError, match="did not drain"):
        producer.enqueue_assign(99)
    assert producer.queue_length(queue_name(producer.config, "assign")) == 3
    producer.close()


def test_a_source_waits_in_the_queue_once(queue_settings: Settings) -> None:
    producer = Producer(queue_settings)
    assert producer.enqueue_polls([1, 2]) == 2
    assert producer.enqueue_polls([1, 2]) == 0  # the scheduler came round before the polls ran
    producer.clear_poll_marker(1)  # poll 1 finished
    assert producer.enqueue_polls([1, 2]) == 1
    producer.close()


def test_ingest_in_queue_mode_only_enqueues(queue_settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    for i in range(2):
        (folder / f"a{i}.txt").write_text(f"Title {i}\n\n{BODY}")
    with Service(queue_settings) as svc:
        report = svc.ingest_paths([str(folder)])
        assert report.queued == 2 and not report.stored
        assert svc.storage.count_articles() == 0


def test_stages_run_twice_store_once_and_assign_once(
    queue_settings: Settings, queue_space: RedisSpace, loopback: LoopbackServer, tmp_path: Path
) -> None:
    page = f"<html><head><title>Bridge</title></head><body><article><h1>Bridge</h1><p>{BODY}</p></article></body></html>"
    url = loopback.add("/news/1", page, headers={"Content-Type": "text/html"})
    item = FeedItem(guid=url, url=url, title="Bridge", author=None, published=datetime(2025, 3, 18, tzinfo=UTC),
                    updated=None, summary="Teaser.", content_html=None)
    feed = ParsedFeed(format="rss", title="Harbour Times", site_url=None, language="en", items=())
    text_file = tmp_path / "local.txt"
    text_file.write_text(f"Local story\n\n{BODY} A local addition.")
    ctx = WorkerContext(queue_settings)
    source, _ = ctx.storage.add_source("http://127.0.0.1/feed", now=datetime.now(UTC))
    try:
        for _ in range(2):  # a redelivered task
            stages.fetch_article(ctx, source.id, item_to_json(item), feed_to_json(feed))
            stages.ingest_file(ctx, str(text_file))
        assert ctx.storage.count_articles() == 2
        stored = ctx.storage.find_article(canonical_url=url)
        assert stored is not None and stored.source_ids == (source.id,)
        assert stored.text.startswith("Sentence 0")  # the page's text, not the feed's teaser
        # Unassigned after each run: each run queued an assignment.
        # Each run found the article without a story, so each queued its assignment (duplicates are no-ops).
        assert ctx.producer.queue_length(queue_name(ctx.config, "assign")) == 4

        lease = Lease(redis.Redis.from_url(queue_space.url), f"{queue_space.prefix}:lease:assign", 30)
        assert lease.try_acquire()
        assigner = Assigner(ctx.storage, queue_settings, lease)
        first = assigner.assign(stored.id)
        assert first is not None and assigner.assign(stored.id) == first  # assigned once
        story = ctx.storage.get_story(first)
        assert story.article_count == 1
        assert assigner.assign(10_000) is None  # deleted meanwhile: nothing to do
        lease.release()
    finally:
        ctx.close()


def test_payloads_round_trip() -> None:
    item = FeedItem(guid="g", url="https://e.org/a", title="T", author="A", published=datetime(2025, 1, 2, 3, 4, tzinfo=UTC),
                    updated=None, summary="S", content_html="<p>x</p>", categories=("a", "b"), image_url=None)
    feed = ParsedFeed(format="atom", title="F", site_url="https://e.org", language="de", items=(item,))
    assert item_from_json(item_to_json(item)) == item
    assert feed_from_json(feed_to_json(feed)) == ParsedFeed("atom", "F", "https://e.org", "de", ())


def test_queue_names_and_settings() -> None:
    config = queue_config(load_settings(env={"NEWSLOOM_QUEUE_PREFIX": "nl", "NEWSLOOM_QUEUE_MAX_LENGTH": "7"}))
    assert config.queue_max_length == 7
    assert parse_stages(["nl.fetch", "assign", "fetch"], config) == ["fetch", "assign"]
    assert parse_stages(None, config) == ["poll", "fetch", "assign"]
    with pytest.raises(ConfigError):
        parse_stages(["index"], config)
    with pytest.raises(ConfigError):
        queue_config(load_settings(env={"NEWSLOOM_QUEUE_LEASE_S": "soon"}))
    with pytest.raises(ConfigError):
        queue_config(load_settings(env={"NEWSLOOM_QUEUE_LEASE_S": "0"}))


def test_the_assigner_hands_story_pages_to_the_workers(
    queue_settings: Settings, queue_space: RedisSpace, tmp_path: Path
) -> None:
    """The one serial process only assigns: the pages of the stories it changed become fetch-queue tasks,
    and the worker that runs one stores the page (built from what is stored then)."""
    ctx = WorkerContext(queue_settings)
    lease = Lease(redis.Redis.from_url(queue_space.url), f"{queue_space.prefix}:lease:assign", 30)
    assert lease.try_acquire()
    try:
        (tmp_path / "a.txt").write_text(f"Bridge vote\n\n{BODY}")
        stages.ingest_file(ctx, str(tmp_path / "a.txt"))
        [article_id] = ctx.storage.unassigned_article_ids(10)
        story_id = Assigner(ctx.storage, queue_settings, lease, producer=ctx.producer).assign(article_id)
        assert story_id is not None
        assert ctx.storage.story_with_page(story_id).page is None  # not built by the assigner

        inbox = Inbox(configure_app(queue_settings), queue_name(ctx.config, "fetch"), batch_max=10, restore_interval_s=1)
        try:
            [message] = inbox.take()
            assert message.headers["task"] == TASK_PAGES
            [story_ids] = message.decode()[0]
            assert stages.build_story_pages(ctx, story_ids) == 1
            message.ack()
        finally:
            inbox.close()
        assert story_ids == [story_id] and ctx.storage.story_with_page(story_id).fresh
    finally:
        lease.release()
        ctx.close()


def test_page_tasks_never_wait_for_a_full_queue(queue_settings: Settings) -> None:
    producer = Producer(dataclasses.replace(queue_settings, queue_max_length=1, queue_full_wait_s=30))
    try:
        assert producer.enqueue_story_pages(["s1"]) == 1
        started = time.monotonic()
        assert producer.enqueue_story_pages(["s2", "s3"]) == 0  # full: skipped (built on view), not waited for
        assert time.monotonic() - started < 5
        assert producer.queue_length(queue_name(producer.config, "fetch")) == 1
    finally:
        producer.close()
