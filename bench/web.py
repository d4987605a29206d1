"""Latency of the reader's main pages under concurrent clients, against the same server's /healthz.

    .venv/bin/python bench/web.py --articles 100000 --clients 50 --requests 600

1. Builds a SQLite database of synthetic articles (``--articles``, grouped into stories of 1-15 articles from
   40 outlets, spread over the last 7 days) with bulk ``executemany`` inserts straight into the tables, a few
   thousand rows per statement in one transaction: 100k articles take well under a minute, where going
   through ``Service.ingest`` (extraction, dedupe, clustering per article) would take hours. The FTS5 index
   is filled by its triggers as rows go in.
2. Starts ``newsloom.web.app`` with uvicorn in a separate process (one worker, as ``newsloom serve`` does).
3. For each endpoint, ``--clients`` concurrent httpx clients send ``--requests`` requests in total (after a
   warm-up), and the p50/p99 latencies are printed beside /healthz, the reference: the ratio says how much
   slower than a trivial response of the same server a page is, which travels across machines better than
   milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

WORDS = [
    "government", "minister", "election", "flood", "storm", "market", "shares", "bank", "rate", "inflation", "police",
    "court", "trial", "judge", "president", "parliament", "vote", "budget", "energy", "oil", "gas", "climate",
    "summit", "talks", "ceasefire", "army", "border", "refugees", "hospital", "health", "vaccine", "school",
    "teachers", "strike", "union", "workers", "company", "profits", "deal", "merger", "airline", "football",
    "match", "final", "league", "coach", "player", "injury", "city", "council", "mayor", "water", "fire",
    "wildfire", "earthquake", "rescue", "victims", "officials", "statement", "report", "investigation", "record",
]
PLACES = ["Paris", "Berlin", "Madrid", "Valencia", "Rome", "Lagos", "Tokyo", "Ottawa", "Lima", "Cairo", "Delhi", "Seoul"]
PEOPLE = ["Maria Lopez", "John Smith", "Aiko Tanaka", "Ahmed Said", "Olga Petrova", "Luis Garcia", "Emma Brown"]
BATCH = 5000


def build_database(path: Path, n_articles: int, seed: int = 7) -> int:
    """Bulk-insert synthetic sources, articles, links and stories; returns how many articles."""
    from newsloom.storage import open_storage
    from newsloom.storage.schema import article_sources, articles, sources, stories

    rng = random.Random(seed)
    storage = open_storage(f"sqlite:///{path}")
    engine = storage._engine  # type: ignore[attr-defined]  # bench only: bulk load under the storage API
    now = datetime.now(UTC)
    outlets = [f"Outlet {i}" for i in range(40)]
    with engine.begin() as connection:
        connection.execute(sources.insert(), [
            {"id": i + 1, "url": f"https://outlet{i}.example/feed", "kind": "feed", "title": name, "created_at": now,
             "last_success_at": now, "error_count": 0, "poll_interval_s": 3600}
            for i, name in enumerate(outlets)
        ])  # fmt: skip
    article_rows: list[dict[str, object]] = []
    link_rows: list[dict[str, object]] = []
    story_rows: list[dict[str, object]] = []
    article_id = 0
    while article_id < n_articles:
        size = min(n_articles - article_id, rng.choice([1, 1, 1, 2, 2, 3, 4, 6, 8, 12, 15]))
        start = now - timedelta(hours=rng.uniform(0, 24 * 7))
        place, person = rng.choice(PLACES), rng.choice(PEOPLE)
        topic = " ".join(rng.sample(WORDS, 4))
        story_id = f"s{article_id + 1}"
        times = []
        for k in range(size):
            article_id += 1
            when = min(now, start + timedelta(minutes=rng.uniform(0, 600)))
            times.append(when)
            outlet = rng.randrange(len(outlets))
            sentences = [f"{place} {topic} {' '.join(rng.sample(WORDS, 8))}, {person} said." for _ in range(12)]
            article_rows.append({
                "id": article_id, "canonical_url": f"https://outlet{outlet}.example/{article_id}",
                "url": f"https://outlet{outlet}.example/{article_id}", "title": f"{place}: {topic} ({k})",
                "publisher": outlets[outlet], "published_at": when, "fetched_at": when, "text": "\n\n".join(sentences),
                "html": "", "captions": [], "content_hash": f"h{article_id}", "story_id": story_id, "dated_at": when,
                "added_at": when, "language": "en",
            })  # fmt: skip
            link_rows.append({"article_id": article_id, "source_id": outlet + 1, "first_seen_at": when})
        story_rows.append({
            "id": story_id, "headline": f"{place}: {topic}", "summary": f"{person} in {place}: {topic}.",
            "first_seen": min(times), "last_seen": max(times), "article_count": size, "outlet_count": size,
            "original_count": size, "syndicated_count": 0, "entities": [place, person], "updated_at": now,
        })  # fmt: skip
        if len(article_rows) >= BATCH:
            _flush(engine, articles, article_sources, stories, article_rows, link_rows, story_rows)
    _flush(engine, articles, article_sources, stories, article_rows, link_rows, story_rows)
    storage.close()
    return article_id


def _flush(engine, articles, article_sources, stories, article_rows, link_rows, story_rows) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as connection:
        if article_rows:
            connection.execute(articles.insert(), article_rows)
            connection.execute(article_sources.insert(), link_rows)
        if story_rows:
            connection.execute(stories.insert(), story_rows)
    article_rows.clear()
    link_rows.clear()
    story_rows.clear()


def serve(data_dir: str, port: int) -> None:
    import uvicorn

    from newsloom.settings import load_settings
    from newsloom.web.app import KEEP_ALIVE_TIMEOUT_S, build_reader, create_app

    reader = build_reader(load_settings(env={"NEWSLOOM_DATA_DIR": data_dir}))
    uvicorn.run(create_app(reader), host="127.0.0.1", port=port, log_level="warning", access_log=False,
                timeout_keep_alive=KEEP_ALIVE_TIMEOUT_S)  # as newsloom serve: no keep-alive race (app.py)


async def hammer(base: str, paths: list[str], clients: int, total: int) -> list[float]:
    import httpx

    latencies: list[float] = []
    queue: asyncio.Queue[str] = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(paths[i % len(paths)])

    async def worker(client: httpx.AsyncClient) -> None:
        while True:
            try:
                path = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            started = time.perf_counter()
            response = await client.get(base + path)
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise RuntimeError(f"{path}: HTTP {response.status_code}")

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=120) as client:
        await asyncio.gather(*(worker(client) for _ in range(clients)))
    return latencies


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=600, help="requests per endpoint (after warm-up)")
    parser.add_argument("--data-dir", help="reuse or create the database here (default: a temp dir)")
    parser.add_argument("--serve", nargs=2, metavar=("DATA_DIR", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]))
        return

    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="newsloom-bench-"))
    db = data_dir / "newsloom.db"
    if not db.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        count = build_database(db, args.articles)
        print(f"built {count} articles in {time.perf_counter() - started:.1f} s at {db}")

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # an int already
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(data_dir), str(port)], env=dict(os.environ))
    base = f"http://127.0.0.1:{port}"
    try:
        import httpx

        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("server did not start")
            time.sleep(0.2)
        top = httpx.get(base + "/api/v1/stories", params={"limit": 30}, timeout=120).json()["items"]
        story_paths = [f"/story/{s['id']}" for s in top]
        search_paths = [f"/search?q={q}" for q in ("flood Valencia", "minister", '"bank rate"', "storm -fire", "Tokyo vote")]
        endpoints = {"/healthz": ["/healthz"], "top stories /": ["/"], "story /story/{id}": story_paths,
                     "search /search?q=": search_paths}  # fmt: skip
        for paths in endpoints.values():  # warm-up: caches (comparisons, ranking) and connection pools
            asyncio.run(hammer(base, paths, min(args.clients, len(paths) * 2), len(paths) * 2))
        results = {}
        for name, paths in endpoints.items():
            started = time.perf_counter()
            latencies = asyncio.run(hammer(base, paths, args.clients, args.requests))
            elapsed = time.perf_counter() - started
            results[name] = (percentile(latencies, 0.5), percentile(latencies, 0.99), len(latencies) / elapsed)
        ref50, ref99, _ = results["/healthz"]
        print(f"{args.articles} articles, {args.clients} concurrent clients, {args.requests} requests per endpoint")
        print(f"{'endpoint':22} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>7} {'p50/ref':>8} {'p99/ref':>8}")
        for name, (p50, p99, rps) in results.items():
            print(f"{name:22} {p50 * 1000:8.1f} {p99 * 1000:8.1f} {rps:7.0f} {p50 / ref50:8.1f} {p99 / ref99:8.1f}")
        print(f"(median of all: {statistics.median(r[0] for r in results.values()) * 1000:.1f} ms)")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
