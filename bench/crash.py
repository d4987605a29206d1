"""Crash safety under load: ``newsloom ingest FOLDER`` SIGKILLed 50 times at random moments, checked after each.

The corpus and the loop are those of the CI test (tests/hostile/test_crash_safety.py), bigger: several hundred
.txt articles by many outlets on many events, with near and exact syndicated copies. Each kill freezes the
process (SIGSTOP), records whether it was inside a write transaction, then SIGKILLs it; after each kill the
database must pass ``PRAGMA integrity_check``, ``PRAGMA foreign_key_check``, the FTS5 integrity check and the
story and exactly-once checks. Then one run finishes, and a second one must store nothing.

Reference measured in the same run: one uninterrupted ingest of the same corpus into a fresh database. Printed:
kills by phase (how many landed mid-write), restarts, checks passed, time of the crash loop as a ratio of the
reference, and how much the crash run's stories agree with the reference's (pairwise F1 over articles: the
in-memory story index is rebuilt from the database on each restart, so clustering may differ slightly).

Usage:
  nice -n 10 .venv/bin/python bench/crash.py --kills 50 --outlets 24 --events 30
  .venv/bin/python bench/crash.py --kills 50 --pg postgresql://postgres@127.0.0.1:5432/test   # PostgreSQL
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # the corpus and the loop live with the CI test

from tests.hostile.test_crash_safety import (  # noqa: E402 - after the path set-up
    PHASES,
    Corpus,
    CrashRun,
    PostgresTarget,
    SqliteTarget,
    Target,
    cli_env,
    crash_loop,
    make_corpus,
    run_ingest,
    summary_counts,
)


def story_pairs(target: Target) -> set[tuple[str, str]]:
    """Pairs of canonical URLs that share a story."""
    members: dict[str, list[str]] = defaultdict(list)
    for url, story in target.rows("SELECT canonical_url, story_id FROM articles"):
        members[story].append(url)
    return {pair for urls in members.values() for pair in itertools.combinations(sorted(urls), 2)}


def pair_f1(found: set[tuple[str, str]], reference: set[tuple[str, str]]) -> float:
    if not found and not reference:
        return 1.0
    both = len(found & reference)
    return 2 * both / (len(found) + len(reference)) if found or reference else 1.0


def make_target(kind_url: str | None, data_dir: Path) -> tuple[Target, object]:
    """A target and its clean-up handle (a PostgreSQL schema to drop, or None)."""
    if kind_url is None:
        return SqliteTarget(data_dir), None
    import psycopg
    from tests.storage.conftest import with_search_path

    schema = f"newsloom_crashbench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(kind_url, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    return PostgresTarget(with_search_path(kind_url, schema)), schema


def drop(kind_url: str | None, schema: object) -> None:
    if kind_url is None or schema is None:
        return
    import psycopg

    with psycopg.connect(kind_url, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def reference_ingest(corpus: Corpus, work: Path, pg: str | None) -> tuple[float, set[tuple[str, str]]]:
    target, schema = make_target(pg, work / "reference")
    try:
        started = time.monotonic()
        counts = summary_counts(run_ingest(corpus.root, cli_env(work / "reference", target.database_url), 3600))
        seconds = time.monotonic() - started
        state = target.check(corpus, final=True)
        print(f"reference: one uninterrupted ingest {seconds:.1f} s, {counts[0]} stored, {state.stories} stories, "
              f"{state.redirects} merges, {state.copies} syndicated copies linked")
        return seconds, story_pairs(target)
    finally:
        drop(pg, schema)


def report(run: CrashRun, corpus: Corpus, reference_s: float, agreement: float) -> None:
    phases = run.phases()
    restarts = len(run.kills) + 2  # each kill is followed by a start; then the final run and the re-ingest
    landed = [k for k in run.kills if k.articles_after > k.articles_before]
    print(f"kills: {len(run.kills)}; by phase: " + ", ".join(f"{p} {phases[p]}" for p in PHASES))
    print(f"mid-write kills: {phases['mid-write']} ({phases['mid-write'] / max(1, len(run.kills)):.0%}); "
          f"migrating: {phases['migrating']}; kills after progress: {len(landed)}")
    print(f"restarts: {restarts}; database checks passed: {run.checks_passed} of {len(run.kills) + 2}")
    print(f"final run: {run.final_counts[0]} stored, {run.final_counts[1]} already stored, {run.final_counts[2]} "
          f"skipped; re-ingest: {run.rerun_counts[0]} stored")
    print(f"final database: {len(run.final_state.urls)} articles (expected {len(corpus.stored_urls)}), "
          f"{run.final_state.stories} stories, {run.final_state.redirects} merges, {run.final_state.copies} copies")
    print(f"crash loop: {run.seconds:.1f} s = {run.seconds / reference_s:.1f}x one uninterrupted ingest "
          f"({reference_s:.1f} s)")
    print(f"story agreement with the uninterrupted run (pairwise F1): {agreement:.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--outlets", type=int, default=24)
    parser.add_argument("--events", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pg", help="PostgreSQL server URL (a fresh schema is made and dropped); default SQLite")
    parser.add_argument("--work", type=Path, help="working folder (default: a temporary one, removed)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="newsloom-crash-") as temporary:
        work = args.work or Path(temporary)
        work.mkdir(parents=True, exist_ok=True)
        corpus = make_corpus(work / "corpus", outlets=args.outlets, events=args.events, seed=args.seed)
        print(f"corpus: {len(corpus.expected)} files by {args.outlets} outlets on {args.events} events; "
              f"{corpus.near_copies} near copies, {corpus.exact_copies} exact copies; "
              f"{len(corpus.stored_urls)} articles expected")
        reference_s, reference_pairs = reference_ingest(corpus, work, args.pg)
        target, schema = make_target(args.pg, work / "data")
        try:
            run = crash_loop(corpus, target, work, kills=args.kills, seed=args.seed)
            agreement = pair_f1(story_pairs(target), reference_pairs)
        finally:
            drop(args.pg, schema)
        report(run, corpus, reference_s, agreement)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
