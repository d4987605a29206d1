"""Many concurrent readers against ``newsloom serve`` on SQLite while ingestion writes: errors, throughput, p99.

    .venv/bin/python bench/load.py --articles 3000 --readers 200 --seconds 60

1. Seeds a temp SQLite database with ``--articles`` synthetic articles and their stories (``bench/web.py``'s
   bulk generator), then starts ``newsloom serve`` on it as a subprocess (one uvicorn worker, as deployed).
2. Starts an ingester in another process: every ``--ingest-every`` seconds it writes a few new article pages
   to a folder and stores them with ``Service.ingest_paths`` (what ``newsloom ingest`` does: extraction,
   dedupe, clustering, writes), so reads and writes contend for the database the whole time.
3. ``--readers`` asyncio tasks (one shared httpx.AsyncClient, a connection each) request pages back to back
   for ``--seconds``: top stories, story pages, article pages, search, the JSON API and the Atom feeds, plus
   ``/healthz``, the reference. Every response that is not 2xx/3xx, every timeout and every connection error
   counts as an error; the server's log is scanned for tracebacks too.
4. Prints requests per second, p50/p99 per page and p50 against /healthz's p50 under the same load (ratios
   travel across machines better than milliseconds), and exits with status 1 when there was any error.

Requests go only to 127.0.0.1; every request has a timeout, and the run ends after ``--seconds``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

BENCH_DIR = Path(__file__).resolve().parent
# A request slower than this counts as an error: 200 readers on the shared 2-core dev box (load generator,
# ingester and server on the same cores) gave a p99 of 17-20 s, all queueing; 60 s means a stuck request.
REQUEST_TIMEOUT_S = 60.0
SEARCHES = ("flood Valencia", "minister", '"bank rate"', "storm -fire", "Tokyo vote", "court trial", "ceasefire talks")
# The page mix of a reader session: mostly browsing, some searching, a little API and feed polling.
MIX = (
    ("top /", 3), ("story /story/{id}", 4), ("article /article/{id}", 3), ("search /search?q=", 2),
    ("api /api/v1/stories", 1), ("api /api/v1/stories/{id}", 1), ("atom /feeds/top.atom", 1),
    ("atom /feeds/story/{id}.atom", 1), ("/healthz (reference)", 2),
)  # fmt: skip


def _web_bench() -> ModuleType:
    """bench/web.py (its generator and word lists); bench/ is a folder of scripts, not a package."""
    spec = importlib.util.spec_from_file_location("bench_web", BENCH_DIR / "web.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- the ingester (a process of its own) -----------------------------------------------------------------------


def ingest_loop(data_dir: str, seconds: float, every: float, per_round: int) -> None:
    """Store ``per_round`` new article pages every ``every`` seconds until ``seconds`` have passed."""
    from newsloom.service import Service
    from newsloom.settings import load_settings

    web = _web_bench()
    rng = random.Random(11)
    folder = Path(data_dir) / "incoming"
    service = Service(load_settings(env={"NEWSLOOM_DATA_DIR": data_dir}))
    service.init()
    deadline = time.monotonic() + seconds
    stopping: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.append(signum))  # the readers are done
    stored = rounds = 0
    try:
        while time.monotonic() < deadline and not stopping:
            started = time.monotonic()
            batch = folder / f"round-{rounds}"
            batch.mkdir(parents=True)
            for n in range(per_round):
                place, person = rng.choice(web.PLACES), rng.choice(web.PEOPLE)
                topic = " ".join(rng.sample(web.WORDS, 4))
                paragraphs = "".join(
                    f"<p>{place} {topic} {' '.join(rng.sample(web.WORDS, 10))}, {person} said on round {rounds}.</p>"
                    for _ in range(10)
                )
                (batch / f"{n}.html").write_text(
                    f"<html><head><title>{place}: {topic}</title></head><body><article><h1>{place}: {topic}</h1>"
                    f"{paragraphs}</article></body></html>"
                )
            report = service.ingest_paths([str(batch)])
            stored += len(report.stored)
            rounds += 1
            pause_until = started + every
            while time.monotonic() < pause_until and not stopping:
                time.sleep(0.05)
    finally:
        service.close()
    print(f"ingester: {rounds} rounds, {stored} articles stored", flush=True)


# -- the readers ----------------------------------------------------------------------------------------------


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))


def _path(kind: str, rng: random.Random, story_ids: list[str], article_ids: list[int]) -> str:
    story, article = rng.choice(story_ids), rng.choice(article_ids)
    return {
        "top /": "/",
        "story /story/{id}": f"/story/{story}",
        "article /article/{id}": f"/article/{article}",
        "search /search?q=": f"/search?q={rng.choice(SEARCHES)}",
        "api /api/v1/stories": "/api/v1/stories?limit=20",
        "api /api/v1/stories/{id}": f"/api/v1/stories/{story}",
        "atom /feeds/top.atom": "/feeds/top.atom",
        "atom /feeds/story/{id}.atom": f"/feeds/story/{story}.atom",
        "/healthz (reference)": "/healthz",
    }[kind]


async def read_for(base: str, readers: int, seconds: float, story_ids: list[str], article_ids: list[int]) -> Tally:
    import httpx

    tally = Tally()
    kinds = [kind for kind, _ in MIX]
    weights = [weight for _, weight in MIX]
    deadline = time.monotonic() + seconds

    async def reader(n: int, client: httpx.AsyncClient) -> None:
        rng = random.Random(n)
        while time.monotonic() < deadline:
            kind = rng.choices(kinds, weights)[0]
            path = _path(kind, rng, story_ids, article_ids)
            started = time.perf_counter()
            try:
                response = await client.get(base + path)
            except httpx.HTTPError as exc:
                tally.errors[kind].append(f"{path}: {type(exc).__name__} {exc}")
                continue
            tally.latencies[kind].append(time.perf_counter() - started)
            if response.status_code >= 400:
                tally.errors[kind].append(f"{path}: HTTP {response.status_code}")

    limits = httpx.Limits(max_connections=readers, max_keepalive_connections=readers)
    async with httpx.AsyncClient(limits=limits, timeout=REQUEST_TIMEOUT_S, follow_redirects=False) as client:
        await asyncio.gather(*(reader(n, client) for n in range(readers)))
    return tally


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(base: str, server: subprocess.Popen[bytes], timeout_s: float = 120) -> None:
    import httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("newsloom serve exited early; see its log")
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("newsloom serve did not start")


def newsloom_command() -> list[str]:
    script = shutil.which("newsloom", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "newsloom.cli"]


def run(args: argparse.Namespace) -> int:
    import httpx

    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="newsloom-load-"))
    db = data_dir / "newsloom.db"
    if not db.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        count = _web_bench().build_database(db, args.articles)
        print(f"seeded {count} articles in {time.perf_counter() - started:.1f} s at {db}", flush=True)
    env = {**os.environ, "NEWSLOOM_DATA_DIR": str(data_dir)}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = data_dir / "serve.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [*newsloom_command(), "serve", "--host", "127.0.0.1", "--port", str(port)], env=env, stdout=log, stderr=log
        )
    ingester = None
    try:
        wait_until_up(base, server)
        top = httpx.get(base + "/api/v1/stories", params={"limit": 100}, timeout=120).json()["items"]
        story_ids = [s["id"] for s in top]
        article_ids = list(range(1, args.articles + 1))
        if not args.no_ingest:
            ingester = subprocess.Popen(
                [sys.executable, __file__, "--ingest", str(data_dir), str(args.seconds + 60), str(args.ingest_every),
                 str(args.ingest_batch)],
                env=env,
            )  # fmt: skip
        started = time.perf_counter()
        tally = asyncio.run(read_for(base, args.readers, args.seconds, story_ids, article_ids))
        elapsed = time.perf_counter() - started
    finally:
        if ingester is not None:
            ingester.terminate()  # it finishes its round, reports and exits
            ingester.wait(timeout=120)
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    log_text = log_path.read_text(errors="replace")
    server_errors = [line for line in log_text.splitlines() if "Traceback" in line or "database is locked" in line]
    total = sum(len(v) for v in tally.latencies.values())
    errors = sum(len(v) for v in tally.errors.values()) + len(server_errors)
    ref = statistics.median(tally.latencies["/healthz (reference)"] or [float("nan")])
    print(f"{args.readers} readers for {args.seconds:.0f} s against newsloom serve (SQLite, {args.articles} seeded "
          f"articles){'' if args.no_ingest else ', ingestion running'}")  # fmt: skip
    print(f"{'page':30} {'requests':>8} {'errors':>6} {'p50 ms':>8} {'p99 ms':>8} {'p50/ref':>7}")
    for kind, _ in MIX:
        values = tally.latencies.get(kind, [])
        p50 = percentile(values, 0.5)
        print(f"{kind:30} {len(values):8} {len(tally.errors.get(kind, [])):6} {p50 * 1000:8.1f} "
              f"{percentile(values, 0.99) * 1000:8.1f} {p50 / ref:7.1f}")  # fmt: skip
    every = [v for values in tally.latencies.values() for v in values]
    print(f"total: {total} requests in {elapsed:.1f} s = {total / elapsed:.1f} req/s; "
          f"p50 {percentile(every, 0.5) * 1000:.0f} ms, p99 {percentile(every, 0.99) * 1000:.0f} ms; errors: {errors}")  # fmt: skip
    for kind, messages in tally.errors.items():
        for message in messages[:3]:
            print(f"  error {kind}: {message}")
    for line in server_errors[:5]:
        print(f"  server log: {line}")
    return 1 if errors else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=3000, help="synthetic articles to seed")
    parser.add_argument("--readers", type=int, default=200, help="concurrent readers")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the readers read")
    parser.add_argument("--ingest-every", type=float, default=1.0, help="seconds between ingestion rounds")
    parser.add_argument("--ingest-batch", type=int, default=5, help="new articles per ingestion round")
    parser.add_argument("--no-ingest", action="store_true", help="readers only (a baseline)")
    parser.add_argument("--data-dir", help="reuse or create the database here (default: a temp dir)")
    parser.add_argument("--ingest", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ingest:
        data_dir, seconds, every, batch = args.ingest
        ingest_loop(data_dir, float(seconds), float(every), int(batch))
        return
    raise SystemExit(run(args))


if __name__ == "__main__":
    main()
