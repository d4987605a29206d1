"""The one process that assigns articles to stories, and its standbys.

Story assignment keeps in-memory indexes (near duplicates, candidate stories) that must see every article in
order, so it runs in exactly one process at a time: the holder of the ``assign`` lease in Redis. Any number of
assigner processes may run (one per ``newsloom worker`` by default); all but one wait for the lease. The
holder rebuilds its indexes from the database, assigns what was stored without a story (work a dead
predecessor left), and only then consumes the ``assign`` queue, one task at a time (Celery's solo pool).

When the holder dies, its lease expires within ``queue_lease_s``, a standby takes over, and the task the dead
holder had taken comes back after the visibility timeout; it finds its article assigned (a no-op) or not (it
is assigned now, or already was by the standby's catch-up). A holder that cannot renew its lease exits
before the lease can have passed to another process, so two processes never assign at the same time.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from datetime import UTC, datetime

from newsloom.errors import NotFoundError, QueueError
from newsloom.ingest.intake import Intake
from newsloom.settings import Settings
from newsloom.storage import open_storage
from newsloom.storage.base import Storage
from newsloom.workers.app import configure_app, redis_client
from newsloom.workers.config import ASSIGN_QUEUE, queue_config, queue_name, redis_key
from newsloom.workers.lease import Lease

log = logging.getLogger(__name__)

# Exit status of an assigner that lost its lease; the supervising worker restarts it as a standby.
EXIT_LEASE_LOST = 75
# How often an assigner started by a worker checks that its parent is still alive (it exits with it).
PARENT_CHECK_S = 1.0


class LeaseLostError(QueueError):
    """This process no longer holds the assign lease; it must not assign."""


class Assigner:
    """The story stage of one process, valid while ``lease`` is held."""

    def __init__(self, storage: Storage, settings: Settings, lease: Lease) -> None:
        self.storage = storage
        self.settings = settings
        self.lease = lease
        self._intake: Intake | None = None

    @property
    def intake(self) -> Intake:
        """The indexes, rebuilt from the database on first use and after any failed assignment."""
        if self._intake is None:
            now = datetime.now(UTC)
            started = time.monotonic()
            intake = Intake(self.storage, self.settings, now=now)
            pending = intake.assign_pending(now=now)
            self._intake = intake
            log.info("assigner ready in %.1f s; assigned %d articles stored without a story",
                     time.monotonic() - started, pending)
        return self._intake

    def assign(self, article_id: int) -> str | None:
        """Assign one stored article (a no-op when it has a story already); its story id, None if it is gone."""
        if not self.lease.held:
            raise LeaseLostError("the assign lease is no longer held by this process")
        intake = self.intake
        try:
            article = self.storage.get_article(article_id)
        except NotFoundError:
            return None
        try:
            return intake.assign(article, now=datetime.now(UTC)).story_id
        except Exception:
            # The transaction rolled back but the in-memory indexes may already hold the article: start over
            # from the database rather than assign later articles against indexes that disagree with it.
            self._intake = None
            raise


_current: Assigner | None = None


def current_assigner() -> Assigner | None:
    """This process's assigner, when it holds the lease; None in every other process."""
    return _current


def _exit_on_lost_lease() -> None:
    log.error("assign lease lost; exiting so that only the new holder assigns")
    os._exit(EXIT_LEASE_LOST)


def _exit_with_parent(parent_pid: int) -> None:
    while True:
        time.sleep(PARENT_CHECK_S)
        if os.getppid() != parent_pid:
            os._exit(0)


def run_assigner(settings: Settings, *, parent_pid: int | None = None, log_level: str = "INFO") -> None:
    """Wait for the assign lease, then assign stories from the ``assign`` queue until stopped."""
    global _current
    from newsloom.workers.runner import setup_logging

    setup_logging(log_level)
    if parent_pid is not None:
        threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True, name="parent-watch").start()
    config = queue_config(settings)
    lease = Lease(redis_client(settings, config), redis_key(config, "lease", "assign"), config.queue_lease_s,
                  on_lost=_exit_on_lost_lease)
    lease.acquire(on_wait=lambda holder: log.info("standby: the assign lease is held by %s", holder))
    log.info("holding the assign lease")
    storage = open_storage(settings.effective_database_url)
    try:
        _current = Assigner(storage, settings, lease)
        _ = _current.intake  # catch up before taking new tasks
        from newsloom.workers import tasks  # noqa: F401  registers the tasks with the app

        app = configure_app(settings, config)
        app.worker_main([
            "worker",
            "--queues", queue_name(config, ASSIGN_QUEUE),
            "--pool", "solo",  # tasks run in this process, which holds the lease and the indexes
            "--concurrency", "1",
            "--hostname", f"assign.{os.getpid()}@{socket.gethostname()}",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
            "--loglevel", log_level,
        ])
    finally:
        _current = None
        lease.release()
        storage.close()
