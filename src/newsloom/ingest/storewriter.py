"""The storage side of a poll: every storage call on one thread, writes grouped into few transactions.

Polling many sources produces many small writes: a 304 is one fetch-state update, a new feed item one article
and its story. Committed one by one they cost a commit (an fsync on SQLite) each, and run on the event loop
that should be driving the fetches. Here they go to one thread that owns the storage for the poll (so the
story indexes see one writer, and an in-memory SQLite database one thread) and wait in a queue: whatever
queued up while the previous transaction ran is written in the next one, up to ``MAX_BATCH_JOBS``.

A job that fails aborts its batch's transaction; the batch is then replayed one job per transaction, so that
the failure lands on that job's source only and every other job of the batch is still written.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from newsloom.storage.base import Storage

T = TypeVar("T")

# Jobs per transaction: enough that a burst of 304s or a few feeds' items share one commit, few enough that
# a transaction (which holds SQLite's write lock) stays in the tens of milliseconds.
MAX_BATCH_JOBS = 64

Job = Callable[[], Any]


class StoreWriter:
    """Runs storage work of one poll on its own thread. Use ``read`` for queries, ``write`` for changes."""

    def __init__(
        self,
        storage: Storage,
        *,
        on_begin: Callable[[], None] | None = None,
        before_commit: Callable[[], None] | None = None,
        on_rollback: Callable[[], None] | None = None,
        lock: AbstractContextManager[Any] | None = None,
    ) -> None:
        """Hooks, all run on the storage thread: ``on_begin`` as each transaction opens, ``before_commit``
        inside it after its jobs (an exception there fails the batch), ``on_rollback`` after a transaction
        was rolled back (before a failed batch is replayed job by job). ``lock`` is held around each
        transaction and its hooks: the story indexes' lock when other threads use the same intake (``run``)."""
        self.storage = storage
        self._lock = lock or contextlib.nullcontext()
        self._on_begin = on_begin
        self._before_commit = before_commit
        self._on_rollback = on_rollback
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsloom-store")
        self._queue: list[tuple[Job, asyncio.Future[Any]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._thread, functools.partial(fn, *args))

    async def write(self, job: Callable[[], T]) -> T:
        """Run ``job`` inside a transaction shared with the other jobs queued meanwhile; returns its result."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append((job, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.ensure_future(self._flush())
        return await future

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        while self._queue:
            batch, self._queue = self._queue[:MAX_BATCH_JOBS], self._queue[MAX_BATCH_JOBS:]
            results = await loop.run_in_executor(self._thread, self._run_batch, [job for job, _ in batch])
            for (_, future), (ok, value) in zip(batch, results, strict=True):
                if future.done():  # the waiting task was cancelled
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)

    def _transaction(self, jobs: list[Job]) -> list[Any]:
        with self._lock:  # taken before the database's write lock, as every other intake user does
            return self._locked_transaction(jobs)

    def _locked_transaction(self, jobs: list[Job]) -> list[Any]:
        try:
            with self.storage.transaction():
                if self._on_begin is not None:
                    self._on_begin()
                results = [job() for job in jobs]
                if self._before_commit is not None:
                    self._before_commit()
                return results
        except Exception:
            if self._on_rollback is not None:
                self._on_rollback()
            raise

    def _run_batch(self, jobs: list[Job]) -> list[tuple[bool, Any]]:
        try:
            return [(True, result) for result in self._transaction(jobs)]
        except Exception as exc:
            if len(jobs) == 1:
                failed: list[tuple[bool, Any]] = [(False, exc)]
                return failed
        results: list[tuple[bool, Any]] = []
        for job in jobs:
            try:
                results.append((True, self._transaction([job])[0]))
            except Exception as exc:
                results.append((False, exc))
        return results

    async def aclose(self) -> None:
        if self._flusher is not None:
            await self._flusher
        self._thread.shutdown(wait=True)
