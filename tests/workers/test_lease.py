"""The Redis lease behind the single assigner and scheduler, on the real Redis."""

from __future__ import annotations

import threading
import time

import redis

from newsloom.workers.lease import Lease
from tests.workers.conftest import RedisSpace


def lease(space: RedisSpace, ttl_s: float, **kwargs: object) -> Lease:
    return Lease(redis.Redis.from_url(space.url), f"{space.prefix}:lease:test", ttl_s, **kwargs)  # type: ignore[arg-type]


def test_one_holder_at_a_time_and_release_hands_over(redis_space: RedisSpace) -> None:
    first, second = lease(redis_space, 5), lease(redis_space, 5)
    assert first.try_acquire() and first.held
    assert not second.try_acquire() and not second.held
    assert second.holder() == first.token
    first.release()
    assert not first.held
    assert second.try_acquire()


def test_an_expired_holder_cannot_renew_after_a_takeover(redis_space: RedisSpace) -> None:
    dead, standby = lease(redis_space, 0.3), lease(redis_space, 5)
    assert dead.try_acquire()  # no heartbeat: the holder died right after taking it
    time.sleep(0.4)
    assert not dead.held
    assert standby.try_acquire()
    assert not dead.renew()
    dead.release()  # must not delete the successor's lease
    assert standby.holder() == standby.token


def test_a_waiting_standby_takes_over_and_the_old_holder_is_told(redis_space: RedisSpace) -> None:
    lost = threading.Event()
    holder = lease(redis_space, 0.6, on_lost=lost.set)
    assert holder.acquire()
    time.sleep(0.5)
    assert holder.held  # the heartbeat renewed it past its first period
    redis_space.client.set(holder.key, "someone-else")  # e.g. the holder was paused longer than the lease
    assert lost.wait(2.0)
    assert not holder.held
    redis_space.client.delete(holder.key)
    standby = lease(redis_space, 5)
    assert standby.acquire(stop=threading.Event())
    standby.release()
