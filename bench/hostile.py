"""Time and peak memory of one ``Service.update`` against each hostile server of tests/hostile/servers.py.

Every case subscribes one good feed and one hostile feed on a loopback server started here (never the
internet), runs one update, and prints: wall time, peak traced Python memory (tracemalloc), the growth of
the process' max RSS, the error recorded on the hostile source, and whether the good feed still got its
articles. The reference is the same update with two good feeds, measured in the same run; the ratio column
is case time / reference time (the bounded cases sit near total_timeout / reference). A warm-up update
runs first: the first update of a process imports the story stage lazily (~28 MiB, seconds).

Usage: .venv/bin/python bench/hostile.py [--body-limit 10000000] [--total-timeout 5] [--read-timeout 2]
       [--case NAME ...]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # the hostile servers are shared with the CI tests

from tests.hostile.servers import HOSTILE_CASES, HostileCase, good_feed  # noqa: E402
from tests.loopback import LoopbackServer  # noqa: E402

from newsloom.service import Service  # noqa: E402
from newsloom.settings import load_settings  # noqa: E402
from newsloom.types import OpmlOutline  # noqa: E402


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_case(case: HostileCase | None, args: argparse.Namespace) -> dict[str, object]:
    server = LoopbackServer().start()
    try:
        good = server.add("/good.xml", good_feed(server.base_url), headers={"Content-Type": "application/rss+xml"})
        other = (
            case.install(server)
            if case
            else server.add("/good2.xml", good_feed(server.base_url, "two"), headers={"Content-Type": "application/rss+xml"})
        )
        with tempfile.TemporaryDirectory() as folder:
            settings = load_settings(
                env={}, data_dir=folder, allow_private_networks=True, per_host_delay_s=0.0, per_host_concurrency=16,
                connect_timeout_s=args.connect_timeout, read_timeout_s=args.read_timeout,
                total_timeout_s=args.total_timeout, max_body_bytes=args.body_limit,
                fetch_article_pages=False, respect_robots=False,
            )
            with Service(settings) as svc:
                svc.subscribe([OpmlOutline(good), OpmlOutline(other)])
                _ = svc.storage
                rss_before = max_rss_mb()
                tracemalloc.start()
                started = time.monotonic()
                crashed = None
                try:
                    svc.update(all_sources=True)
                except Exception as exc:  # a finding: update() must never raise for one bad source
                    crashed = f"{type(exc).__name__}: {exc}"
                seconds = time.monotonic() - started
                _, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
                hostile = svc.resolve_source(other)
                good_source = svc.resolve_source(good)
                return {
                    "case": case.name if case else "reference (two good feeds)",
                    "seconds": seconds,
                    "peak_mib": peak / 2**20,
                    "rss_growth_mib": max_rss_mb() - rss_before,
                    "error": crashed or hostile.last_error or "-",
                    "good_articles": len(svc.articles(source=str(good_source.id))),
                }
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--body-limit", type=int, default=10_000_000, help="max_body_bytes (default: the shipped 10 MB)")
    parser.add_argument("--connect-timeout", type=float, default=2.0)
    parser.add_argument("--read-timeout", type=float, default=2.0)
    parser.add_argument("--total-timeout", type=float, default=5.0)
    parser.add_argument("--case", action="append", help="run only these cases")
    args = parser.parse_args()

    run_case(None, args)  # warm-up: the first update of a process imports the story stage lazily
    reference = run_case(None, args)
    ref_s = float(reference["seconds"])  # type: ignore[arg-type]
    print(f"settings: body limit {args.body_limit:,} B, read timeout {args.read_timeout} s, total timeout {args.total_timeout} s")
    print(f"{'case':28} {'seconds':>8} {'ratio':>7} {'peak MiB':>9} {'RSS+ MiB':>9} {'good':>5}  error recorded")
    rows = [reference] + [run_case(c, args) for c in HOSTILE_CASES if not args.case or c.name in args.case]
    for row in rows:
        print(
            f"{row['case']:28} {row['seconds']:8.2f} {float(row['seconds']) / ref_s:7.1f} "  # type: ignore[arg-type]
            f"{row['peak_mib']:9.1f} {row['rss_growth_mib']:9.1f} {row['good_articles']:>5}  {str(row['error'])[:90]}"
        )


if __name__ == "__main__":
    main()
