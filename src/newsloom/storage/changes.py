"""A count of storage write transactions, for caches that must never serve what a write changed.

Every write transaction of a ``SqlStorage`` bumps the count when it ends (committed or not: a spare bump costs
one extra read, a missed one would serve stale data). A cache entry records the count it read before computing
its value; while the count is unchanged no counted write can have changed the value.

The count is this process's own, or, after ``share(path)``, one kept in a small file mapped into memory by
every process that shares it: ``newsloom serve --workers N`` has its N processes (and the supervisor, where
``newsloom run`` polls) share one, so that a write answered by one process (a pick, a new source) is never
hidden by a page another one holds. Writes of processes outside (a separate ingester, a queue worker) do not
move it: caches bound how long they trust an entry without reading the database again
(``web.pages.STORY_FRESH_S``). Counting those too would make every article stored invalidate every held page.
"""

from __future__ import annotations

import mmap
import os
import struct
import sys
import threading

# Environment variable naming the shared count's file: the processes ``serve`` starts inherit it.
SHARED_FILE_ENV = "NEWSLOOM_WRITE_COUNT_FILE"
_COUNT = struct.Struct("<Q")

_lock = threading.Lock()
_count = 0
_shared: mmap.mmap | None = None
_shared_fd = -1


def generation() -> int:
    """The current count; read it before reading what a cache entry is computed from."""
    if _shared is not None:
        # One aligned 8-byte read; a torn read can only differ from the value an entry recorded, which costs
        # that entry one database read, never a stale answer.
        return int(_COUNT.unpack_from(_shared)[0])
    return _count


def bump() -> None:
    global _count
    with _lock:  # ``+=`` alone can lose an increment between two writer threads
        if _shared is None:
            _count += 1
            return
        _lock_file(True)  # and between two processes: a lost increment could hide a write
        try:
            _COUNT.pack_into(_shared, 0, _COUNT.unpack_from(_shared)[0] + 1)
        finally:
            _lock_file(False)


def _lock_file(exclusive: bool) -> None:
    if sys.platform == "win32":  # pragma: no cover - several web processes are a POSIX feature here
        return
    import fcntl

    fcntl.flock(_shared_fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_UN)


def create_shared_file(directory: str | None = None) -> str:
    """A new count file (zero) for ``share``; the caller removes it when the processes sharing it are gone."""
    import tempfile

    fd, path = tempfile.mkstemp(prefix="newsloom-writes-", dir=directory)
    try:
        os.write(fd, _COUNT.pack(0))
    finally:
        os.close(fd)
    return path


def share(path: str) -> None:
    """Count in ``path`` from now on, with every process that shares it.

    Call it before anything is cached from ``generation()``: the shared value may equal one an entry recorded
    from the own count.
    """
    global _shared, _shared_fd
    with _lock:
        fd = os.open(path, os.O_RDWR)
        mapped = mmap.mmap(fd, _COUNT.size)
        if _shared is not None:
            _shared.close()
            os.close(_shared_fd)
        _shared, _shared_fd = mapped, fd


def share_from_environment() -> bool:
    """``share`` the file named by ``SHARED_FILE_ENV``, if any (a process ``serve`` started); True if shared."""
    path = os.environ.get(SHARED_FILE_ENV)
    if not path:
        return False
    share(path)
    return True
