"""Putting work on the queue: what ``newsloom update`` / ``ingest`` do in queue mode, and what tasks fan out.

Queues are bounded: before sending, a producer looks at the queue's length (cached for a moment, counting
its own sends); above ``queue_max_length`` it waits for room, and after ``queue_full_wait_s`` it refuses with
``QueueError``. The bound is soft: producers that checked at the same moment may together overshoot it by
what they send within one check interval.

A poll of a source is enqueued at most once at a time: a marker key is set with the task and cleared when the
poll ends, so a scheduler tick that comes round before the poll ran does not queue a second one.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Sequence
from typing import Any

import redis
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

from newsloom.errors import QueueError
from newsloom.settings import Settings
from newsloom.workers.app import (
    TASK_ASSIGN,
    TASK_DIGESTS,
    TASK_FETCH,
    TASK_FILE,
    TASK_NOTIFY,
    TASK_PAGES,
    TASK_POLL,
    is_redis_url,
    producer_app,
    redis_client,
)
from newsloom.workers.config import (
    ASSIGN_QUEUE,
    FETCH_QUEUE,
    POLL_QUEUE,
    QueueConfig,
    queue_config,
    queue_name,
    redis_key,
)

# A queue's length is asked again after this long; in between, the producer counts its own sends. Four
# looks a second cost nothing next to a task, and bound the overshoot to a quarter second of sending.
LENGTH_CHECK_INTERVAL_S = 0.25
# While a queue is full, its length is asked this often.
FULL_POLL_S = 0.5
# Story pages built by one task: a page costs ~10-70 ms (its comparison dominates), so a task of 20 takes
# about a second, and the ~100 stories one assign batch can touch spread over five workers' processes.
PAGES_PER_TASK = 20


class Producer:
    """Sends newsloom's tasks to the broker, respecting the queue bounds. One per process."""

    def __init__(self, settings: Settings, config: QueueConfig | None = None) -> None:
        self.settings = settings
        self.config = config or queue_config(settings)
        self.app = producer_app(settings, self.config)
        self._redis: redis.Redis | None = None
        self._passive = not is_redis_url(settings.queue_url)
        self._checked: dict[str, tuple[float, int]] = {}  # queue -> (monotonic time of check, room then left)

    @property
    def redis(self) -> redis.Redis:
        if self._redis is None:
            self._redis = redis_client(self.settings, self.config)
        return self._redis

    def queue_length(self, queue: str) -> int:
        """Tasks waiting in ``queue`` (not counting those taken by workers but not yet acknowledged)."""
        try:
            with self.app.connection_for_write() as connection:
                # kombu's Redis transport answers a passive declare with NOT_FOUND when a global key prefix is
                # set; a plain declare there only records the binding. AMQP needs passive: its queues are
                # declared durable by Celery, and a declare with other flags is refused.
                declared = connection.default_channel.queue_declare(queue=queue, passive=self._passive)
                return int(declared.message_count)
        except OperationalError as exc:
            raise QueueError(f"cannot reach the task queue at {self.settings.queue_url}: {exc}") from exc
        except Exception as exc:  # a passive declare of a queue never used raises a transport-specific 404
            if "NOT_FOUND" in str(exc) or "no queue" in str(exc).lower():
                return 0
            raise QueueError(f"cannot read the length of queue {queue}: {exc}") from exc

    def _wait_for_room(self, queue: str) -> None:
        now = time.monotonic()
        checked_at, room = self._checked.get(queue, (float("-inf"), 0))
        if room > 0 and now - checked_at < LENGTH_CHECK_INTERVAL_S:
            self._checked[queue] = (checked_at, room - 1)
            return
        deadline = now + self.config.queue_full_wait_s
        while True:
            room = self.config.queue_max_length - self.queue_length(queue)
            if room > 0:
                self._checked[queue] = (time.monotonic(), room - 1)
                return
            if time.monotonic() >= deadline:
                raise QueueError(
                    f"queue {queue} holds {self.config.queue_max_length} tasks or more and did not drain "
                    f"within {self.config.queue_full_wait_s:.0f} s; are the workers running?"
                )
            time.sleep(FULL_POLL_S)

    def send(self, task: str, stage: str, args: Sequence[Any], *, wait: bool = True) -> bool:
        """Send one task; with ``wait`` False a full queue is not waited for: nothing is sent (False)."""
        queue = queue_name(self.config, stage)
        if wait:
            self._wait_for_room(queue)
        elif not self._has_room(queue):
            return False
        try:
            self.app.send_task(task, args=list(args), queue=queue)
        except OperationalError as exc:
            raise QueueError(f"cannot reach the task queue at {self.settings.queue_url}: {exc}") from exc
        return True

    def _has_room(self, queue: str) -> bool:
        checked_at, room = self._checked.get(queue, (float("-inf"), 0))
        if not (room > 0 and time.monotonic() - checked_at < LENGTH_CHECK_INTERVAL_S):
            checked_at, room = time.monotonic(), self.config.queue_max_length - self.queue_length(queue)
        self._checked[queue] = (checked_at, room - 1)
        return room > 0

    # -- the stages ----------------------------------------------------------------------------------------

    def poll_marker(self, source_id: int) -> str:
        return redis_key(self.config, "queued", "poll", str(source_id))

    def enqueue_polls(self, source_ids: Iterable[int]) -> int:
        """One poll task per source not already waiting for one; returns how many were enqueued."""
        sent = 0
        # The marker outlives a lost task by at most the visibility timeout, after which it is redelivered.
        marker_ttl = int(self.config.queue_visibility_timeout_s * 2)
        for source_id in source_ids:
            try:
                if not self.redis.set(self.poll_marker(source_id), "1", nx=True, ex=marker_ttl):
                    continue
            except RedisError as exc:
                raise QueueError(f"cannot reach Redis for the queue state: {exc}") from exc
            try:
                self.send(TASK_POLL, POLL_QUEUE, [source_id])
            except QueueError:
                self.redis.delete(self.poll_marker(source_id))
                raise
            sent += 1
        return sent

    def clear_poll_marker(self, source_id: int) -> None:
        with contextlib.suppress(RedisError):  # it expires; until then the scheduler skips this source
            self.redis.delete(self.poll_marker(source_id))

    def enqueue_page(self, source_id: int, item: dict[str, Any], feed: dict[str, Any]) -> None:
        self.send(TASK_FETCH, FETCH_QUEUE, [source_id, item, feed])

    def enqueue_file(self, path: str) -> None:
        self.send(TASK_FILE, FETCH_QUEUE, [path])

    def enqueue_assign(self, article_id: int) -> None:
        self.send(TASK_ASSIGN, ASSIGN_QUEUE, [article_id])

    def enqueue_story_pages(self, story_ids: Sequence[str]) -> int:
        """Tasks building the pages of these stories (the assigner's hand-off); returns how many were sent.

        Never waits for room: the assigner must not stall on a full fetch queue, and a page not built now is
        built on its next view (story_pages.page_of), so skipping is safe.
        """
        sent = 0
        for start in range(0, len(story_ids), PAGES_PER_TASK):
            sent += self.send(TASK_PAGES, FETCH_QUEUE, [list(story_ids[start : start + PAGES_PER_TASK])], wait=False)
        return sent

    def notify_marker(self, kind: str = "notify") -> str:
        return redis_key(self.config, "queued", kind)

    def enqueue_notify(self) -> bool:
        """One delivery task for the notification outbox unless one is waiting already; True if sent."""
        return self._enqueue_once(TASK_NOTIFY, "notify")

    def enqueue_digests(self) -> bool:
        """One task sending the due e-mail digests unless one is waiting already; True if sent."""
        return self._enqueue_once(TASK_DIGESTS, "digests")

    def _enqueue_once(self, task: str, kind: str) -> bool:
        marker = self.notify_marker(kind)
        try:
            if not self.redis.set(marker, "1", nx=True, ex=int(self.config.queue_visibility_timeout_s * 2)):
                return False
        except RedisError as exc:
            raise QueueError(f"cannot reach Redis for the queue state: {exc}") from exc
        try:
            self.send(task, FETCH_QUEUE, [])
        except QueueError:
            self.redis.delete(marker)
            raise
        return True

    def clear_notify_marker(self, kind: str = "notify") -> None:
        with contextlib.suppress(RedisError):
            self.redis.delete(self.notify_marker(kind))

    def close(self) -> None:
        if self._redis is not None:
            self._redis.close()
            self._redis = None


