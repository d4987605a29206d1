"""Worker processes for tests and benchmarks: real `newsloom worker` subprocesses, each in its own session.

Each worker leads a process group (its prefork pool and its assigner are in it), so one ``os.killpg`` with
SIGKILL takes the whole worker down at once, the way a machine failure would.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import psycopg

NEWSLOOM = [sys.executable, "-m", "newsloom.cli"]


def start_worker(env: Mapping[str, str], *, concurrency: int, log_path: Path, queues: str | None = None) -> subprocess.Popen[bytes]:
    command = [*NEWSLOOM, "worker", "--concurrency", str(concurrency)]
    if queues:
        command += ["--queues", queues]
    log = log_path.open("wb")
    return subprocess.Popen(
        command, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the worker and every process it started."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def stop_group(process: subprocess.Popen[bytes], timeout_s: float = 15.0) -> None:
    """SIGTERM (warm shutdown), then SIGKILL whatever is left of the group."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=timeout_s)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def libpq(url: str) -> str:
    """A psycopg connection string for a SQLAlchemy PostgreSQL URL (search_path option kept)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def article_counts(url: str) -> tuple[int, int]:
    """(articles stored, articles without a story)."""
    with psycopg.connect(libpq(url)) as connection:
        row = connection.execute("SELECT count(*), count(*) FILTER (WHERE story_id IS NULL) FROM articles").fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def wait_until(predicate, timeout_s: float, interval_s: float = 0.5) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval_s)
    return bool(predicate())
