"""200 concurrent readers against ``newsloom serve`` on SQLite while ingestion writes, driven by wrk.

    .venv/bin/python bench/load.py --articles 3000 --readers 200 --seconds 60

1. Seeds a temp SQLite database with ``--articles`` synthetic articles and their stories (``bench/web.py``'s
   bulk generator), then starts ``newsloom serve`` on it as deployed: ``--workers`` processes (default: the
   ``web_workers`` setting, one per core), printed with their nice values.
2. Starts an ingester in another process: every ``--ingest-every`` seconds it writes a few new article pages
   to a folder and stores them with ``Service.ingest_paths`` (what ``newsloom ingest`` does: extraction,
   dedupe, clustering, story pages, writes), so reads and writes contend for the database the whole time.
   Like ``newsloom ingest`` it first lowers its priority by the ``ingest_nice`` setting (``--ingest-nice``).
   A ``--warmup`` of the same mix (not counted; its p99 is printed) comes first: a deployed server is warm.
3. wrk (Debian package ``wrk``; C, so the load generator is not the bottleneck, which a Python client on
   the same cores was) keeps ``--readers`` connections busy for ``--seconds`` with a Lua script that picks
   each request from a reader session's mix: top stories, story pages, article pages, search, the JSON API,
   the Atom feeds and ``/healthz``. Every answer that is not 2xx/3xx, every socket error and every timeout
   (``REQUEST_TIMEOUT_S``) counts as an error; the server's log is scanned for tracebacks too.
4. Prints requests/s, p50 and p99 over the mix, then a short wrk run on ``/healthz`` alone under the same
   ingestion for the reference, and exits with status 1 when there was any error. Target: p99 <= 2 s, 0 errors.

Requests go only to 127.0.0.1; wrk is installed (root) or asked for as bench/web.py does.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

BENCH_DIR = Path(__file__).resolve().parent
# wrk gives up on a request after this long and counts a timeout (an error).
REQUEST_TIMEOUT_S = 30.0
TARGET_P99_S = 2.0
SEARCHES = ("flood%20Valencia", "minister", "%22bank%20rate%22", "storm%20-fire", "Tokyo%20vote", "court%20trial")
# The page mix of a reader session: mostly browsing, some searching, a little API and feed polling.
MIX = (
    ("/", 3), ("/story/{story}", 4), ("/article/{article}", 3), ("/search?q={search}", 2),
    ("/api/v1/stories?limit=20", 1), ("/api/v1/stories/{story}", 1), ("/feeds/top.atom", 1),
    ("/feeds/story/{story}.atom", 1), ("/healthz", 2),
)  # fmt: skip
# Distinct paths in the Lua script's table: enough variety that no single page is all the load.
SCRIPT_PATHS = 2000


def _web_bench() -> ModuleType:
    """bench/web.py (its generator and word lists); bench/ is a folder of scripts, not a package."""
    spec = importlib.util.spec_from_file_location("bench_web", BENCH_DIR / "web.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


# -- the ingester (a process of its own) -----------------------------------------------------------------------


def ingest_loop(data_dir: str, seconds: float, every: float, per_round: int) -> None:
    """Store ``per_round`` new article pages every ``every`` seconds until ``seconds`` have passed."""
    from newsloom.priority import lower_priority
    from newsloom.service import Service
    from newsloom.settings import load_settings

    web = _web_bench()
    rng = random.Random(os.getpid())  # new pages each run: a reused data dir already holds earlier runs' texts
    folder = Path(data_dir) / f"incoming-{os.getpid()}"  # a reused data dir keeps earlier runs' files
    service = Service(load_settings(env={**os.environ, "NEWSLOOM_DATA_DIR": data_dir}))
    nice = lower_priority(service.settings.ingest_nice)  # as ``newsloom ingest`` does
    print(f"ingester: pid {os.getpid()}, nice {nice}", flush=True)
    service.init()
    began = time.monotonic()
    deadline = began + seconds
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
    elapsed = max(time.monotonic() - began, 1e-9)
    print(f"ingester: {rounds} rounds, {stored} articles stored in {elapsed:.0f} s ({stored / elapsed:.2f}/s; "
          f"asked for {per_round / every:.2f}/s)", flush=True)  # fmt: skip


# -- the readers ----------------------------------------------------------------------------------------------


def mixed_paths(rng: random.Random, story_ids: list[str], article_ids: list[int], n: int = SCRIPT_PATHS) -> list[str]:
    templates = [t for t, _ in MIX]
    weights = [w for _, w in MIX]
    return [
        rng.choices(templates, weights)[0].format(
            story=rng.choice(story_ids), article=rng.choice(article_ids), search=rng.choice(SEARCHES)
        )
        for _ in range(n)
    ]


def lua_script(paths: list[str]) -> str:
    """A wrk script sending the given paths in a random order, a different one per connection."""
    table = ",\n".join('  "' + p.replace("\\", "\\\\").replace('"', '\\"') + '"' for p in paths)
    return f"""-- generated by bench/load.py
paths = {{
{table}
}}
local counter = 0
function init(args)
  math.randomseed(os.time() + counter)