def enqueue_update(settings: Settings, source_ids: list[int]) -> int:
    """Queue a poll of each source (those with a poll already waiting are skipped); returns how many."""
    producer = Producer(settings)
    try:
        return producer.enqueue_polls(source_ids)
    finally:
        producer.close()


def enqueue_assigns(settings: Settings, article_ids: list[int]) -> int:
    """Queue story assignment of stored articles (for use cases that store in the calling process)."""
    producer = Producer(settings)
    try:
        for article_id in article_ids:
            producer.enqueue_assign(article_id)
        return len(article_ids)
    finally:
        producer.close()


def enqueue_paths(settings: Settings, paths: list[str]) -> int:
    """Queue one ingest task per local file (absolute paths: workers run elsewhere); returns how many."""
    from pathlib import Path

    producer = Producer(settings)
    try:
        for path in paths:
            producer.enqueue_file(str(Path(path).resolve()))
        return len(paths)
    finally:
        producer.close()


def queue_lengths(settings: Settings) -> dict[str, int]:
    """Waiting tasks per stage queue, for monitoring (``{"newsloom.poll": 0, ...}``)."""
    producer = Producer(settings)
    try:
        return {
            queue_name(producer.config, stage): producer.queue_length(queue_name(producer.config, stage))
            for stage in (POLL_QUEUE, FETCH_QUEUE, ASSIGN_QUEUE)
        }
    finally:
        producer.close()
