"""Queue-mode tests run against the real Redis and PostgreSQL of this machine, never against fakes.

Redis is ``$NEWSLOOM_TEST_REDIS_URL`` (default: database 13 on 127.0.0.1:6379). Each test gets a key prefix of
its own (``nltest-<random>``) for newsloom's keys, queue names and kombu's keys, and deletes only the keys
under that prefix afterwards, so it can share the server with other runs. PostgreSQL tests work in a fresh
schema (see tests/storage/conftest.py). Either service missing skips the test with a message saying so.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import redis

from tests.storage.conftest import fresh_pg_schema

REDIS_URL = os.environ.get("NEWSLOOM_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


def redis_unreachable(url: str = REDIS_URL) -> str | None:
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2)
        client.ping()
        client.close()
    except redis.RedisError as exc:
        return f"Redis not reachable at {url} ({exc}); queue tests skipped"
    return None


@dataclass(frozen=True)
class RedisSpace:
    url: str
    prefix: str
    client: redis.Redis

    def env(self) -> dict[str, str]:
        """Environment that points newsloom's queue mode at this space."""
        return {"NEWSLOOM_QUEUE_URL": self.url, "NEWSLOOM_QUEUE_PREFIX": self.prefix}


@pytest.fixture
def redis_space() -> Iterator[RedisSpace]:
    reason = redis_unreachable()
    if reason:
        pytest.skip(reason)
    prefix = f"nltest-{uuid.uuid4().hex[:10]}"
    client = redis.Redis.from_url(REDIS_URL)
    try:
        yield RedisSpace(REDIS_URL, prefix, client)
    finally:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])
        client.close()


@pytest.fixture
def pg_url() -> Iterator[str]:
    with fresh_pg_schema("newsloom_queue") as url:
        yield url
