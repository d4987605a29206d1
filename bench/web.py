"""The reader's everyday pages against the same server's /healthz, driven by wrk, at 100k (and 1M) articles.

    .venv/bin/python bench/web.py --articles 100000 [--large 1000000] [--duration 10]

1. Builds a SQLite database of synthetic articles (``--articles``, grouped into stories of 1-22 articles from
   40 outlets, spread over the last 7 days) with bulk ``executemany`` inserts straight into the tables: 100k
   articles take about a minute, where going through ``Service.ingest`` (extraction, dedupe, clustering per
   article) would take hours. The FTS5 index is filled by its triggers as rows go in. Story pages are not
   built by this loader (it bypasses the intake), so each is built on its first view, as after an upgrade.
2. Starts one ``newsloom serve`` on it (one uvicorn process, as deployed), requests every path once (the
   warm-up builds the story page), then runs wrk (Debian package ``wrk``: ``--threads`` 2, ``--connections``
   20, ``--duration`` 10 s, latency percentiles) on each path in turn: ``/healthz`` (the reference: the
   server's floor), a story page of about 20 articles, ``/?q=minister`` (search), ``/`` (top stories) and
   ``/api/v1/stories`` (an API list).
3. Prints each path's requests/s and p99, their ratios to /healthz, the targets, and the server's peak RSS.
   With ``--large N`` it builds a second database of N articles and measures the story page there too: the
   cost of one view (1 / req/s) at N articles over its cost at ``--articles``.

wrk is found on PATH; when it is missing the bench installs Debian's package if it runs as root, else it says
how to install it and exits with status 2. Absolute figures drift between machines; the ratios are the result.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
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


def build_database(path: Path, n_articles: int, seed: int = 7, *, span_days: float = 7.0) -> int:
    """Bulk-insert synthetic sources, articles, links and stories over the last ``span_days``; returns how many
    articles."""
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
        size = min(n_articles - article_id, rng.choice([1, 1, 1, 2, 2, 3, 4, 6, 8, 12, 15, 20, 22]))
        start = now - timedelta(hours=rng.uniform(0, 24 * span_days))
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
                "added_at": when, "language": "en", "snippet": sentences[0][:240],
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


# -- wrk ---------------------------------------------------------------------------------------------------------

WRK_INSTALL_HINT = "wrk is not installed: run `sudo apt-get install wrk` (Debian/Ubuntu), then run the bench again"
_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def ensure_wrk() -> str:
    """The wrk binary; installs Debian's package when missing and running as root, else exits with a hint."""
    found = shutil.which("wrk")
    if found:
        return found
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        print("installing wrk (apt-get install wrk) ...", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-q"], check=False, env=env, stdout=subprocess.DEVNULL)
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False, env=env, stdout=subprocess.DEVNULL)
        found = shutil.which("wrk")
        if found:
            return found
    print(WRK_INSTALL_HINT, file=sys.stderr)
    raise SystemExit(2)


@dataclass(frozen=True)
class WrkResult:
    requests: int
    rps: float
    p50_s: float
    p99_s: float
    errors: int  # socket errors (connect, read, write, timeout) and non-2xx/3xx answers
    text: str


