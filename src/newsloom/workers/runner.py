"""``newsloom worker`` and ``newsloom scheduler``: the processes of a queue-mode deployment.

A worker consumes the fetch-side queues (poll, fetch) with a prefork pool of ``concurrency`` processes, and,
unless told otherwise, also runs an assigner process that competes for the assign lease (assigner.py): any
worker can take over story assignment when the one doing it dies. ``--queues assign`` runs an assigner only;
``--queues poll,fetch`` a worker without one.

The scheduler enqueues due sources every ``queue_scheduler_tick_s`` and re-enqueues articles stored without
a story every ``queue_sweep_interval_s``. It holds a lease too, so starting a second one is harmless: it
waits as a standby.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from datetime import UTC, datetime
from types import FrameType

from newsloom.errors import ConfigError, QueueError
from newsloom.ingest.subscriber import maintain_subscriptions
from newsloom.notify.digest import is_due
from newsloom.notify.mail import mail_configured
from newsloom.settings import Settings
from newsloom.storage import open_storage
from newsloom.storage.base import Storage
from newsloom.storage.notify_store import SqlNotifyStore
from newsloom.workers.app import configure_app, redis_client
from newsloom.workers.assigner import run_assigner
from newsloom.workers.config import ALL_QUEUES, ASSIGN_QUEUE, QueueConfig, queue_config, queue_name, redis_key
from newsloom.workers.context import install_settings
from newsloom.workers.lease import Lease
from newsloom.workers.queue import Producer

log = logging.getLogger(__name__)

# A crashed assigner process is restarted after this pause (a crash loop costs one start a few seconds).
ASSIGNER_RESTART_S = 3.0
# The sweep leaves the assign queue alone while it holds more than this many tasks: the unassigned articles
# it would find are then mostly those tasks, and re-enqueueing them only doubles the backlog. Lost tasks
# are found by the next sweep that sees a short queue.
SWEEP_SKIP_BACKLOG = 1000
# Exit statuses of an assigner that was asked to stop (SIGTERM/SIGINT, Celery's warm shutdown): not restarted.
# A crash, a SIGKILL or EXIT_LEASE_LOST is.
CLEAN_EXITS = frozenset({0, -signal.SIGTERM, -signal.SIGINT})
LOG_FORMAT = "%(asctime)s %(levelname)s [%(processName)s %(process)d] %(name)s: %(message)s"
# Libraries that log every request or migration step at INFO; a worker logs per task already.
QUIET_LOGGERS = ("httpx", "alembic")


def setup_logging(log_level: str) -> None:
    logging.basicConfig(level=log_level, format=LOG_FORMAT)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger().level))


def parse_stages(queues: list[str] | None, config: QueueConfig) -> list[str]:
    """Stage names from ``--queues`` (``fetch`` or ``newsloom.fetch``); all stages when None."""
    if not queues:
        return list(ALL_QUEUES)
    stages = []
    for raw in queues:
        name = raw.strip()
        stage = next((s for s in ALL_QUEUES if name in (s, queue_name(config, s))), None)
        if stage is None:
            raise ConfigError(f"unknown queue {name!r}; choose from {', '.join(ALL_QUEUES)}")
        if stage not in stages:
            stages.append(stage)
    return stages


class AssignerSupervisor:
    """Runs an assigner in a child process beside a worker, restarting it when it exits."""

    def __init__(self, settings: Settings, log_level: str) -> None:
        self.settings = settings
        self.log_level = log_level
        self._stop = threading.Event()
        self._process: multiprocessing.process.BaseProcess | None = None
        self._thread = threading.Thread(target=self._supervise, name="assigner-supervisor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _supervise(self) -> None:
        # spawn, not fork: the child must not inherit this process's broker connections and threads.
        context = multiprocessing.get_context("spawn")
        while not self._stop.is_set():
            process = context.Process(
                target=run_assigner,
                args=(self.settings,),
                kwargs={"parent_pid": os.getpid(), "log_level": self.log_level},
                name="assigner",
                daemon=False,
            )
            process.start()
            self._process = process
            process.join()
            if self._stop.is_set() or process.exitcode in CLEAN_EXITS:
                return  # stopped on purpose (with the worker: a service manager signals the whole group)
            log.warning("assigner process exited with status %s; restarting", process.exitcode)
            self._stop.wait(ASSIGNER_RESTART_S)

    def stop(self) -> None:
        self._stop.set()
        process = self._process
        if process is not None and process.is_alive():
            process.terminate()  # SIGTERM: Celery's warm shutdown, then the lease is released
            process.join(timeout=30)
            if process.is_alive():
                process.kill()


def run_worker(settings: Settings, *, concurrency: int, queues: list[str] | None, log_level: str = "INFO") -> None:
    """Consume the given queues (all by default) until stopped with SIGTERM or Ctrl-C."""
    if not settings.queue_url:
        raise ConfigError("`newsloom worker` needs NEWSLOOM_QUEUE_URL (e.g. redis://127.0.0.1:6379/0)")
    if concurrency < 1:
        raise ConfigError("concurrency must be at least 1")
    config = queue_config(settings)
    stages = parse_stages(queues, config)
    setup_logging(log_level)
    install_settings(settings)
    fetch_side = [s for s in stages if s != ASSIGN_QUEUE]
    if not fetch_side:
        run_assigner(settings, log_level=log_level)
        return
    from newsloom.workers import tasks  # noqa: F401  registers the tasks with the app

    supervisor = AssignerSupervisor(settings, log_level) if ASSIGN_QUEUE in stages else None
    if supervisor is not None:
        supervisor.start()
    app = configure_app(settings, config)
    try:
        app.worker_main([
            "worker",
            "--queues", ",".join(queue_name(config, s) for s in fetch_side),
            "--pool", "prefork",
            "--concurrency", str(concurrency),
            "--hostname", f"fetch.{os.getpid()}@{socket.gethostname()}",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
            "--loglevel", log_level,
        ])
    finally:
        if supervisor is not None:
            supervisor.stop()


# -- scheduler ---------------------------------------------------------------------------------------------


def sweep_unassigned(storage: Storage, producer: Producer, settings: Settings, *, now: datetime) -> int:
    """Re-enqueue assignment of articles that have no story (oldest first); returns how many."""
    backlog = producer.queue_length(queue_name(producer.config, ASSIGN_QUEUE))
    if backlog > SWEEP_SKIP_BACKLOG:
        log.info("sweep skipped: %d assign tasks are waiting", backlog)
        return 0
    # An indexed lookup of the unassigned rows, not a read of the whole story window; at most a backlog's worth
    # per sweep (the next sweep takes the rest).
    pending = storage.unassigned_article_ids(SWEEP_SKIP_BACKLOG)
    for article_id in pending:
        producer.enqueue_assign(article_id)
    return len(pending)


def scheduler_tick(storage: Storage, producer: Producer, *, now: datetime) -> int:
    """Enqueue a poll of every due feed not already waiting for one; returns how many were enqueued.

    Also enqueues a delivery of the notification outbox when any delivery is due, and a digest run when any
    e-mail digest is due and mail is configured (at most one of each waits).
    """
    due = [source.id for source in storage.due_sources(now) if source.kind == "feed"]
    notify_store = SqlNotifyStore.for_storage(storage)
    if notify_store.pending_deliveries(now=now, limit=1):
        producer.enqueue_notify()
    if mail_configured(producer.settings) and any(is_due(s.digest, s.last_digest_at, now) for s in notify_store.digest_readers()):
        producer.enqueue_digests()
    return producer.enqueue_polls(due)


def run_scheduler(settings: Settings, *, log_level: str = "INFO", stop: threading.Event | None = None) -> None:
    """Enqueue due sources and sweep for unassigned articles until SIGTERM / Ctrl-C (or ``stop`` is set)."""
    if not settings.queue_url:
        raise ConfigError("`newsloom scheduler` needs NEWSLOOM_QUEUE_URL (e.g. redis://127.0.0.1:6379/0)")
    setup_logging(log_level)
    config = queue_config(settings)
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        def _on_signal(signum: int, _frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGINT, _on_signal)
    lease = Lease(redis_client(settings, config), redis_key(config, "lease", "scheduler"), config.queue_lease_s,
                  on_lost=stop.set)
    if not lease.acquire(stop=stop, on_wait=lambda holder: log.info("standby: scheduler lease held by %s", holder)):
        return
    producer = Producer(settings, config)
    storage = open_storage(settings.effective_database_url)
    next_sweep = time.monotonic()  # a sweep at start-up picks up what a crash left
    try:
        while not stop.is_set() and lease.held:
            now = datetime.now(UTC)
            try:
                queued = scheduler_tick(storage, producer, now=now)
                if queued:
                    log.info("queued %d due sources", queued)
                kept = asyncio.run(maintain_subscriptions(storage, settings, now))  # WebSub leases
                if kept.renewed or kept.expired or kept.timed_out:
                    log.info("WebSub: %d renewed, %d expired, %d unverified", kept.renewed, kept.expired, kept.timed_out)
                if time.monotonic() >= next_sweep:
                    swept = sweep_unassigned(storage, producer, settings, now=now)
                    if swept:
                        log.warning("re-queued %d articles stored without a story", swept)
                    next_sweep = time.monotonic() + config.queue_sweep_interval_s
            except QueueError as exc:
                log.warning("tick failed: %s", exc)
            except Exception:
                log.exception("tick failed")
            stop.wait(config.queue_scheduler_tick_s)
    finally:
        lease.release()
        producer.close()
        storage.close()
