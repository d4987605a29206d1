"""``newsloom serve``: the web app under uvicorn, in one process or in ``--workers N`` processes.

One Python process runs one request at a time on one core however many cores the machine has, so a server
with several cores runs several: uvicorn's supervisor binds the socket once and starts ``workers`` processes
that accept on it, restarting any that dies. Each process has its own database connections and its own
memory (held pages, the ranking); they share one write count (``storage.changes.share``), so a write one of
them answered is never hidden by a page another holds, as within one process. The database is opened
(migrated) and the secret key created once, here, before the processes start, so that they never race on it.

Each worker process reads the settings as the command did (``NEWSLOOM_*`` environment and the settings file,
passed on as ``NEWSLOOM_CONFIG``).
"""

from __future__ import annotations

import atexit
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from newsloom.errors import ConfigError
from newsloom.priority import cpu_count
from newsloom.reader_service import ReaderService
from newsloom.settings import Settings, load_settings
from newsloom.storage import changes
from newsloom.web.app import build_reader, create_app

# uvicorn closes an idle keep-alive connection after 5 s, the very idle time after which httpx (and other
# clients) stop reusing one: a request sent at that moment meets a closing socket and fails (bench/load.py saw
# one such ReadError in 2,369 requests under 200 readers). Servers should outlast their clients' idle timeout
# (browsers keep connections 90-300 s, proxies reuse theirs for long); 75 s is nginx's default.
KEEP_ALIVE_TIMEOUT_S = 75
# Automatic worker count: one per core, at most this many. Each process holds its own caches and connections
# (peak RSS ~160-180 MiB under bench/load.py), so eight are ~1.4 GiB; beyond that a machine is better served
# by a reverse proxy in front of several servers, or PostgreSQL, than by more SQLite readers in one.
MAX_AUTO_WORKERS = 8
# Where the settings file, if any, reaches the worker processes (load_settings reads it).
CONFIG_ENV = "NEWSLOOM_CONFIG"


def worker_count(configured: int) -> int:
    """Processes for ``configured`` (``--workers`` or the ``web_workers`` setting): 0 one per core, capped."""
    if configured < 0:
        raise ConfigError(f"web workers must be 0 (one per core) or more, not {configured}")
    return configured or max(1, min(cpu_count(), MAX_AUTO_WORKERS))


def worker_app() -> FastAPI:
    """The app of one worker process (uvicorn's factory; runs in each process ``serve`` started)."""
    changes.share_from_environment()  # before anything is held
    reader = build_reader(load_settings())
    atexit.register(reader.service.close)
    return create_app(reader)


def serve(
    settings: Settings, *, host: str | None = None, port: int | None = None, workers: int | None = None,
    config_file: str | None = None, log_level: str = "info", reader: ReaderService | None = None,
    on_started: Callable[[], None] | None = None,
) -> None:  # fmt: skip
    """Run the reader with uvicorn until interrupted (``newsloom serve`` and ``newsloom run``).

    ``workers`` (else the ``web_workers`` setting) processes; ``config_file`` is the settings file the caller
    read ``settings`` with, which the worker processes read again.

    ``reader``: serve this one, in this one process (``newsloom run`` shares its Service with the poller; the
    caller closes it). ``on_started`` runs on a thread of its own once the server listens: ``run`` starts
    polling then, so that a hub verifying a subscription the first poll requests finds the callback answering.
    """
    import uvicorn

    options = {
        "host": host or settings.host,
        "port": port or settings.port,
        "log_level": log_level,
        "proxy_headers": True,  # behind a TLS proxy, X-Forwarded-Proto makes cookies Secure
        "server_header": False,
        "timeout_keep_alive": KEEP_ALIVE_TIMEOUT_S,
    }
    if reader is not None:
        server = uvicorn.Server(uvicorn.Config(create_app(reader), **options))  # type: ignore[arg-type]
        if on_started is not None:
            threading.Thread(target=_when_started, args=(server, on_started), name="newsloom-started", daemon=True).start()
        server.run()
        return
    count = worker_count(settings.web_workers if workers is None else workers)
    reader = build_reader(settings)  # migrates and creates the secret key once
    if count == 1:
        try:
            uvicorn.run(create_app(reader), **options)  # type: ignore[arg-type]
        finally:
            reader.service.close()
        return
    reader.service.close()
    if config_file:
        os.environ[CONFIG_ENV] = str(Path(config_file).resolve())
    if load_settings() != settings:
        raise ConfigError("several web workers read their settings from the environment and the settings file; "
                          "these settings came from elsewhere (use workers=1)")  # fmt: skip
    path = changes.create_shared_file()
    os.environ[changes.SHARED_FILE_ENV] = path  # the worker processes inherit the environment
    changes.share(path)  # this process's writes too (the poller of ``newsloom run``)
    try:
        uvicorn.run("newsloom.web.server:worker_app", factory=True, workers=count, **options)  # type: ignore[arg-type]
    finally:
        os.environ.pop(changes.SHARED_FILE_ENV, None)
        Path(path).unlink(missing_ok=True)


# How often the start-up watcher looks whether uvicorn listens yet; uvicorn starts in well under a second.
STARTED_POLL_S = 0.05


def _when_started(server: Any, callback: Callable[[], None]) -> None:
    while not server.started:
        if server.should_exit:
            return
        time.sleep(STARTED_POLL_S)
    callback()
