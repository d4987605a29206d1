"""Per-host politeness: at most N requests at once to one host, a minimum gap between request starts, and a
global cap on simultaneous requests.

``HostLimiter`` is the seam: this in-process ``LocalHostLimiter`` serves one process; a shared (Redis)
implementation can replace it when several workers poll the same hosts.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

# Idle host entries are swept once the table holds this many; a crawl of a few thousand feeds stays below it,
# and a sweep is one pass over the table, so memory stays bounded without a timer task.
_SWEEP_AT_HOSTS = 2048


class HostLimiter(Protocol):
    def slot(self, host: str) -> AbstractAsyncContextManager[None]:
        """Wait until a request to ``host`` may start; hold the slot for the duration of the request."""
        ...


@dataclass
class _HostState:
    semaphore: asyncio.Semaphore
    next_start: float = 0.0  # monotonic time reserved for the next request to start, at the earliest
    last_start: float = float("-inf")  # when the latest request to the host actually started
    users: int = 0  # tasks holding or waiting for the host's slot


class LocalHostLimiter:
    """In-process limiter. Start times are reserved in arrival order, so waiters are served fairly.

    The delay is measured between request STARTS (like Scrapy's DOWNLOAD_DELAY): with a concurrency of 2 and
    a delay of 1 s, a host sees at most one new request per second and never more than two in flight.
    """

    def __init__(
        self,
        per_host_concurrency: int,
        min_delay_s: float,
        max_concurrency: int,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_host_concurrency < 1 or max_concurrency < 1:
            raise ValueError("concurrency limits must be at least 1")
        self.per_host_concurrency = per_host_concurrency
        self.min_delay_s = max(0.0, min_delay_s)
        self.max_concurrency = max_concurrency
        self._clock = clock
        self._global = asyncio.Semaphore(max_concurrency)
        self._hosts: dict[str, _HostState] = {}

    def slot(self, host: str) -> AbstractAsyncContextManager[None]:
        return self._slot(host.lower())

    @asynccontextmanager
    async def _slot(self, host: str) -> AsyncIterator[None]:
        state = self._hosts.get(host)
        if state is None:
            if len(self._hosts) >= _SWEEP_AT_HOSTS:
                self._sweep()
            state = self._hosts[host] = _HostState(asyncio.Semaphore(self.per_host_concurrency))
        state.users += 1
        try:
            # Take the host slot before the global one, so a task queued behind a busy host does not hold
            # a global slot that requests to other hosts could use.
            async with state.semaphore:
                now = self._clock()
                start = max(now, state.next_start)
                state.next_start = start + self.min_delay_s
                if start > now:
                    await asyncio.sleep(start - now)
                async with self._global:
                    # Waiting for the global slot can push this start next to a later-reserved one;
                    # re-check against the last actual start so the gap holds in every case.
                    gap = state.last_start + self.min_delay_s - self._clock()
                    if gap > 0:
                        await asyncio.sleep(gap)
                    state.last_start = self._clock()
                    state.next_start = max(state.next_start, state.last_start + self.min_delay_s)
                    yield
        finally:
            state.users -= 1

    def _sweep(self) -> None:
        now = self._clock()
        for host in [h for h, s in self._hosts.items() if s.users == 0 and s.next_start <= now]:
            del self._hosts[host]
