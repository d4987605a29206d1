"""``newsloom serve --workers N``: real server processes sharing one write count, and ingestion's lower priority."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from newsloom.errors import ConfigError
from newsloom.priority import current_nice, lower_priority
from newsloom.storage import changes
from newsloom.web.server import MAX_AUTO_WORKERS, worker_count
from tests.web.conftest import PASSWORD, add_story, csrf, make_reader

SERVER_START_S = 90  # two fresh interpreters importing the app on a loaded 2-core box
BUMPS = 300
PICK_BADGE = '<p class="badge">Our pick</p>'  # templates/story.html


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def worker_pids(parent: int) -> list[int]:
    """uvicorn's worker processes under ``parent`` (spawned; multiprocessing's resource tracker left out)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError):
            continue
        if ppid == parent and b"spawn_main" in cmdline:
            found.append(int(stat.parent.name))
    return sorted(found)


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    data_dir = tmp_path / "data"
    reader = make_reader(data_dir)
    add_story(reader, "s-small", "Local council votes on budget", [("Gazette", 0.2)])
    reader.create_admin("editor", PASSWORD)
    reader.service.close()
    port = free_port()
    env = {**os.environ, "NEWSLOOM_DATA_DIR": str(data_dir), "TMPDIR": str(tmp_path)}
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "newsloom.cli", "serve", "--port", str(port), "--workers", "2"],
                                   env=env, stdout=out, stderr=out)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_S
        while len(worker_pids(process.pid)) < 2 or not answers(base):
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "newsloom serve --workers 2 did not start"
            time.sleep(0.3)
        yield base, process, tmp_path
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=60)


def answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def test_serve_runs_two_worker_processes_that_share_writes_and_stop_together(
    two_workers: tuple[str, subprocess.Popen[bytes], Path],
) -> None:
    base, process, tmp_path = two_workers
    workers = worker_pids(process.pid)
    assert len(workers) == 2 and process.pid not in workers
    count_files = list(tmp_path.glob("newsloom-writes-*"))
    assert len(count_files) == 1, "the supervisor made one shared write count for its workers"

    with httpx.Client(base_url=base) as admin:
        admin.post("/signin", data={"username": "editor", "password": PASSWORD, "csrf_token": csrf(admin)})
        assert "nl_session" in admin.cookies
        for _ in range(8):  # fresh connections: both workers now hold the anonymous page
            assert PICK_BADGE not in httpx.get(f"{base}/story/s-small").text
        picked = admin.post("/picks", data={"story_id": "s-small", "note": "", "csrf_token": admin.cookies["nl_csrf"]})
        assert picked.status_code in (200, 303)
    # Whichever worker answers, its held page went with the other worker's write.
    for _ in range(8):
        assert PICK_BADGE in httpx.get(f"{base}/story/s-small").text

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 0
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)
    assert not count_files[0].exists()


def _bump_shared(path: str, bumps: int, ready: multiprocessing.synchronize.Barrier) -> None:
    changes.share(path)
    ready.wait()
    for _ in range(bumps):
        changes.bump()


