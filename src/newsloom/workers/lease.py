"""A named lease in Redis: at most one holder at a time, lost automatically when the holder stops renewing.

Used to let exactly one process assign stories (and one run the scheduler). The holder writes a random token
with an expiry; renewing and releasing compare the token first (in one Lua script), so a holder whose lease
expired and was taken over can never extend or delete its successor's lease. A heartbeat thread renews it;
``held`` is False as soon as the last successful renewal is older than the lease itself, even when Redis is
unreachable, so a cut-off holder stops working before a standby can have taken over.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# A standby asks for a free lease this often; it takes over at most this long after the lease expired.
ACQUIRE_POLL_S = 1.0
# The heartbeat renews three times per lease period: two renewals can fail (a slow Redis, a GC pause)
# before the lease runs out.
RENEWALS_PER_LEASE = 3

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def holder_label() -> str:
    """Who holds a lease, readable in ``redis-cli get``: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Lease:
    """One process's claim on the lease ``key``; not shared between processes (forked children make their own)."""

    def __init__(self, client: redis.Redis, key: str, ttl_s: float, *, on_lost: Callable[[], None] | None = None):
        self.client = client
        self.key = key
        self.ttl_s = ttl_s
        self.token = f"{holder_label()}:{secrets.token_hex(6)}"
        self.on_lost = on_lost
        self._renew: Any = client.register_script(_RENEW)
        self._release: Any = client.register_script(_RELEASE)
        self._valid_until = 0.0  # monotonic time until which the lease is certainly ours
        self._stop = threading.Event()
        self._heartbeat: threading.Thread | None = None

    @property
    def held(self) -> bool:
        return time.monotonic() < self._valid_until

    def holder(self) -> str | None:
        """The token of the current holder (``host:pid:random``), or None when the lease is free."""
        value = self.client.get(self.key)
        return value.decode() if isinstance(value, bytes) else value

    def try_acquire(self) -> bool:
        started = time.monotonic()
        if self.client.set(self.key, self.token, nx=True, px=int(self.ttl_s * 1000)):
            self._valid_until = started + self.ttl_s
            return True
        return self.renew()  # already ours (a restart within the same process)

    def acquire(self, *, stop: threading.Event | None = None, on_wait: Callable[[str | None], None] | None = None) -> bool:
        """Block until the lease is ours (True) or ``stop`` is set (False), then keep it renewed."""
        told = False
        while not (stop is not None and stop.is_set()):
            try:
                if self.try_acquire():
                    self._start_heartbeat()
                    return True
                if on_wait is not None and not told:
                    on_wait(self.holder())
                    told = True
            except RedisError as exc:
                log.warning("lease %s: Redis failed (%s); retrying", self.key, exc)
            time.sleep(ACQUIRE_POLL_S)
        return False

    def renew(self) -> bool:
        started = time.monotonic()
        if int(self._renew(keys=[self.key], args=[self.token, int(self.ttl_s * 1000)])):
            self._valid_until = started + self.ttl_s
            return True
        self._valid_until = 0.0
        return False

    def release(self) -> None:
        self._stop.set()
        if self._heartbeat is not None and self._heartbeat is not threading.current_thread():
            self._heartbeat.join(timeout=self.ttl_s)
        self._valid_until = 0.0
        with contextlib.suppress(RedisError):  # it expires on its own
            self._release(keys=[self.key], args=[self.token])

    def _start_heartbeat(self) -> None:
        self._stop.clear()
        self._heartbeat = threading.Thread(target=self._beat, name=f"lease-{self.key}", daemon=True)
        self._heartbeat.start()

    def _beat(self) -> None:
        interval = self.ttl_s / RENEWALS_PER_LEASE
        while not self._stop.wait(interval):
            try:
                if self.renew():
                    continue
                log.error("lease %s was taken over by %s", self.key, self.holder())
            except RedisError as exc:
                if self.held:
                    log.warning("lease %s: renewal failed (%s); retrying", self.key, exc)
                    continue
                log.error("lease %s: lost, Redis unreachable for a whole lease period (%s)", self.key, exc)
            self._valid_until = 0.0
            if self.on_lost is not None:
                self.on_lost()
            return
