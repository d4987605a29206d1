"""Queue-mode tests run against the real Redis, RabbitMQ and PostgreSQL of this machine, never against fakes.

Redis is ``$NEWSLOOM_TEST_REDIS_URL`` (default: database 13 on 127.0.0.1:6379). Each test gets a key prefix of
its own (``nltest-<random>``) for newsloom's keys, queue names and kombu's keys, and deletes only the keys
under that prefix afterwards, so it can share the server with other runs. PostgreSQL tests work in a fresh
schema (see tests/storage/conftest.py). Any service missing skips the test with a message saying so.

RabbitMQ is ``$NEWSLOOM_TEST_AMQP_URL`` (default: the guest account on 127.0.0.1:5672, vhost ``/``). A vhost
of its own per test would need the management API, so tests there are isolated the same way, by the prefix of
their queue names, and delete their queues and exchanges afterwards. Redis is still needed beside it (leases,
politeness, markers), as in a deployment. ``queue_space`` runs a test once on each broker.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import kombu
import pytest
import redis

from tests.storage.conftest import fresh_pg_schema

REDIS_URL = os.environ.get("NEWSLOOM_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
AMQP_URL = os.environ.get("NEWSLOOM_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
# Every queue newsloom declares is named ``<prefix>.<stage>``, with a direct exchange of the same name
# (Celery's task_create_missing_queues, and the assigner's inbox); see workers/config.py.
STAGES = ("poll", "fetch", "assign")


def redis_unreachable(url: str = REDIS_URL) -> str | None:
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2)
        client.ping()
        client.close()
    except redis.RedisError as exc:
        return f"Redis not reachable at {url} ({exc}); queue tests skipped"
    return None


def amqp_unreachable(url: str = AMQP_URL) -> str | None:
    connection = kombu.Connection(url, connect_timeout=2)
    try:
        connection.ensure_connection(max_retries=0)  # one try: a retry waits 2 s per skipped test
    except Exception as exc:  # kombu raises the transport's own errors (socket, auth, ...)
        return f"RabbitMQ not reachable at {url} ({exc}); AMQP queue tests skipped"
    finally:
        connection.release()
    return None


@dataclass(frozen=True)
class RedisSpace:
    """Where a test's queue mode runs: ``url`` is the Redis of the shared state (and the broker unless
    ``broker_url`` is set), ``client`` a connection to it, ``prefix`` the test's own names."""

    url: str
    prefix: str
    client: redis.Redis
    broker_url: str | None = None

    @property
    def broker(self) -> str:
        return "amqp" if self.broker_url else "redis"

    def env(self) -> dict[str, str]:
        """Environment that points newsloom's queue mode at this space."""
        if self.broker_url:
            return {
                "NEWSLOOM_QUEUE_URL": self.broker_url,
                "NEWSLOOM_QUEUE_REDIS_URL": self.url,
                "NEWSLOOM_QUEUE_PREFIX": self.prefix,
            }
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
def amqp_space(redis_space: RedisSpace) -> Iterator[RedisSpace]:
    """RabbitMQ as the broker, Redis (the test's prefix) for the state; deletes the test's queues afterwards."""
    reason = amqp_unreachable()
    if reason:
        pytest.skip(reason)
    try:
        yield dataclasses.replace(redis_space, broker_url=AMQP_URL)
    finally:
        delete_amqp_queues(AMQP_URL, redis_space.prefix)


def delete_amqp_queues(url: str, prefix: str) -> None:
    with kombu.Connection(url, connect_timeout=2) as connection:
        for stage in STAGES:
            name = f"{prefix}.{stage}"
            # A delete of something never declared closes the channel (404) on some brokers; a fresh channel
            # per call keeps one missing queue from stopping the rest.
            for delete in ("queue_delete", "exchange_delete"):
                channel = connection.channel()
                with contextlib.suppress(Exception):  # nothing by that name: nothing to clean up
                    getattr(channel, delete)(name)
                with contextlib.suppress(Exception):
                    channel.close()


@pytest.fixture(params=["redis", "amqp"])
def queue_space(request: pytest.FixtureRequest) -> RedisSpace:
    """The test once with Redis as the broker, once with RabbitMQ (Redis then holds only the state)."""
    return request.getfixturevalue(f"{request.param}_space")  # type: ignore[no-any-return]


@pytest.fixture
def pg_url() -> Iterator[str]:
    with fresh_pg_schema("newsloom_queue") as url:
        yield url
