"""Three worker processes ingest 2,000 articles from 100 feeds into PostgreSQL; one is SIGKILLed midway.
Once with Redis as the broker, once with RabbitMQ (Redis then holds only leases, politeness and markers).

Afterwards every article is stored exactly once, with exactly its source's link, and the stories are
consistent: every article has a story that exists, each story's count is its number of articles, redirects
left by merges lead to stories that exist, and syndicated copies sit in their original's story.

The worker killed is the one whose assigner holds the assign lease, so the test covers both halves of
recovery: fetch tasks it had taken come back (after the visibility timeout on Redis, as soon as its connection
drops on RabbitMQ), and a standby assigner in another worker takes over story assignment, catching up on
whatever the dead one left unassigned.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import psycopg
import pytest

from newsloom.service import Service
from newsloom.settings import load_settings
from tests.loopback import LoopbackServer
from tests.workers.conftest import RedisSpace
from tests.workers.newsfeeds import serve_news
from tests.workers.procs import article_counts, kill_group, libpq, start_worker, stop_group, wait_until

FEEDS = 100
ITEMS_PER_FEED = 20
EVENTS = 200  # ten outlets per event
WORKERS = 3
# Killed once this share of the articles is stored: well into the run, with plenty left to do.
KILL_AT_FRACTION = 0.3
# Short leases and visibility timeout so that recovery fits in a test; production defaults are in config.py.
QUEUE_ENV = {
    "NEWSLOOM_QUEUE_VISIBILITY_TIMEOUT_S": "10",
    "NEWSLOOM_QUEUE_RESTORE_INTERVAL_S": "1",
    "NEWSLOOM_QUEUE_LEASE_S": "4",
}
RUN_TIMEOUT_S = 150


def worker_env(pg_url: str, space: RedisSpace, data_dir: Path) -> dict[str, str]:
    return {
        **space.env(),
        **QUEUE_ENV,
        "NEWSLOOM_DATABASE_URL": pg_url,
        "NEWSLOOM_DATA_DIR": str(data_dir),
        "NEWSLOOM_ALLOW_PRIVATE_NETWORKS": "1",
        # every feed is on 127.0.0.1: politeness for one host would serialise the whole run
        "NEWSLOOM_PER_HOST_CONCURRENCY": "32",
        "NEWSLOOM_PER_HOST_DELAY_S": "0",
        "NEWSLOOM_RESPECT_ROBOTS": "0",
    }


def lease_holder_pid(space: RedisSpace) -> int | None:
    value = space.client.get(f"{space.prefix}:lease:assign")
    return int(value.decode().split(":")[1]) if value else None


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def test_three_workers_one_killed_store_everything_once(
    loopback: LoopbackServer, pg_url: str, queue_space: RedisSpace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    news = serve_news(loopback, feeds=FEEDS, items_per_feed=ITEMS_PER_FEED, events=EVENTS)
    env = worker_env(pg_url, queue_space, tmp_path)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    with Service(settings) as svc:
        svc.init()
        assert svc.subscribe(news.outlines()) == (FEEDS, 0)

    begun = time.monotonic()
    workers = [start_worker(env, concurrency=2, log_path=tmp_path / f"worker{i}.log") for i in range(WORKERS)]
    try:
        with Service(settings) as svc:
            assert svc.update(all_sources=True) == []  # queue mode: enqueued, nothing done in-process
        total = FEEDS * ITEMS_PER_FEED
        assert wait_until(lambda: article_counts(pg_url)[0] >= total * KILL_AT_FRACTION, 90), _logs(tmp_path)

        holder = lease_holder_pid(queue_space)
        assert holder is not None, "no assigner holds the lease"
        victim = next(w for w in workers if w.pid == parent_of(holder))
        kill_group(victim)
        killed_at = article_counts(pg_url)
        print(f"killed worker {victim.pid} (assigner {holder}) at {killed_at} after {time.monotonic() - begun:.1f} s")

        started = time.monotonic()
        done = wait_until(lambda: article_counts(pg_url) == (total, 0), RUN_TIMEOUT_S)
        assert done, f"after {time.monotonic() - started:.0f} s: {article_counts(pg_url)}\n{_logs(tmp_path)}"
        print(f"all stored and assigned {time.monotonic() - started:.1f} s after the kill")
        assert killed_at[0] < total, "the kill came too late to test anything"
        time.sleep(2)  # late redeliveries of the killed worker's tasks must change nothing
    finally:
        for worker in workers:
            stop_group(worker)

    check_exactly_once(pg_url, news.article_urls, FEEDS)
    check_stories(pg_url)
    check_no_assigner_crashed(tmp_path)


def check_no_assigner_crashed(tmp_path: Path) -> None:
    """A crashing assigner is restarted and catches up from the database each time, which can hide the crash
    from the counts above (it did on AMQP); multiprocessing prints this header for an uncaught exception."""
    crashed = [log.name for log in sorted(tmp_path.glob("worker*.log"))
               if "Process assigner:\nTraceback" in log.read_text(errors="replace")]
    assert crashed == [], f"an assigner crashed in {crashed}\n{_logs(tmp_path)}"


def check_exactly_once(pg_url: str, urls: list[str], feeds: int) -> None:
    with psycopg.connect(libpq(pg_url)) as connection:
        stored = [row[0] for row in connection.execute("SELECT url FROM articles")]
        links = connection.execute(
            "SELECT count(*), count(DISTINCT article_id), count(DISTINCT source_id) FROM article_sources"
        ).fetchone()
    assert len(stored) == len(set(stored)) == len(urls)
    assert set(stored) == set(urls)
    assert links == (len(urls), len(urls), feeds)  # one link per article: no article twice, none lost


def check_stories(pg_url: str) -> None:
    with psycopg.connect(libpq(pg_url)) as connection:
        def rows(sql: str) -> list[tuple[object, ...]]:
            return list(connection.execute(sql))  # type: ignore[arg-type]

        assert rows("SELECT id FROM articles WHERE story_id IS NULL") == []
        assert rows("SELECT a.id FROM articles a LEFT JOIN stories s ON s.id = a.story_id WHERE s.id IS NULL") == []
        assert rows(
            "SELECT s.id, s.article_count, count(a.id) FROM stories s LEFT JOIN articles a ON a.story_id = s.id "
            "GROUP BY s.id, s.article_count HAVING s.article_count <> count(a.id)"
        ) == []
        assert rows("SELECT id FROM stories WHERE article_count = 0") == []
        assert rows(
            "SELECT r.old_id FROM story_redirects r LEFT JOIN stories s ON s.id = r.new_id WHERE s.id IS NULL"
        ) == []
        assert rows("SELECT r.old_id FROM story_redirects r JOIN stories s ON s.id = r.old_id") == []
        assert rows(
            "SELECT c.id FROM articles c JOIN articles o ON o.id = c.original_id WHERE c.story_id <> o.story_id"
        ) == []
        stories = rows("SELECT count(*) FROM stories")[0][0]
        assert isinstance(stories, int) and stories < FEEDS * ITEMS_PER_FEED  # articles of one event were grouped


def _logs(tmp_path: Path) -> str:
    tails = []
    for log in sorted(tmp_path.glob("worker*.log")):
        text = log.read_text(errors="replace").splitlines()
        tails.append(f"--- {log.name}\n" + "\n".join(text[-25:]))
    return "\n".join(tails) if os.environ.get("NEWSLOOM_TEST_VERBOSE", "1") == "1" else ""
