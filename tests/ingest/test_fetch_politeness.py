"""Per-host concurrency, delay between requests and the global cap, measured where they matter: at the server
(request arrival times) for the Fetcher, and on the limiter itself for the global cap across hosts."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from http.server import BaseHTTPRequestHandler

import pytest

from newsloom.ingest.fetch import Fetcher
from newsloom.ingest.politeness import LocalHostLimiter
from tests.ingest.test_fetch import make_settings, run
from tests.loopback import LoopbackServer

# Scheduling jitter on a loaded 2-core CI machine; gaps are asserted to within this much.
JITTER_S = 0.02


class Recorder:
    """Raw handler that records when each request arrives and how many are in flight at once."""

    def __init__(self, hold_s: float) -> None:
        self.hold_s = hold_s
        self.arrivals: list[float] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()

    def __call__(self, h: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self.arrivals.append(time.monotonic())
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            time.sleep(self.hold_s)
            h.send_response(200)
            h.send_header("Content-Length", "2")
            h.end_headers()
            h.wfile.write(b"ok")
        finally:
            with self._lock:
                self.in_flight -= 1


async def fetch_many(settings_overrides: dict[str, float], urls: list[str]) -> None:
    async with Fetcher(make_settings(**settings_overrides)) as fetcher:
        await asyncio.gather(*(fetcher.fetch(u) for u in urls))


def test_per_host_concurrency_is_respected(loopback: LoopbackServer) -> None:
    recorder = Recorder(hold_s=0.15)
    loopback.add_raw("/slow", recorder)
    urls = [loopback.url(f"/slow?n={i}") for i in range(6)]

    run(fetch_many({"per_host_concurrency": 2, "per_host_delay_s": 0.0}, urls))

    assert len(recorder.arrivals) == 6
    assert recorder.max_in_flight == 2


def test_delay_between_requests_to_one_host(loopback: LoopbackServer) -> None:
    recorder = Recorder(hold_s=0.0)
    loopback.add_raw("/paced", recorder)
    urls = [loopback.url(f"/paced?n={i}") for i in range(4)]

    run(fetch_many({"per_host_concurrency": 4, "per_host_delay_s": 0.2}, urls))

    arrivals = sorted(recorder.arrivals)
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert len(gaps) == 3
    # The delay is kept between request starts at the client; arrival times at the server add scheduling
    # noise to each gap on a loaded machine, but not to the whole span, which is the firm check.
    assert arrivals[-1] - arrivals[0] >= 3 * 0.2 - JITTER_S
    assert min(gaps) >= 0.2 / 2


def test_global_cap_across_hosts() -> None:
    limiter = LocalHostLimiter(per_host_concurrency=5, min_delay_s=0.0, max_concurrency=2)
    holding = 0
    most = 0

    async def one(host: str) -> None:
        nonlocal holding, most
        async with limiter.slot(host):
            holding += 1
            most = max(most, holding)
            await asyncio.sleep(0.02)
            holding -= 1

    async def main() -> None:
        await asyncio.gather(*(one(f"host{i % 4}.example") for i in range(12)))

    run(main())
    assert most == 2


def test_busy_host_does_not_block_other_hosts() -> None:
    """A queue of requests to one slow host must not hold the global slots other hosts need."""
    limiter = LocalHostLimiter(per_host_concurrency=1, min_delay_s=0.5, max_concurrency=2)
    started: dict[str, float] = {}

    async def one(key: str, host: str) -> None:
        async with limiter.slot(host):
            started[key] = time.monotonic()

    async def main() -> float:
        t0 = time.monotonic()
        busy = [asyncio.create_task(one(f"busy{i}", "busy.example")) for i in range(3)]
        await asyncio.sleep(0.01)
        await one("other", "other.example")
        other_at = started["other"] - t0
        await asyncio.gather(*busy)
        return other_at

    assert run(main()) < 0.2  # the other host went first although busy.example has a 1 s backlog


def test_limiter_rejects_nonsense_limits() -> None:
    with pytest.raises(ValueError):
        LocalHostLimiter(per_host_concurrency=0, min_delay_s=0, max_concurrency=1)