def test_processes_sharing_the_write_count_lose_no_write(tmp_path: Path) -> None:
    path = changes.create_shared_file(str(tmp_path))
    context = multiprocessing.get_context("spawn")  # as uvicorn starts its workers
    ready = context.Barrier(2)
    processes = [context.Process(target=_bump_shared, args=(path, BUMPS, ready)) for _ in range(2)]
    for p in processes:
        p.start()
    for p in processes:
        p.join(timeout=120)
        assert p.exitcode == 0
    reading = subprocess.run(
        [sys.executable, "-c", f"from newsloom.storage import changes; changes.share({path!r}); print(changes.generation())"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert int(reading.stdout) == 2 * BUMPS  # every write of either process moved the one count


def test_worker_count_is_one_per_core_capped_and_refuses_negatives() -> None:
    assert worker_count(3) == 3
    assert 1 <= worker_count(0) <= MAX_AUTO_WORKERS
    assert worker_count(0) == min(len(os.sched_getaffinity(0)), MAX_AUTO_WORKERS)
    with pytest.raises(ConfigError, match="web workers"):
        worker_count(-1)


def test_serve_refuses_a_negative_worker_count_without_a_traceback(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "newsloom.cli", "serve", "--workers", "-1"],
        env={**os.environ, "NEWSLOOM_DATA_DIR": str(tmp_path)}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode != 0 and "Traceback" not in done.stderr and "--workers" in done.stderr


# -- ingestion's priority ------------------------------------------------------------------------------------------


def test_lowering_a_thread_leaves_the_others_and_never_raises_priority() -> None:
    main_before = current_nice()
    seen: dict[str, int] = {}

    def ingest_thread() -> None:
        seen["lowered"] = lower_priority(4)
        seen["unchanged"] = lower_priority(0)  # 0 (or less) never raises it back
        seen["kernel"] = int(Path(f"/proc/self/task/{threading.get_native_id()}/stat").read_text().rsplit(")", 1)[1].split()[16])

    worker = threading.Thread(target=ingest_thread)
    worker.start()
    worker.join()
    expected = min(main_before + 4, 19)
    assert seen == {"lowered": expected, "unchanged": expected, "kernel": expected}
    assert current_nice() == main_before  # the server's threads keep theirs


FORKED_POOL_SCRIPT = """
import asyncio, os, threading
from newsloom.ingest.workpool import WorkPool
from newsloom.priority import current_nice, lower_priority

result = {}
def poller():
    lower_priority(int(os.environ["STEPS"]))
    pool = WorkPool(2)  # forks its parse processes from this thread
    async def ask():
        return [await pool.run(os.getpriority, os.PRIO_PROCESS, 0) for _ in range(4)]
    result["pool"] = asyncio.run(ask())
t = threading.Thread(target=poller); t.start(); t.join()
print(current_nice(), *sorted(set(result["pool"])))
"""


def test_parse_processes_forked_by_a_lowered_poller_inherit_its_priority() -> None:
    wanted = min(current_nice() + 6, 19)
    done = subprocess.run([sys.executable, "-c", FORKED_POOL_SCRIPT], env={**os.environ, "STEPS": "6"},
                          capture_output=True, text=True, timeout=120, check=True)  # fmt: skip
    main_nice, *pool_nices = map(int, done.stdout.split())
    assert main_nice == current_nice() and pool_nices == [wanted]


def test_newsloom_ingest_runs_at_the_ingest_nice_setting(tmp_path: Path) -> None:
    """The real command, watched from outside while it runs (a slow folder: many pages)."""
    pages = tmp_path / "pages"
    pages.mkdir()
    for n in range(60):
        words = " ".join(f"w{n}x{k}" for k in range(400))
        (pages / f"{n}.html").write_text(f"<html><head><title>Page {n}</title></head><body><article><p>{words}.</p>"
                                         f"</article></body></html>")  # fmt: skip
    wanted = min(current_nice() + 7, 19)  # the child starts at this process's nice
    env = {**os.environ, "NEWSLOOM_DATA_DIR": str(tmp_path / "data"), "NEWSLOOM_INGEST_NICE": "7"}
    process = subprocess.Popen([sys.executable, "-m", "newsloom.cli", "ingest", str(pages)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    seen: set[int] = set()
    try:
        while process.poll() is None:
            try:
                seen.add(os.getpriority(os.PRIO_PROCESS, process.pid))
            except OSError:
                break
            time.sleep(0.02)
    finally:
        process.wait(timeout=300)
    assert process.returncode == 0
    assert wanted in seen


def test_web_threads_bounds_the_thread_pool_of_each_process(tmp_path: Path) -> None:
    import anyio.to_thread
    from fastapi.testclient import TestClient

    from newsloom.web.app import create_app

    reader = make_reader(tmp_path / "data", web_threads=3)
    try:
        with TestClient(create_app(reader)) as client:
            tokens = client.portal.call(lambda: anyio.to_thread.current_default_thread_limiter().total_tokens)
            assert tokens == 3
            assert client.get("/article/999").status_code == 404  # pages still run in the smaller pool
    finally:
        reader.service.close()