def _seconds(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value.strip())
    if match is None:
        raise ValueError(f"unparseable wrk latency {value!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(text: str) -> WrkResult:
    """wrk's ``--latency`` report as numbers."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", text).group(1))  # type: ignore[union-attr]
    p50 = _seconds(re.search(r"\n\s+50%\s+(\S+)", text).group(1))  # type: ignore[union-attr]
    p99 = _seconds(re.search(r"\n\s+99%\s+(\S+)", text).group(1))  # type: ignore[union-attr]
    errors = 0
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if non_2xx:
        errors += int(non_2xx.group(1))
    return WrkResult(requests, rps, p50, p99, errors, text)


def run_wrk(
    wrk: str, url: str, *, threads: int, connections: int, duration_s: float, script: Path | None = None,
    timeout_s: float = 10.0,
) -> WrkResult:
    command = [wrk, f"--threads={threads}", f"--connections={connections}", f"--duration={duration_s:g}s",
               f"--timeout={timeout_s:g}s", "--latency"]  # fmt: skip
    if script is not None:
        command += ["--script", str(script)]
    done = subprocess.run([*command, url], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    return parse_wrk(done.stdout)


# -- the server --------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def newsloom_command() -> list[str]:
    script = shutil.which("newsloom", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "newsloom.cli"]


def start_server(data_dir: Path, log_path: Path, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """``newsloom serve`` on a free loopback port, waited for until /healthz answers."""
    import httpx

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    environment = {**os.environ, "NEWSLOOM_DATA_DIR": str(data_dir), **(env or {})}
    with open(log_path, "ab") as log:
        server = subprocess.Popen(
            [*newsloom_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=environment, stdout=log, stderr=log,
        )  # fmt: skip
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"newsloom serve exited early; see {log_path}")
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return server, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.kill()
    raise SystemExit("newsloom serve did not start")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    server.send_signal(2)  # SIGINT: uvicorn's graceful stop
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident set (VmHWM) so far, in MiB (Linux)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def story_of_size(db: Path, size: int = 20) -> str:
    """The most recently seen story with about ``size`` articles (the page the issue measures)."""
    with sqlite3.connect(db) as connection:
        row = connection.execute(
            "SELECT id FROM stories ORDER BY abs(article_count - ?), last_seen DESC LIMIT 1", (size,)
        ).fetchone()
    return str(row[0])


def ensure_database(data_dir: Path, articles: int) -> Path:
    db = data_dir / "newsloom.db"
    if not db.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        count = build_database(db, articles)
        print(f"built {count} articles in {time.perf_counter() - started:.1f} s at {db}", flush=True)
    return db


# -- the run -----------------------------------------------------------------------------------------------------

# Targets of issue 13, as ratios to /healthz measured in the same run.
TARGET_RPS_RATIO = 0.5  # story page and search: at least half of /healthz's requests/s
TARGET_P99_RATIO = 3.0  # and a p99 at most three times /healthz's
TARGET_LARGE_COST = 1.5  # the same story page at 1M articles costs at most 1.5 times its cost at 100k


@dataclass(frozen=True)
class PathResult:
    path: str
    result: WrkResult
    reference: WrkResult  # /healthz measured just before it: the machine's state drifts between runs


def measure(data_dir: Path, args: argparse.Namespace, wrk: str, paths: dict[str, str]) -> tuple[dict[str, PathResult], float]:
    import httpx

    server, base = start_server(data_dir, data_dir / "serve.log")
    results: dict[str, PathResult] = {}
    try:
        for name, path in paths.items():  # warm-up: the story page is built on its first view
            started = time.perf_counter()
            response = httpx.get(base + path, timeout=300)
            if response.status_code != 200:
                raise SystemExit(f"{path}: HTTP {response.status_code}")
            print(f"  first view of {name:12} {(time.perf_counter() - started) * 1000:8.1f} ms  {path}", flush=True)

        def wrk_on(path: str) -> WrkResult:
            return run_wrk(wrk, base + path, threads=args.threads, connections=args.connections, duration_s=args.duration)

        for name, path in paths.items():
            reference = wrk_on("/healthz")
            results[name] = PathResult(path, wrk_on(path), reference)
        rss = peak_rss_mib(server.pid)
    finally:
        stop_server(server)
    return results, rss


def report(title: str, results: dict[str, PathResult], rss: float, args: argparse.Namespace) -> None:
    print(f"\n{title}: wrk {args.threads} threads, {args.connections} connections, {args.duration:g} s per run; "
          "each path right after its own /healthz run (the reference)")  # fmt: skip
    print(f"{'path':12} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'ref req/s':>9} {'ref p99':>7} "
          f"{'req/s / ref':>11} {'p99 / ref':>9} {'errors':>6}")  # fmt: skip
    for name, pr in results.items():
        r, ref = pr.result, pr.reference
        print(f"{name:12} {r.rps:7.0f} {r.p50_s * 1000:7.1f} {r.p99_s * 1000:7.1f} {ref.rps:9.0f} {ref.p99_s * 1000:7.1f} "
              f"{r.rps / ref.rps:11.2f} {r.p99_s / ref.p99_s:9.2f} {r.errors + ref.errors:6d}")  # fmt: skip
    print(f"server peak RSS: {rss:.0f} MiB")
    for name in ("story page", "search"):
        if name not in results:
            continue
        r, ref = results[name].result, results[name].reference
        ok = r.rps / ref.rps >= TARGET_RPS_RATIO and r.p99_s / ref.p99_s <= TARGET_P99_RATIO
        print(f"target {name}: req/s >= {TARGET_RPS_RATIO}x and p99 <= {TARGET_P99_RATIO}x of /healthz: "
              f"{'met' if ok else 'NOT met'}")  # fmt: skip


def cost(results: dict[str, PathResult], name: str) -> float:
    """One view's cost in units of a /healthz answer measured beside it (1 / req/s over 1 / ref req/s)."""
    return results[name].reference.rps / results[name].result.rps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--large", type=int, default=0, help="also measure the story page at this many articles")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of wrk per path")
    parser.add_argument("--data-dir", help="reuse or create the database here (default: a temp dir)")
    parser.add_argument("--large-data-dir", help="the same for --large")
    parser.add_argument("--build-only", action="store_true", help="build the database(s) and stop")
    args = parser.parse_args()
    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="newsloom-bench-"))
    db = ensure_database(data_dir, args.articles)
    if args.build_only:
        return
    wrk = ensure_wrk()
    story = story_of_size(db)
    paths = {"healthz": "/healthz", "story page": f"/story/{story}", "search": "/?q=minister", "top stories": "/",
             "api list": "/api/v1/stories?limit=20"}  # fmt: skip
    results, rss = measure(data_dir, args, wrk, paths)
    report(f"{args.articles} articles (story {story})", results, rss, args)
    if args.large:
        large_dir = Path(args.large_data_dir or tempfile.mkdtemp(prefix="newsloom-bench-large-"))
        large_db = ensure_database(large_dir, args.large)
        large_story = story_of_size(large_db)
        large_paths = {"story page": f"/story/{large_story}", "search": "/?q=minister"}
        large, large_rss = measure(large_dir, args, wrk, large_paths)
        report(f"{args.large} articles (story {large_story})", large, large_rss, args)
        # Each view's cost against the /healthz run beside it, so drift between the two servers' runs cancels.
        growth = cost(large, "story page") / cost(results, "story page")
        print(f"story page cost at {args.large} / at {args.articles} articles (each against its /healthz): "
              f"{growth:.2f} (target <= {TARGET_LARGE_COST}: {'met' if growth <= TARGET_LARGE_COST else 'NOT met'})")  # fmt: skip


if __name__ == "__main__":
    main()
