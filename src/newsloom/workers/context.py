"""What one worker process keeps between tasks: storage, the producer, an event loop with its fetcher.

Created lazily in the process that runs tasks (after the prefork pool forked it: connections and event
loops must not cross a fork) and rebuilt when the process id changed.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

import redis.asyncio as aioredis

from newsloom.ingest.fetch import Fetcher
from newsloom.ingest.intake import Intake
from newsloom.ingest.politeness_redis import RedisHostLimiter
from newsloom.settings import Settings, load_settings
from newsloom.storage import open_storage
from newsloom.workers.app import state_url
from newsloom.workers.config import QueueConfig, queue_config, redis_key
from newsloom.workers.queue import Producer

if TYPE_CHECKING:
    from newsloom.notify_service import NotifyService

T = TypeVar("T")

_settings: Settings | None = None
_context: WorkerContext | None = None


class WorkerContext:
    def __init__(self, settings: Settings) -> None:
        self.pid = os.getpid()
        self.settings = settings
        self.config: QueueConfig = queue_config(settings)
        self.storage = open_storage(settings.effective_database_url)
        # Fetch workers store articles in parallel; story assignment happens in the one assigner process.
        self.intake = Intake(self.storage, settings, store_only=True)
        self.producer = Producer(settings, self.config)
        self.loop = asyncio.new_event_loop()
        self._fetcher: Fetcher | None = None
        self._notes: NotifyService | None = None

    @property
    def fetcher(self) -> Fetcher:
        """A fetcher on this process's loop whose per-host limits are shared through Redis."""
        if self._fetcher is None:
            client = aioredis.Redis.from_url(state_url(self.settings, self.config))
            limiter = RedisHostLimiter.from_settings(
                client, self.settings, key_prefix=redis_key(self.config, "politeness")
            )
            self._fetcher = Fetcher(self.settings, limiter=limiter)
        return self._fetcher

    @property
    def notes(self) -> NotifyService:
        """The notification service, for digests: they rank stories the way the reader does."""
        if self._notes is None:
            from newsloom.notify_service import NotifyService  # the web stack, loaded by digest tasks only
            from newsloom.web.app import build_reader

            self._notes = NotifyService(build_reader(self.settings))
        return self._notes

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coroutine)

    def close(self) -> None:
        if self._notes is not None:
            self._notes.reader.service.close()
            self._notes = None
        if self._fetcher is not None:
            self.run(self._fetcher.aclose())
            self._fetcher = None
        self.loop.close()
        self.producer.close()
        self.storage.close()


def install_settings(settings: Settings) -> None:
    """The settings tasks of this process (and the pool processes it forks) use."""
    global _settings
    _settings = settings


def worker_context() -> WorkerContext:
    global _context
    if _context is None or _context.pid != os.getpid():
        _context = WorkerContext(_settings or load_settings())
    return _context