end
function request()
  counter = counter + 1
  return wrk.format("GET", paths[math.random(#paths)])
end
"""


def server_processes(pid: int) -> list[int]:
    """The processes answering requests: uvicorn's worker processes under ``pid``, or ``pid`` itself."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue  # gone meanwhile
        if int(fields[1]) == pid and b"spawn_main" in cmdline:  # not multiprocessing's resource tracker
            children.append(int(stat.parent.name))
    return sorted(children) or [pid]


def describe_processes(pids: list[int]) -> str:
    nices = sorted({os.getpriority(os.PRIO_PROCESS, p) for p in pids})
    return f"{len(pids)} server process{'es' if len(pids) > 1 else ''} (pids {', '.join(map(str, pids))}), nice {nices}"


def run(args: argparse.Namespace) -> int:
    import httpx

    web = _web_bench()
    wrk = web.ensure_wrk()
    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="newsloom-load-"))
    started = time.perf_counter()
    db = web.ensure_database(data_dir, args.articles)
    print(f"database ready in {time.perf_counter() - started:.1f} s at {db}", flush=True)
    log_path = data_dir / "serve.log"
    settings_env = {}
    if args.workers is not None:
        settings_env["NEWSLOOM_WEB_WORKERS"] = str(args.workers)
    if args.ingest_nice is not None:
        settings_env["NEWSLOOM_INGEST_NICE"] = str(args.ingest_nice)
    server, base = web.start_server(data_dir, log_path, env=settings_env)
    processes = server_processes(server.pid)
    print(f"newsloom serve: {describe_processes(processes)}; load average {os.getloadavg()[0]:.1f}", flush=True)
    ingester = None
    try:
        top = httpx.get(base + "/api/v1/stories", params={"limit": 100}, timeout=300).json()["items"]
        story_ids = [s["id"] for s in top]
        article_ids = list(range(1, args.articles + 1))
        script = data_dir / "mix.lua"
        script.write_text(lua_script(mixed_paths(random.Random(5), story_ids, article_ids)))
        if not args.no_ingest:
            ingester = subprocess.Popen(
                [sys.executable, __file__, "--ingest", str(data_dir), str(args.seconds + 120), str(args.ingest_every),
                 str(args.ingest_batch)],
                env={**os.environ, **settings_env, "NEWSLOOM_DATA_DIR": str(data_dir)},
            )  # fmt: skip
        warm_errors = 0
        if args.warmup > 0:  # a deployed server has served its pages before: measure it warm, say so
            warm = web.run_wrk(wrk, base + "/", threads=2, connections=args.readers, duration_s=args.warmup,
                               script=script, timeout_s=REQUEST_TIMEOUT_S)  # fmt: skip
            print(f"warm-up: the same mix for {args.warmup:g} s, not counted ({warm.requests} requests, "
                  f"p99 {warm.p99_s * 1000:.0f} ms, {warm.errors} errors, counted below)", flush=True)  # fmt: skip
            warm_errors = warm.errors
        mixed = web.run_wrk(wrk, base + "/", threads=2, connections=args.readers, duration_s=args.seconds,
                            script=script, timeout_s=REQUEST_TIMEOUT_S)  # fmt: skip
        ref = web.run_wrk(wrk, base + "/healthz", threads=2, connections=args.readers, duration_s=min(10.0, args.seconds),
                          timeout_s=REQUEST_TIMEOUT_S)  # fmt: skip
        rss = sum(web.peak_rss_mib(p) for p in processes)
        load = os.getloadavg()
    finally:
        if ingester is not None:
            ingester.terminate()  # it finishes its round, reports and exits
            ingester.wait(timeout=120)
        web.stop_server(server)
    log_text = log_path.read_text(errors="replace")
    server_errors = [line for line in log_text.splitlines() if "Traceback" in line or "database is locked" in line]
    errors = warm_errors + mixed.errors + ref.errors + len(server_errors)
    print(f"{args.readers} readers (wrk connections) for {args.seconds:.0f} s against newsloom serve (SQLite, "
          f"{args.articles} seeded articles){'' if args.no_ingest else ', ingestion running'}")  # fmt: skip
    print(f"{'run':22} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}")
    for name, r in (("reader mix", mixed), ("/healthz (reference)", ref)):
        print(f"{name:22} {r.requests:9d} {r.rps:8.0f} {r.p50_s * 1000:8.1f} {r.p99_s * 1000:8.1f} {r.errors:6d}")
    print(f"mix p99 / healthz p99: {mixed.p99_s / ref.p99_s:.2f}; req/s {mixed.rps / ref.rps:.2f}; server peak RSS "
          f"{rss:.0f} MiB (all processes); errors: {errors}")
    print(f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min) on {os.cpu_count()} cores, "
          f"other jobs included")  # fmt: skip
    ok = mixed.p99_s <= TARGET_P99_S and errors == 0
    print(f"target p99 <= {TARGET_P99_S:g} s with 0 errors: {'met' if ok else 'NOT met'}")
    for line in server_errors[:5]:
        print(f"  server log: {line}")
    if errors:
        print(mixed.text)
    return 1 if errors else 0


def build_parser() -> argparse.ArgumentParser:
    """The bench's options; tests parse their own argument lists with it so that they follow new options."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=3000, help="synthetic articles to seed")
    parser.add_argument("--readers", type=int, default=200, help="concurrent readers")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the readers read")
    parser.add_argument("--ingest-every", type=float, default=1.0, help="seconds between ingestion rounds")
    parser.add_argument("--ingest-batch", type=int, default=5, help="new articles per ingestion round")
    parser.add_argument("--no-ingest", action="store_true", help="readers only (a baseline)")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds of the mix before measuring (0: cold)")
    parser.add_argument("--workers", type=int, help="server processes (default: the web_workers setting)")
    parser.add_argument("--ingest-nice", type=int, help="the ingester's nice (default: the ingest_nice setting)")
    parser.add_argument("--data-dir", help="reuse or create the database here (default: a temp dir)")
    parser.add_argument("--ingest", nargs=4, help=argparse.SUPPRESS)
    return parser


def main() -> None:
    args = build_parser().parse_args()
    if args.ingest:
        data_dir, seconds, every, batch = args.ingest
        ingest_loop(data_dir, float(seconds), float(every), int(batch))
        return
    raise SystemExit(run(args))


if __name__ == "__main__":
    main()
