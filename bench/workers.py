"""Queue-mode throughput and overhead: articles/s with 1, 2 and 4 worker processes against in-process mode.

    .venv/bin/python bench/workers.py [--feeds 40] [--items 25] [--workers 1,2,4] [--concurrency 1] [--amqp-url URL]

Needs PostgreSQL (``--pg-url``, default the test server; each run works in a fresh schema, dropped after)
and Redis (``--redis-url``; keys under a random prefix, deleted after). With ``--amqp-url`` RabbitMQ is the
broker and Redis holds only the shared state (queues under the same random prefix, deleted after). Feeds are generated (see
tests/workers/newsfeeds.py: many outlets on the same events, 10% of items need a page fetch) and served
by a loopback server in a process of its own, so its CPU is not counted.

Measured in the same run:
* in-process: ``Service.update()`` in this process (the single-machine default), wall time and CPU time;
* queue mode: ``newsloom update`` enqueues, N ``newsloom worker`` processes do the work (each runs a
  standby assigner; one assigns), timed from enqueue until every article is stored and assigned. CPU time is
  summed over every worker process (fetch pool, assigners), Redis and RabbitMQ (when it is the broker).

Printed: articles/s per mode, the speed ratio to in-process, and CPU milliseconds per article, whose
difference to in-process is the per-article overhead of queue mode.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import kombu  # noqa: E402
import psycopg  # noqa: E402
import redis  # noqa: E402
from tests.storage.conftest import with_search_path  # noqa: E402
from tests.workers.conftest import delete_amqp_queues  # noqa: E402
from tests.workers.procs import article_counts, libpq, start_worker, stop_group, wait_until  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# A run that has not finished in this long is reported as stuck rather than waited for.
RUN_TIMEOUT_S = 600


def serve(conn: Connection, feeds: int, items: int) -> None:
    """Child process: serve the generated feeds until told to stop; send their URLs first."""
    from tests.loopback import LoopbackServer
    from tests.workers.newsfeeds import serve_news

    server = LoopbackServer().start()
    news = serve_news(server, feeds=feeds, items_per_feed=items, events=max(1, feeds * items // 10))
    conn.send(news.feed_urls)
    conn.recv()
    server.stop()


@contextlib.contextmanager
def pg_schema(base_url: str) -> Iterator[str]:
    schema = f"newsloom_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(libpq(base_url), autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield with_search_path(base_url, schema)
    finally:
        with psycopg.connect(libpq(base_url), autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def group_cpu_s(pgids: set[int], extra_pids: set[int]) -> float:
    """User+system CPU seconds of every live process in the given process groups, plus ``extra_pids``."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) in pgids or int(entry) in extra_pids:
            total += int(fields[11]) + int(fields[12])  # utime, stime (children that exited are not kept)
    return total / CLOCK_TICKS


def server_pids(*names: str) -> set[int]:
    """Process ids of the named servers (``redis-server``; ``beam.smp`` is RabbitMQ's Erlang VM)."""
    out = subprocess.run(["pidof", *names], capture_output=True, text=True).stdout.split()
    return {int(pid) for pid in out}


def subscribe(env: dict[str, str], feed_urls: list[str]) -> None:
    from newsloom.service import Service
    from newsloom.settings import load_settings
    from newsloom.types import OpmlOutline

    with Service(load_settings(env=env)) as svc:
        svc.init()
        svc.subscribe(OpmlOutline(xml_url=url) for url in feed_urls)


def in_process(base_env: dict[str, str], feed_urls: list[str], pg_url: str) -> tuple[int, float, float]:
    """(articles, wall s, CPU s) of one in-process update."""
    from newsloom.service import Service
    from newsloom.settings import load_settings

    env = {**base_env, "NEWSLOOM_DATABASE_URL": pg_url}
    subscribe(env, feed_urls)
    with Service(load_settings(env=env)) as svc:
        _ = svc.intake  # index rebuild of an empty window: part of start-up, not of the work
        wall, cpu = time.perf_counter(), time.process_time()
        svc.update(all_sources=True)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return article_counts(pg_url)[0], wall, cpu


