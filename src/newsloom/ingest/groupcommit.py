"""Group commit: callers on many threads hand items to one thread that processes whatever has queued up as
one batch, and each caller gets its own result (or the batch's exception) through a ``Future``.

Pushed WebSub deliveries go through this: each hub POST waits until its articles are committed (so a 2xx
still means "stored"), but a burst of pushes shares one transaction instead of queueing for the write lock
one by one.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# Largest batch: enough to absorb a burst of a few hundred pushes per second in a handful of commits, small
# enough that the first caller of a batch does not wait long for the last one's work.
MAX_BATCH = 64


class GroupCommit(Generic[T, R]):
    """Runs ``process(batch) -> results`` (one result per item, in order) on a daemon thread of its own."""

    def __init__(self, process: Callable[[Sequence[T]], Sequence[R]], *, name: str, max_batch: int = MAX_BATCH) -> None:
        self._process = process
        self._max_batch = max_batch
        self._name = name
        self._queue: queue.SimpleQueue[tuple[T, Future[R]]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def submit(self, item: T) -> Future[R]:
        future: Future[R] = Future()
        self._queue.put((item, future))
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
        return future

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self._max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                results = self._process([item for item, _ in batch])
            except BaseException as exc:  # the callers get the failure; this thread lives on for the next batch
                for _, future in batch:
                    future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                future.set_result(result)
