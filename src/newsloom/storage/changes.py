"""A process-wide count of storage write transactions, for caches that must never serve what a write changed.

Every write transaction of a ``SqlStorage`` in this process bumps the count when it ends (committed or not:
a spare bump costs one extra read, a missed one would serve stale data). A cache entry records the count it
read before computing its value; while the count is unchanged no write of this process can have changed the
value. Writes of other processes (a worker) do not move this count: caches bound how long they trust an entry
without reading the database again (``web.pages.STORY_FRESH_S``).
"""

from __future__ import annotations

import threading

_lock = threading.Lock()
_count = 0


def generation() -> int:
    """The current count; read it before reading what a cache entry is computed from."""
    return _count


def bump() -> None:
    global _count
    with _lock:  # ``+=`` alone can lose an increment between two writer threads
        _count += 1
