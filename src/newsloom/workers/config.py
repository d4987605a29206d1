"""Queue-mode tunables: queue names, bounds, leases and redelivery.

The values are settings like any other (``queue_max_length`` in TOML, ``NEWSLOOM_QUEUE_MAX_LENGTH`` in the
environment); this module explains each default and validates them together.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from newsloom.errors import ConfigError
from newsloom.settings import Settings

# Queue names, one per pipeline stage (a "prefix." is put in front when queue_prefix is set).
POLL_QUEUE = "poll"  # fetch a feed, parse it, store full-text items, fan out page fetches
FETCH_QUEUE = "fetch"  # fetch and extract one article page, or read one local file; store it
ASSIGN_QUEUE = "assign"  # syndication link and story assignment; exactly one consumer at a time
ALL_QUEUES = (POLL_QUEUE, FETCH_QUEUE, ASSIGN_QUEUE)


@dataclass(frozen=True)
class QueueConfig:
    # 10,000 waiting tasks is ~5 MB of Redis memory (tasks carry ids and feed items of ~0.5 KB) and half an
    # hour of work for a 4-process deployment at the ~5 articles/s per process measured in bench/workers.py;
    # beyond that a backlog only grows, so producers are slowed, then refused.
    queue_max_length: int = 10_000
    # How long a producer waits for room in a full queue before giving up with QueueError: a poll task that
    # fans out 50 page fetches rides out a burst; a CLI user is told within a minute that workers are stuck.
    queue_full_wait_s: float = 60.0
    # A task not acknowledged this long after delivery is handed out again (Redis transport). It must exceed
    # the slowest task: a page fetch is capped by total_timeout_s (60 s) plus politeness waits, so 15 min
    # leaves ample room while a killed worker's work comes back within a quarter of an hour.
    queue_visibility_timeout_s: float = 900.0
    # How often workers look for unacknowledged tasks that passed the visibility timeout (kombu's default
    # sweep is ten times 10 s; a tenth of the visibility timeout bounds the extra delay to 10%).
    queue_restore_interval_s: float = 90.0
    # The assigner's lease: a standby takes over at most this long after the holder died. Renewed every third
    # of it, so two missed renewals (a GC pause, a slow Redis) are survived.
    queue_lease_s: float = 30.0
    # Only one scheduler enqueues due sources; it looks for them this often.
    queue_scheduler_tick_s: float = 30.0
    # The scheduler re-enqueues articles stored without a story (a lost assign task) this often.
    queue_sweep_interval_s: float = 600.0
    # Prefix for every Redis key and queue name newsloom creates, so deployments (and test runs) can share
    # one Redis server and clean up only their own keys.
    queue_prefix: str = "newsloom"
    # Redis for leases, limiter state and enqueue markers; empty: the broker itself (which must then be Redis).
    # Set it when the broker is RabbitMQ.
    queue_redis_url: str = ""


def queue_config(settings: Settings) -> QueueConfig:
    """The queue tunables, taken from the ``Settings`` fields of the same names (TOML file or environment)."""
    values: dict[str, Any] = {f.name: getattr(settings, f.name) for f in fields(QueueConfig)}
    config = QueueConfig(**values)
    if config.queue_max_length < 1 or config.queue_lease_s <= 0 or config.queue_visibility_timeout_s <= 0:
        raise ConfigError("queue_max_length, queue_lease_s and queue_visibility_timeout_s must be positive")
    return config


def queue_name(config: QueueConfig, stage: str) -> str:
    """The broker queue of a stage: ``newsloom.fetch`` by default."""
    return f"{config.queue_prefix}.{stage}" if config.queue_prefix else stage


def redis_key(config: QueueConfig, *parts: str) -> str:
    """A key of newsloom's own Redis state (leases, limiter, dedupe markers): ``newsloom:lease:assign``."""
    return ":".join((config.queue_prefix or "newsloom", *parts))
