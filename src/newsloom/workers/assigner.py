"""The one process that assigns articles to stories, and its standbys.

Story assignment keeps in-memory indexes (near duplicates, candidate stories) that must see every article in
order, so it runs in exactly one process at a time: the holder of the ``assign`` lease in Redis. Any number of
assigner processes may run (one per ``newsloom worker`` by default); all but one wait for the lease. The
holder rebuilds its indexes from the database, assigns what was stored without a story (work a dead
predecessor left), and only then consumes the ``assign`` queue in batches: it takes every task waiting, up
to ``ASSIGN_BATCH_MAX``, assigns their articles in queue order in one transaction, and acknowledges the
tasks after the commit (inbox.py).

The holder only assigns: the pages of the stories a batch changed are built by the fetch workers, in
parallel, from ``build_story_pages`` tasks it sends after each commit (a page costs ~10-70 ms, its comparison
mostly; built here they made assignment ~15x slower and a standby's catch-up after a kill -9 took minutes).

When the holder dies, its lease expires within ``queue_lease_s``, a standby takes over, and the tasks the dead
holder had taken come back after the visibility timeout; they find their articles assigned (a no-op) or not
(they are assigned now, or already were by the standby's catch-up). A holder that cannot renew its lease exits
before the lease can have passed to another process, and a batch commits only if the lease is still held
at its end, so two processes never assign at the same time.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from types import FrameType

from newsloom.errors import NotFoundError, QueueError, StorageError
from newsloom.ingest.intake import Intake
from newsloom.settings import Settings
from newsloom.storage import open_storage
from newsloom.storage.base import Storage
from newsloom.types import Article
from newsloom.workers.app import configure_app, redis_client
from newsloom.workers.config import ASSIGN_QUEUE, queue_config, queue_name, redis_key
from newsloom.workers.inbox import Inbox, TaskMessage, article_id_of
from newsloom.workers.lease import Lease
from newsloom.workers.queue import Producer

log = logging.getLogger(__name__)

# Exit status of an assigner that lost its lease; the supervising worker restarts it as a standby.
EXIT_LEASE_LOST = 75
# How often an assigner started by a worker checks that its parent is still alive (it exits with it).
PARENT_CHECK_S = 1.0
# Most assign tasks taken and committed together. One commit and one save per touched story for the batch
# instead of per article is where the gain is; at 100 the commit is already <1% of the batch's time
# (bench/workers.py), while a batch stays short (~1 s at ~10 ms an article) against the lease (30 s)
# and little is redone when a batch fails.
ASSIGN_BATCH_MAX = 100
# An idle assigner looks for new tasks this often: new work waits at most this long, and an empty look costs
# four Redis commands (one per kombu priority step), ~40 a second.
IDLE_POLL_S = 0.1
# A batch that failed on the database (restarting, failing over) is retried after this many seconds times
# the attempt number, capped at RETRY_MAX_S; the tasks stay taken meanwhile, so order is kept.
RETRY_DELAY_S = 1.0
RETRY_MAX_S = 30.0
# The broker went away: reconnect after this pause.
RECONNECT_S = 2.0


class LeaseLostError(QueueError):
    """This process no longer holds the assign lease; it must not assign."""


class Assigner:
    """The story stage of one process, valid while ``lease`` is held."""

    def __init__(self, storage: Storage, settings: Settings, lease: Lease, *, producer: Producer | None = None) -> None:
        self.storage = storage
        self.settings = settings
        self.lease = lease
        # Where the pages of changed stories are sent to be built; None: built here, after each commit.
        self.producer = producer
        self._intake: Intake | None = None

    @property
    def intake(self) -> Intake:
        """The indexes, rebuilt from the database on first use and after any failed assignment.

        A rebuild first assigns what is stored without a story (a dead predecessor's work, or articles stored
        while the indexes were read), in batches in id order, before any task is taken.
        """
        if self._intake is None:
            started = time.monotonic()
            intake = Intake(self.storage, self.settings, now=datetime.now(UTC))
            caught_up = 0
            while True:
                pending = self.storage.unassigned_article_ids(ASSIGN_BATCH_MAX)
                self._assign_with(intake, pending)
                caught_up += len(pending)
                if len(pending) < ASSIGN_BATCH_MAX:
                    break  # articles stored from now on have their tasks in the queue
            self._intake = intake
            self._hand_off_pages(intake)  # once for the whole catch-up: a story met in many batches is built once
            log.info("assigner ready in %.1f s; assigned %d articles stored without a story",
                     time.monotonic() - started, caught_up)
        return self._intake

    def assign_batch(self, article_ids: Sequence[int]) -> list[str | None]:
        """Assign stored articles in the order given, in one transaction; each one's story id (None: gone).

        Articles that have a story already are left as they are (a redelivered task). The transaction commits
        only if the lease is still held when the batch is done; otherwise ``LeaseLostError`` and nothing is
        written.
        """
        intake = self.intake
        stories = self._assign_with(intake, article_ids)
        self._hand_off_pages(intake)
        return stories

    def _assign_with(self, intake: Intake, article_ids: Sequence[int]) -> list[str | None]:
        if not self.lease.held:
            raise LeaseLostError("the assign lease is no longer held by this process")
        try:
            with self.storage.transaction():
                articles: list[Article] = []
                for article_id in dict.fromkeys(article_ids):
                    try:
                        articles.append(self.storage.get_article(article_id))
                    except NotFoundError:
                        continue  # deleted meanwhile: nothing to do
                results = intake.assign_many(articles, now=datetime.now(UTC))
                if not self.lease.held:  # the batch outlasted the lease: a standby may be assigning already
                    raise LeaseLostError("the assign lease ran out during a batch; rolled back")
        except Exception:
            # The transaction rolled back but the in-memory indexes may already hold the articles: start over
            # from the database rather than assign later articles against indexes that disagree with it.
            self._intake = None
            raise
        stories = {result.article.id: result.story_id for result in results if result.article is not None}
        return [stories.get(article_id) for article_id in article_ids]

    def _hand_off_pages(self, intake: Intake) -> None:
        """After a commit: the touched stories' pages, sent to the workers (or built here without a producer).

        A failure to send costs nothing but speed: a page older than its story is rebuilt on its next view.
        """
        if self.producer is None:
            intake.refresh_story_pages(now=datetime.now(UTC))
            return
        due = intake.take_pages_due()
        if not due:
            return
        try:
            self.producer.enqueue_story_pages(due)
        except QueueError as exc:
            log.warning("pages of %d stories not queued (%s); they are built on their next view", len(due), exc)

    def assign(self, article_id: int) -> str | None:
        """Assign one stored article (a no-op when it has a story already); its story id, None if it is gone."""
        return self.assign_batch([article_id])[0]


class AssignLoop:
    """Takes assign tasks in batches, assigns them, acknowledges them after the commit; until ``stop``."""

    def __init__(self, assigner: Assigner, inbox: Inbox, stop: threading.Event) -> None:
        self.assigner = assigner
        self.inbox = inbox
        self.stop = stop

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.inbox.restore_overdue()
                messages = self.inbox.take()
            except self.inbox.errors as exc:
                log.warning("assign queue unreachable (%s); reconnecting in %.0f s", exc, RECONNECT_S)
                self.inbox.close()
                self.stop.wait(RECONNECT_S)
                continue
            if not messages:
                self.stop.wait(IDLE_POLL_S)
                continue
            self.handle(messages)

    def handle(self, messages: list[TaskMessage]) -> None:
        """Assign one batch and acknowledge it; on stop or a lost lease, give the tasks back instead."""
        ids = []
        for message in messages:
            article_id = article_id_of(message)
            if article_id is None:
                log.error("dropping a message on the assign queue that is not an assign task: %r",
                          (message.headers or {}).get("task"))
            else:
                ids.append(article_id)
        try:
            started = time.monotonic()
            self._assign(ids)
            log.info("assigned a batch of %d in %.0f ms", len(ids), 1000 * (time.monotonic() - started))
        except (LeaseLostError, _Stopped):
            for message in messages:
                message.requeue()  # for the next holder now, rather than after the visibility timeout
            raise
        except Exception:
            log.exception("a batch of %d failed; assigning its articles one by one", len(ids))
            for article_id in ids:
                try:
                    self._assign([article_id])
                except (LeaseLostError, _Stopped):
                    for message in messages:
                        message.requeue()
                    raise
                except Exception:
                    # As a Celery task that raised: acknowledged, the article stays without a story and the
                    # scheduler's sweep queues it again later; other articles do not wait behind it.
                    log.exception("article %d could not be assigned", article_id)
        for message in messages:
            message.ack()

    def _assign(self, ids: list[int]) -> None:
        """``assign_batch``, retried while the database fails; ``_Stopped`` when asked to stop meanwhile."""
        attempt = 0
        while True:
            try:
                self.assigner.assign_batch(ids)
                return
            except StorageError as exc:
                attempt += 1
                delay = min(RETRY_DELAY_S * attempt, RETRY_MAX_S)
                log.warning("assigning a batch failed (%s); retrying in %.0f s", exc, delay)
                if self.stop.wait(delay):
                    raise _Stopped() from exc


class _Stopped(Exception):
    """Asked to stop while a batch waited for the database."""


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


def _stop_on_signals(stop: threading.Event) -> None:
    """SIGTERM / SIGINT finish the batch at hand, then stop (the worker's warm shutdown)."""
    if threading.current_thread() is not threading.main_thread():
        return

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)


