"""CPU priority of ingestion: readers' requests win the CPU, ingestion takes what is left.

Parsing, extraction, clustering and story pages are batch work: an article stored a second later harms no
one, a page served a second later keeps a reader waiting. So the processes and threads that ingest
(``newsloom ingest`` and ``update``, the poller thread of ``newsloom run`` and the parse processes it forks)
lower their own priority by the ``ingest_nice`` setting, as ``nice -n 10`` would, and the kernel's scheduler
gives the web server's processes the cores first whenever both want them. Relative, like ``nice``: a whole
deployment started under ``nice -n 5`` keeps the same gap between its server and its ingestion. An idle server leaves ingestion the whole machine: nice
changes shares under contention, never caps.

Linux keeps the nice value per thread: ``setpriority(PRIO_PROCESS, tid)`` lowers the calling thread only (and
whatever it starts or forks afterwards), which lets the poller thread of ``newsloom run`` run below the web
server's threads of the same process. Elsewhere the call lowers the whole process.
"""

from __future__ import annotations

import os
import sys
import threading

# nice 10 against the server's 0: the scheduler's weights are 110 against 1024 (kernel sched_prio_to_weight),
# so a contended core gives ingestion about a tenth of the time the server gets, and all of it when the server
# waits. bench/load.py measured the server's p99 with and without it (docs/benchmarks/web.md, "Load").
DEFAULT_INGEST_NICE = 10
MAX_NICE = 19


def cpu_count() -> int:
    """Cores this process may run on (its affinity mask where the platform has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _thread_target() -> int:
    """``who`` for get/setpriority: this thread on Linux, this process elsewhere."""
    return threading.get_native_id() if sys.platform.startswith("linux") else 0


def current_nice() -> int:
    """The nice value of the calling thread (of the process where threads have none of their own)."""
    if not hasattr(os, "getpriority"):  # Windows: no nice values
        return 0
    return os.getpriority(os.PRIO_PROCESS, _thread_target())


def lower_priority(steps: int) -> int:
    """Lower the calling thread (and what it starts or forks from now on) by ``steps`` nice steps, at most to
    19; returns its nice value now.

    Call it once, where a thread or process starts ingesting. 0 (or less) changes nothing: priority is never
    raised. Lowering is always allowed; a failure (an exotic platform) leaves the priority as it was rather
    than stopping ingestion.
    """
    if not hasattr(os, "setpriority"):  # Windows: no nice values
        return 0
    target = _thread_target()
    try:
        now = os.getpriority(os.PRIO_PROCESS, target)
        wanted = min(now + max(steps, 0), MAX_NICE)
        if wanted > now:
            os.setpriority(os.PRIO_PROCESS, target, wanted)
            now = wanted
    except OSError:
        return current_nice()
    return now
