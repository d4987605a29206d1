"""How long a service start takes to reload its story engine from a large database.

A start replays the stored assignments into the in-memory indexes (``Intake``): the articles of the story
engine's follow-up window (``follow_up_days``, 60; the newest ``RELOAD_MAX_ARTICLES`` of it, or the whole word
window when that holds more), so that stories kept open for follow-ups by their event signature are open again; the near-duplicate
and originality indexes get the word window's (7 days) only.
The reference, measured in the same run on the same database, is the reload of the word window alone (what a
start did before). The database is bench/web.py's synthetic one, its stories spread over ``--span-days``.

    .venv/bin/python bench/reload.py --articles 100000 --span-days 90 --data-dir /tmp/nlreload-100k
"""

from __future__ import annotations

import argparse
import functools
import resource
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent))

from newsloom.ingest import intake as intake_module
from newsloom.settings import load_settings
from newsloom.storage import open_storage
from newsloom.stories.storymodel import EngineConfig
from web import build_database


def reload_once(db: Path, *, follow_up_days: float | None, cap: int | None = None) -> tuple[float, int, int]:
    """Seconds to build an Intake (the start-up reload), articles replayed, stories open afterwards."""
    settings = load_settings(env={"NEWSLOOM_DATA_DIR": str(db.parent)})
    storage = open_storage(f"sqlite:///{db}")
    config = EngineConfig if follow_up_days is None else functools.partial(EngineConfig, follow_up_days=follow_up_days)
    try:
        budget = intake_module.RELOAD_MAX_ARTICLES if cap is None else cap
        with mock.patch.object(intake_module, "EngineConfig", config), \
                mock.patch.object(intake_module, "RELOAD_MAX_ARTICLES", budget):
            started = time.perf_counter()
            intake = intake_module.Intake(storage, settings, now=datetime.now(UTC))
            seconds = time.perf_counter() - started
        engine = intake.engine
        opened = sum(1 for story_id in engine.story_ids() if engine._stories[story_id].open)  # bench: a count only
        return seconds, engine._arrivals, opened
    finally:
        storage.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--span-days", type=float, default=90.0, help="stories start anywhere in this many days")
    parser.add_argument("--data-dir", required=True, help="reuse or create the database here")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--uncapped", action="store_true", help="also reload the whole follow-up window")
    args = parser.parse_args()
    data = Path(args.data_dir)
    db = data / "newsloom.db"
    if not db.exists():
        data.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        build_database(db, args.articles, span_days=args.span_days)
        print(f"built {args.articles} articles over {args.span_days:g} days in {time.perf_counter() - started:.0f} s")
    window = EngineConfig().window_days
    for run in range(args.repeat):
        ref_s, ref_n, ref_open = reload_once(db, follow_up_days=window)
        new_s, new_n, new_open = reload_once(db, follow_up_days=None)
        print(f"run {run + 1}: word window only {ref_s:.1f} s ({ref_n} articles, {ref_open} stories open); "
              f"follow-up window, capped at {intake_module.RELOAD_MAX_ARTICLES} articles, {new_s:.1f} s "
              f"({new_n} articles, {new_open} open); ratio {new_s / ref_s:.2f}x; "
              f"per article {1000 * ref_s / max(ref_n, 1):.2f} / {1000 * new_s / max(new_n, 1):.2f} ms", flush=True)
        if args.uncapped:
            all_s, all_n, all_open = reload_once(db, follow_up_days=None, cap=10**9)
            print(f"run {run + 1}: follow-up window uncapped {all_s:.1f} s ({all_n} articles, {all_open} open); "
                  f"ratio {all_s / ref_s:.2f}x", flush=True)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {rss:.0f} MiB; since = now - {timedelta(days=EngineConfig().follow_up_days).days} days")


if __name__ == "__main__":
    main()