def run_assigner(settings: Settings, *, parent_pid: int | None = None, log_level: str = "INFO") -> None:
    """Wait for the assign lease, then assign stories from the ``assign`` queue until stopped."""
    global _current
    from newsloom.workers.runner import setup_logging

    setup_logging(log_level)
    stop = threading.Event()
    _stop_on_signals(stop)
    if parent_pid is not None:
        threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True, name="parent-watch").start()
    config = queue_config(settings)
    lease = Lease(redis_client(settings, config), redis_key(config, "lease", "assign"), config.queue_lease_s,
                  on_lost=_exit_on_lost_lease)
    if not lease.acquire(stop=stop, on_wait=lambda holder: log.info("standby: the assign lease is held by %s", holder)):
        return
    log.info("holding the assign lease")
    storage = open_storage(settings.effective_database_url)
    producer = Producer(settings, config)
    inbox = Inbox(configure_app(settings, config), queue_name(config, ASSIGN_QUEUE), batch_max=ASSIGN_BATCH_MAX,
                  restore_interval_s=config.queue_restore_interval_s)
    try:
        _current = Assigner(storage, settings, lease, producer=producer)
        _ = _current.intake  # catch up before taking new tasks
        log.info("assign.%d ready: consuming %s in batches of up to %d", os.getpid(),
                 queue_name(config, ASSIGN_QUEUE), ASSIGN_BATCH_MAX)
        AssignLoop(_current, inbox, stop).run()
    except _Stopped:
        pass
    finally:
        _current = None
        inbox.close()
        producer.close()
        lease.release()
        storage.close()
