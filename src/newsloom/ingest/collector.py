"""The garbage collector during a poll: the objects that were alive before it are not scanned again.

A poll allocates millions of small objects (parsed items, features from the pool, story state), and CPython's
cyclic collector runs every 700 net allocations, now and then over every object of the process: the story
indexes, lxml, trafilatura and SQLAlchemy's modules and caches. Measured on the polling bench (1,000 full-text
items, bench/poll.py): 575 collections took 1.8-2.2 s of the polling process, about a third of its CPU, most
of it in the four full collections. None of that memory is garbage: it lived before the poll and outlives it.

So during a poll the objects alive at its start are frozen (``gc.freeze``: moved to a permanent generation the
collector skips) and the youngest generation is collected less often; both are undone when the last poll in
the process ends. Frozen objects are still freed by reference counting; only cycles among them wait for the
next collection after the poll. Freezing before the pool's workers are forked also keeps the collector from
touching (and so copying) the pages they share with this process.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# Net allocations between collections of the youngest generation during a poll (CPython's default is 700).
# 10,000: a feed's worth of items and their features between two collections; the collections that remain
# cost ~0.1 s per 1,000 items on the bench (with 700: ~0.4 s), memory held as young garbage stays under a MB.
POLL_GEN0_THRESHOLD = 10_000

_lock = threading.Lock()
_depth = 0
_saved: tuple[int, int, int] | None = None


@contextmanager
def collector_paused_for_old_objects() -> Iterator[None]:
    """Run the block with the process's live objects frozen and rarer young collections (nests, thread-safe)."""
    global _depth, _saved
    with _lock:
        if _depth == 0:
            _saved = gc.get_threshold()
            gc.freeze()
            gc.set_threshold(max(POLL_GEN0_THRESHOLD, _saved[0]), _saved[1], _saved[2])
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                if _saved is not None:
                    gc.set_threshold(*_saved)
                gc.unfreeze()