def queue_mode(
    base_env: dict[str, str], feed_urls: list[str], pg_url: str, redis_url: str, workers: int, concurrency: int,
    log_dir: Path, amqp_url: str | None = None,
) -> tuple[int, float, float]:
    """(articles, wall s, CPU s) with ``workers`` worker processes."""
    prefix = f"nlbench-{uuid.uuid4().hex[:8]}"
    env = {**base_env, "NEWSLOOM_DATABASE_URL": pg_url, "NEWSLOOM_QUEUE_URL": amqp_url or redis_url,
           "NEWSLOOM_QUEUE_PREFIX": prefix}
    if amqp_url:
        env["NEWSLOOM_QUEUE_REDIS_URL"] = redis_url
    subscribe({k: v for k, v in env.items() if k != "NEWSLOOM_QUEUE_URL"}, feed_urls)
    client = redis.Redis.from_url(redis_url)
    procs = [start_worker(env, concurrency=concurrency, log_path=log_dir / f"{prefix}-{i}.log") for i in range(workers)]
    try:
        # Ready: an assigner holds the lease and has caught up, and every worker has said "ready".
        def ready() -> bool:
            logs = [(log_dir / f"{prefix}-{i}.log").read_text(errors="replace") for i in range(workers)]
            return all("fetch." in text and " ready." in text for text in logs) and any(
                "assign." in text and " ready." in text for text in logs
            )

        if not wait_until(ready, 120):
            raise SystemExit(f"workers did not start; see {log_dir}")
        pgids, extra = {p.pid for p in procs}, server_pids("redis-server", *(["beam.smp"] if amqp_url else []))
        cpu_before = group_cpu_s(pgids, extra)
        old = os.environ.copy()
        os.environ.update(env)
        try:
            from newsloom.service import Service
            from newsloom.settings import load_settings

            wall = time.perf_counter()
            with Service(load_settings()) as svc:
                svc.update(all_sources=True)
        finally:
            os.environ.clear()
            os.environ.update(old)
        previous = (-1, -1)

        def settled() -> bool:
            nonlocal previous
            counts = article_counts(pg_url)
            empty = _amqp_queues_empty(amqp_url, prefix) if amqp_url else _queues_empty(client, prefix)
            done = counts[1] == 0 and counts[0] > 0 and counts == previous and empty
            previous = counts
            return done

        if not wait_until(settled, RUN_TIMEOUT_S, interval_s=0.25):
            raise SystemExit(f"queue run did not finish: {article_counts(pg_url)}; see {log_dir}")
        wall = time.perf_counter() - wall
        cpu = group_cpu_s(pgids, extra) - cpu_before
    finally:
        for proc in procs:
            stop_group(proc)
        for key in client.scan_iter(match=f"{prefix}*", count=1000):
            client.delete(key)
        client.close()
        if amqp_url:
            delete_amqp_queues(amqp_url, prefix)
    return article_counts(pg_url)[0], wall, cpu


def _queues_empty(client: redis.Redis, prefix: str) -> bool:
    lengths = [client.llen(f"{prefix}:kombu:{prefix}.{stage}") for stage in ("poll", "fetch", "assign")]
    return sum(lengths) == 0 and not client.zcard(f"{prefix}:kombu:unacked_index")


def _amqp_queues_empty(amqp_url: str, prefix: str) -> bool:
    """No task waiting (RabbitMQ does not tell unacknowledged ones without its management API; the caller
    also waits for the article counts to settle)."""
    with kombu.Connection(amqp_url) as connection:
        for stage in ("poll", "fetch", "assign"):
            try:
                if connection.channel().queue_declare(queue=f"{prefix}.{stage}", passive=True).message_count:
                    return False
            except connection.channel_errors:  # not declared yet: empty
                continue
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=40)
    parser.add_argument("--items", type=int, default=25)
    parser.add_argument("--workers", default="1,2,4", help="worker process counts to measure")
    parser.add_argument("--concurrency", type=int, default=1, help="pool processes per worker")
    parser.add_argument("--pg-url", default=os.environ.get("NEWSLOOM_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--redis-url", default=os.environ.get("NEWSLOOM_TEST_REDIS_URL", "redis://127.0.0.1:6379/13"))
    parser.add_argument("--amqp-url", default=None, help="RabbitMQ as the broker (e.g. amqp://guest:guest@127.0.0.1:5672//)")
    parser.add_argument("--log-dir", default="/tmp/newsloom-bench-workers")
    args = parser.parse_args()
    log_dir = Path(args.log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)

    parent, child = multiprocessing.Pipe()
    server = multiprocessing.get_context("fork").Process(target=serve, args=(child, args.feeds, args.items), daemon=True)
    server.start()
    feed_urls: list[str] = parent.recv()
    base_env = {
        "NEWSLOOM_DATA_DIR": str(log_dir / "data"),
        "NEWSLOOM_ALLOW_PRIVATE_NETWORKS": "1",
        "NEWSLOOM_PER_HOST_CONCURRENCY": "32",  # every feed is on 127.0.0.1
        "NEWSLOOM_PER_HOST_DELAY_S": "0",
        "NEWSLOOM_RESPECT_ROBOTS": "0",
    }
    try:
        with pg_schema(args.pg_url) as url:
            n, wall, cpu = in_process(base_env, feed_urls, url)
        reference = n / wall
        print(f"in-process      {n:5d} articles  {wall:6.1f} s  {reference:6.1f} articles/s  "
              f"{1000 * cpu / n:6.1f} CPU ms/article  (reference)")
        for workers in (int(w) for w in args.workers.split(",")):
            with pg_schema(args.pg_url) as url:
                qn, qwall, qcpu = queue_mode(base_env, feed_urls, url, args.redis_url, workers, args.concurrency, log_dir,
                                             args.amqp_url)
            rate = qn / qwall
            print(f"queue {workers} worker{'s' if workers > 1 else ' '} {qn:5d} articles  {qwall:6.1f} s  {rate:6.1f} articles/s  "
                  f"{1000 * qcpu / qn:6.1f} CPU ms/article  speed x{rate / reference:.2f}, "
                  f"overhead {1000 * (qcpu / qn - cpu / n):+.1f} CPU ms/article")
    finally:
        parent.send("stop")
        server.join(timeout=5)


if __name__ == "__main__":
    main()
