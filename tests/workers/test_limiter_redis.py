"""The shared host limiter on the real Redis: limits hold across limiters (processes), dead holders expire."""

from __future__ import annotations

import asyncio
import itertools
import time
from http.server import BaseHTTPRequestHandler

import redis.asyncio as aioredis

from newsloom.ingest.fetch import Fetcher
from newsloom.ingest.politeness_redis import RedisHostLimiter
from newsloom.settings import load_settings
from tests.loopback import LoopbackServer
from tests.workers.conftest import RedisSpace

# Redis stamps times in whole milliseconds and the event loop wakes a little late or early.
CLOCK_SLACK_S = 0.01
# Requests are spaced when their slot is granted; on the wire they arrive after a connection set-up that
# varies by a few tens of milliseconds on a loaded machine (measured: up to ~15 ms on 2 busy cores).
NETWORK_SLACK_S = 0.04


def limiter(space: RedisSpace, *, concurrency: int, delay_s: float, lease_s: float = 30.0) -> RedisHostLimiter:
    """A limiter with a Redis connection of its own, as in a separate worker process."""
    return RedisHostLimiter(
        aioredis.Redis.from_url(space.url), per_host_concurrency=concurrency, min_delay_s=delay_s,
        max_concurrency=16, lease_s=lease_s, key_prefix=f"{space.prefix}:politeness",
    )


def test_concurrency_and_delay_hold_across_limiters(redis_space: RedisSpace) -> None:
    starts: list[float] = []
    active = 0
    most_active = 0

    async def request(chosen: RedisHostLimiter) -> None:
        nonlocal active, most_active
        async with chosen.slot("News.Example"):
            starts.append(time.monotonic())
            active += 1
            most_active = max(most_active, active)
            await asyncio.sleep(0.15)
            active -= 1

    async def main() -> None:
        limiters = [limiter(redis_space, concurrency=2, delay_s=0.05) for _ in range(3)]
        await asyncio.gather(*(request(limiters[i % 3]) for i in range(9)))
        for each in limiters:
            await each.client.aclose()

    asyncio.run(main())
    gaps = [b - a for a, b in zip(sorted(starts), sorted(starts)[1:], strict=False)]
    assert len(starts) == 9
    assert most_active == 2
    assert min(gaps) >= 0.05 - CLOCK_SLACK_S


def test_a_dead_holder_frees_its_slot_when_the_lease_expires(redis_space: RedisSpace) -> None:
    async def main() -> float:
        dead = limiter(redis_space, concurrency=1, delay_s=0.0, lease_s=0.4)
        held = dead.slot("example.org")
        await held.__aenter__()  # taken and never given back: the process died
        alive = limiter(redis_space, concurrency=1, delay_s=0.0)
        started = time.monotonic()
        async with alive.slot("example.org"):
            waited = time.monotonic() - started
        await dead.client.aclose()
        await alive.client.aclose()
        del held
        return waited

    waited = asyncio.run(main())
    assert 0.2 < waited < 1.5


def test_two_fetchers_share_one_host_politely(loopback: LoopbackServer, redis_space: RedisSpace) -> None:
    """Real HTTP: two fetchers (two workers) with the Redis limiter never start requests closer than the delay."""
    arrivals: list[float] = []

    def handler(req: BaseHTTPRequestHandler) -> None:
        arrivals.append(time.monotonic())
        body = b"<html><body><p>ok</p></body></html>"
        req.send_response(200)
        req.send_header("Content-Type", "text/html")
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        req.wfile.write(body)

    urls = [loopback.add_raw(f"/page{i}", handler) for i in range(6)]
    settings = load_settings(env={}, allow_private_networks=True, per_host_concurrency=1, per_host_delay_s=0.1)

    async def main() -> None:
        fetchers = [
            Fetcher(settings, limiter=RedisHostLimiter.from_settings(
                aioredis.Redis.from_url(redis_space.url), settings, key_prefix=f"{redis_space.prefix}:politeness"))
            for _ in range(2)
        ]
        await asyncio.gather(*(fetchers[i % 2].fetch(url) for i, url in enumerate(urls)))
        for fetcher in fetchers:
            await fetcher.aclose()

    asyncio.run(main())
    arrivals.sort()
    assert len(arrivals) == 6
    assert min(b - a for a, b in itertools.pairwise(arrivals)) >= 0.1 - NETWORK_SLACK_S
    assert arrivals[-1] - arrivals[0] >= 5 * 0.1 - NETWORK_SLACK_S
