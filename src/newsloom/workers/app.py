"""The Celery application: broker, queues and the delivery guarantees every task relies on.

Delivery is at least once: a task is acknowledged only after it finished (``acks_late``), a task whose pool
process died is put back (``reject_on_worker_lost``), and on Redis a task that a dead worker had taken comes
back after the visibility timeout. Tasks are therefore written to be idempotent (see tasks.py).
"""

from __future__ import annotations

from typing import Any

import redis
from celery import Celery

from newsloom.errors import ConfigError
from newsloom.settings import Settings
from newsloom.workers.config import ALL_QUEUES, FETCH_QUEUE, QueueConfig, queue_config, queue_name

app = Celery("newsloom", set_as_current=False)

TASK_POLL = "newsloom.poll_source"
TASK_FETCH = "newsloom.fetch_article"
TASK_FILE = "newsloom.ingest_file"
TASK_ASSIGN = "newsloom.assign_article"
TASK_NOTIFY = "newsloom.deliver_notifications"
TASK_DIGESTS = "newsloom.send_digests"
TASK_PAGES = "newsloom.build_story_pages"

# kombu's Redis restore sweep runs under a Redis lock that expires after 300 s by default: a process killed
# while sweeping (workers sweep every restore interval) would stop every restore for five minutes, so a dead
# worker's tasks came back after visibility timeout + up to 300 s. A sweep puts back at most RESTORE_LIMIT
# (1,000) tasks at ~1 ms each; 10 s covers that on a slow Redis. Two sweeps overlapping after an expiry are
# harmless: each task is put back in a transaction watching the unacked hash, so only one of them moves it.
UNACKED_MUTEX_EXPIRE_S = 10


def is_redis_url(url: str) -> bool:
    return url.startswith(("redis://", "rediss://", "unix://"))


def state_url(settings: Settings, config: QueueConfig) -> str:
    """The Redis that holds leases, limiter state and enqueue markers: the broker itself when it is Redis."""
    url = config.queue_redis_url or settings.queue_url
    if not is_redis_url(url):
        raise ConfigError(
            f"queue mode needs Redis for shared state; the broker {settings.queue_url!r} is not Redis, "
            "so set NEWSLOOM_QUEUE_REDIS_URL=redis://..."
        )
    return url


def redis_client(settings: Settings, config: QueueConfig) -> redis.Redis:
    return redis.Redis.from_url(state_url(settings, config))


def configure_app(settings: Settings, config: QueueConfig | None = None) -> Celery:
    """Point the module's Celery app (the one tasks are registered on) at ``settings.queue_url``; for workers."""
    app.conf.update(celery_conf(settings, config or queue_config(settings)))
    return app


def producer_app(settings: Settings, config: QueueConfig) -> Celery:
    """A Celery app of its own for sending tasks by name, with its own connection pool.

    Producers do not share the module's app, so that two configurations in one process (tests, a web app
    enqueueing next to a worker) never send through a pool set up for the other.
    """
    producer = Celery("newsloom", set_as_current=False)
    producer.conf.update(celery_conf(settings, config))
    return producer


def celery_conf(settings: Settings, config: QueueConfig) -> dict[str, Any]:
    """Broker, queues and delivery guarantees."""
    if not settings.queue_url:
        raise ConfigError("queue mode needs NEWSLOOM_QUEUE_URL (e.g. redis://127.0.0.1:6379/0)")
    config = config or queue_config(settings)
    transport: dict[str, Any] = {}
    if is_redis_url(settings.queue_url):
        transport = {
            "visibility_timeout": config.queue_visibility_timeout_s,
            "unacked_restore_interval": config.queue_restore_interval_s,
            # Scan on every sweep: the interval above already says how often (kombu's default scans every 10th).
            "unacked_restore_throttle": 1,
            "unacked_mutex_expire": UNACKED_MUTEX_EXPIRE_S,
            # kombu's own keys (unacked, bindings) carry the prefix too, so deployments sharing a Redis
            # do not restore each other's tasks.
            "global_keyprefix": f"{config.queue_prefix}:kombu:" if config.queue_prefix else "",
        }
    routes = {
        TASK_POLL: {"queue": queue_name(config, "poll")},
        TASK_FETCH: {"queue": queue_name(config, "fetch")},
        TASK_FILE: {"queue": queue_name(config, "fetch")},
        TASK_ASSIGN: {"queue": queue_name(config, "assign")},
        TASK_NOTIFY: {"queue": queue_name(config, "fetch")},
        TASK_DIGESTS: {"queue": queue_name(config, "fetch")},
        TASK_PAGES: {"queue": queue_name(config, "fetch")},
    }
    return dict(
        broker_url=settings.queue_url,
        broker_transport_options=transport,
        broker_connection_retry_on_startup=True,
        task_default_queue=queue_name(config, FETCH_QUEUE),
        task_create_missing_queues=True,
        task_routes=routes,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # One task reserved per pool process: with late acks, prefetched tasks are stuck behind a slow one
        # and come back only after the visibility timeout if the worker dies.
        worker_prefetch_multiplier=1,
        worker_enable_remote_control=False,
        worker_send_task_events=False,
        worker_hijack_root_logger=False,
    )


def all_queue_names(config: QueueConfig) -> list[str]:
    return [queue_name(config, stage) for stage in ALL_QUEUES]
