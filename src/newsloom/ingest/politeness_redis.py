"""Per-host politeness shared by every worker process and machine: the ``HostLimiter`` protocol on Redis.

Per host, Redis holds a sorted set of slot leases (member: a random token, score: when the lease expires) and
the earliest time the next request may start. One Lua script takes a slot atomically: it drops expired leases,
then grants a slot when fewer than ``per_host_concurrency`` are held and the minimum gap since the previous
start has passed, else answers how long to wait. A worker that dies holding a slot stops renewing nothing:
its lease simply expires, so a crash never wedges a host. Times come from the Redis server's clock, so the
machines' clocks need not agree.

The global cap on simultaneous requests stays per process (an ``asyncio.Semaphore``): it protects this
process's sockets and memory, which is what it is for; hosts are protected by the shared per-host state.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from newsloom.errors import QueueError
from newsloom.settings import Settings

# A slot lease outlives the request it covers by this much: a request is bounded by total_timeout_s, and the
# margin covers the time between the grant and the request's start (connection set-up, robots check).
LEASE_MARGIN_S = 5.0
# Host keys vanish this long after their last use, so a crawl of many hosts leaves no garbage in Redis.
IDLE_KEY_TTL_S = 600.0
# A full host is asked again after this long (a release is not signalled, so waiters poll). 50 ms adds at
# most 50 ms to a request that queued behind a busy host, and a few Redis round trips per second per waiter.
FULL_POLL_S = 0.05
# Waits are capped so that a waiter re-checks (and notices a freed slot or changed delay) at least this often.
MAX_WAIT_S = 1.0

# KEYS: holders zset, next-start string. ARGV: token, per-host limit, delay ms, lease ms, idle ttl ms, poll ms.
# Returns 0 when the slot is taken, else milliseconds to wait before asking again.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return math.max(1, math.min(tonumber(first[2]) - now, tonumber(ARGV[6])))
end
local next_start = tonumber(redis.call('GET', KEYS[2]) or '0')
if next_start > now then
  return next_start - now
end
local delay = tonumber(ARGV[3])
local idle = tonumber(ARGV[5])
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[4]) + idle)
redis.call('SET', KEYS[2], now + delay, 'PX', delay + idle)
return 0
"""


class RedisHostLimiter:
    """``HostLimiter`` whose per-host concurrency and delay hold across processes sharing one Redis.

    ``client`` is a ``redis.asyncio.Redis`` used from the event loop the fetcher runs in.
    """

    def __init__(
        self,
        client: aioredis.Redis,
        *,
        per_host_concurrency: int,
        min_delay_s: float,
        max_concurrency: int,
        lease_s: float,
        key_prefix: str = "newsloom",
    ) -> None:
        if per_host_concurrency < 1 or max_concurrency < 1:
            raise ValueError("concurrency limits must be at least 1")
        self.client = client
        self.per_host_concurrency = per_host_concurrency
        self.min_delay_s = max(0.0, min_delay_s)
        self.lease_s = lease_s
        self.key_prefix = key_prefix
        self._global = asyncio.Semaphore(max_concurrency)
        self._acquire: Any = client.register_script(_ACQUIRE)

    @classmethod
    def from_settings(cls, client: aioredis.Redis, settings: Settings, *, key_prefix: str = "newsloom") -> RedisHostLimiter:
        return cls(
            client,
            per_host_concurrency=settings.per_host_concurrency,
            min_delay_s=settings.per_host_delay_s,
            max_concurrency=settings.max_concurrency,
            lease_s=settings.total_timeout_s + LEASE_MARGIN_S,
            key_prefix=key_prefix,
        )

    def keys(self, host: str) -> tuple[str, str]:
        """(slot leases, next start) keys of a host."""
        base = f"{self.key_prefix}:host:{host.lower()}"
        return f"{base}:slots", f"{base}:next"

    def slot(self, host: str) -> AbstractAsyncContextManager[None]:
        return self._slot(host.lower())

    @asynccontextmanager
    async def _slot(self, host: str) -> AsyncIterator[None]:
        slots_key, next_key = self.keys(host)
        token = secrets.token_hex(8)
        try:
            while True:
                wait_ms = int(
                    await self._acquire(
                        keys=[slots_key, next_key],
                        args=[
                            token,
                            self.per_host_concurrency,
                            int(self.min_delay_s * 1000),
                            int(self.lease_s * 1000),
                            int(IDLE_KEY_TTL_S * 1000),
                            int(FULL_POLL_S * 1000),
                        ],
                    )
                )
                if wait_ms <= 0:
                    break
                await asyncio.sleep(min(wait_ms / 1000, MAX_WAIT_S))
        except RedisError as exc:
            raise QueueError(f"shared host limiter: Redis failed ({exc})") from exc
        try:
            # The host slot is taken before the global one (as in LocalHostLimiter), so a task queued behind a
            # busy host holds no global slot that requests to other hosts could use.
            async with self._global:
                yield
        finally:
            # On a Redis failure the lease expires on its own; the request itself succeeded or failed already.
            with contextlib.suppress(RedisError):
                await self.client.zrem(slots_key, token)
