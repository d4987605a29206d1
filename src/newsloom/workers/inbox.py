"""The assign queue read in batches: what the assigner takes off the broker, and how it gives it back.

The assigner does not run Celery's worker loop: that loop hands over one task at a time, and each task paid for
a round trip, a trace, two log lines and a transaction of its own (~33 ms per article, see
docs/benchmarks/workers.md). Instead it takes every task already waiting, up to ``batch_max``, with
synchronous ``basic_get`` calls on a kombu channel, and acknowledges them only after their batch committed.

Delivery stays at least once, as with Celery's late acks: a taken task is recorded as unacknowledged by the
broker (kombu's unacked hash on Redis, the channel on AMQP) until acked, and one whose taker died comes back
after the visibility timeout (on AMQP as soon as the taker's connection drops). Because the assigner may be the
only consumer on Redis (``--queues assign``), it also runs kombu's restore of tasks past the visibility
timeout, as every Celery consumer does.

Messages are Celery's (``send_task`` in queue.py): protocol 2 carries ``[args, kwargs, embed]`` in the body and
the task name in the headers; protocol 1 a dict with both.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import kombu
from celery import Celery

from newsloom.workers.app import TASK_ASSIGN

log = logging.getLogger(__name__)

# kombu's annotations are partial (its calls count as untyped), so its objects are handled as Any here.
KOMBU: Any = kombu
# A task taken off the queue: a kombu Message (``decode()``, ``headers``, ``ack()``, ``requeue()``).
TaskMessage = Any

# kombu's own default (10 scans of 10 s); overridden by the deployment's ``queue_restore_interval_s``.
DEFAULT_RESTORE_INTERVAL_S = 90.0
# How many overdue unacknowledged tasks one restore scan puts back (kombu's ``unacked_restore_limit`` default
# is 1; a killed assigner leaves a whole batch behind, which should come back in one scan).
RESTORE_LIMIT = 1000


def article_id_of(message: TaskMessage) -> int | None:
    """The article id an assign task carries; None for anything else (logged and dropped by the caller)."""
    try:
        body = message.decode()
        headers = message.headers or {}
        if isinstance(body, dict):  # Celery task protocol 1
            task, args = body.get("task"), body.get("args")
        else:  # protocol 2: [args, kwargs, embed]
            task, args = headers.get("task"), body[0]
        if task != TASK_ASSIGN or not args or isinstance(args[0], bool):
            return None
        return int(args[0])
    except (TypeError, ValueError, IndexError, KeyError, AttributeError):
        return None
    except Exception:  # kombu's ContentDisallowed / decode errors: a message we cannot read
        log.exception("unreadable message on the assign queue")
        return None


class Inbox:
    """One assigner's connection to the assign queue. Not thread safe; open it in the process that uses it."""

    def __init__(self, app: Celery, queue: str, *, batch_max: int, restore_interval_s: float) -> None:
        self.app = app
        self.queue_name = queue
        self.batch_max = batch_max
        self.restore_interval_s = restore_interval_s or DEFAULT_RESTORE_INTERVAL_S
        self._connection: Any = None
        self._queue: Any = None
        self._next_restore = 0.0

    def _open(self) -> Any:
        if self._queue is None:
            connection = self.app.connection_for_read()
            connection.ensure_connection(max_retries=3)
            channel = connection.channel()
            # The same declaration Celery makes for a missing queue (task_create_missing_queues): a direct
            # exchange named like the queue, bound with the queue's name, so send_task's messages land here.
            bound = KOMBU.Queue(self.queue_name, KOMBU.Exchange(self.queue_name, type="direct"), routing_key=self.queue_name)
            bound = bound(channel)
            bound.declare()
            self._connection, self._queue = connection, bound
        return self._queue

    @property
    def errors(self) -> tuple[type[BaseException], ...]:
        """The broker's connection and channel errors (the caller reconnects after a pause)."""
        connection = self._connection or self.app.connection_for_read()
        return tuple(connection.connection_errors) + tuple(connection.channel_errors)

    def take(self) -> list[TaskMessage]:
        """Up to ``batch_max`` tasks, every one already waiting; an empty list when none is."""
        queue = self._open()
        taken: list[TaskMessage] = []
        while len(taken) < self.batch_max:
            message = queue.get(no_ack=False, accept=["json"])
            if message is None:
                break
            taken.append(message)
        return taken

    def restore_overdue(self) -> None:
        """Put back tasks whose taker died (past the visibility timeout), at most every restore interval."""
        now = time.monotonic()
        if now < self._next_restore or self._queue is None:
            return
        self._next_restore = now + self.restore_interval_s
        # Redis only: kombu's virtual channels keep the unacked tasks (``qos``) and restore them here. A py-amqp
        # channel has no ``qos`` at all: RabbitMQ puts a dead consumer's unacked tasks back by itself.
        restore = getattr(getattr(self._queue.channel, "qos", None), "restore_visible", None)
        if restore is not None:
            restore(num=RESTORE_LIMIT, interval=1)

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.release()
            except Exception:  # closing a broken connection: nothing left to save
                log.debug("closing the assign queue connection failed", exc_info=True)
        self._connection, self._queue = None, None
