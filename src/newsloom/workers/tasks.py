"""The pipeline's stages as Celery tasks: poll a source, fetch a page or file, assign a story.

Index: full-text indexing is not a task of its own. The search index is maintained by the database in the
same transaction as the article row (a generated tsvector column with a GIN index on PostgreSQL, FTS5
triggers on SQLite), so an article is searchable the moment it is stored and can never be stored unindexed.

Every task is idempotent (see stages.py and assigner.py); delivery is at least once (see app.py). Arguments
are JSON: ids and plain dicts, never records or pickles.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar, cast

from celery import Task
from celery.exceptions import Reject

from newsloom.errors import QueueError, StorageError
from newsloom.workers import stages
from newsloom.workers.app import (
    TASK_ASSIGN,
    TASK_DIGESTS,
    TASK_FETCH,
    TASK_FILE,
    TASK_NOTIFY,
    TASK_PAGES,
    TASK_POLL,
    app,
)
from newsloom.workers.assigner import LeaseLostError, current_assigner
from newsloom.workers.context import worker_context

log = logging.getLogger(__name__)

# Transient failures (database restarting, queue full for a minute) are retried this many times, waiting
# RETRY_DELAY_S times the attempt number: five tries over ~2.5 minutes ride out a database failover.
MAX_RETRIES = 5
RETRY_DELAY_S = 10.0
TRANSIENT = (StorageError, QueueError)

F = TypeVar("F", bound=Callable[..., Any])


def _task(name: str) -> Callable[[F], F]:
    """``app.task`` with a type: Celery ships no annotations, and tasks are sent by name (queue.py)."""
    return cast(Callable[[F], F], app.task(name=name, bind=True))


def _retry(task: Task, exc: Exception) -> Any:
    attempt = task.request.retries + 1
    return task.retry(exc=exc, countdown=RETRY_DELAY_S * attempt, max_retries=MAX_RETRIES)


@_task(TASK_POLL)
def poll_source(self: Task, source_id: int) -> str:
    ctx = worker_context()
    try:
        outcome = stages.poll_source(ctx, source_id)
    except TRANSIENT as exc:
        raise _retry(self, exc) from exc
    finally:
        ctx.producer.clear_poll_marker(source_id)
    if outcome is None:
        return "removed"
    return f"{outcome.status}: {outcome.new_articles} new of {outcome.items}"


@_task(TASK_FETCH)
def fetch_article(self: Task, source_id: int, item: dict[str, Any], feed: dict[str, Any]) -> bool:
    try:
        return stages.fetch_article(worker_context(), source_id, item, feed)
    except TRANSIENT as exc:
        raise _retry(self, exc) from exc


@_task(TASK_FILE)
def ingest_file(self: Task, path: str) -> int:
    try:
        return stages.ingest_file(worker_context(), path)
    except TRANSIENT as exc:
        raise _retry(self, exc) from exc


@_task(TASK_ASSIGN)
def assign_article(self: Task, article_id: int) -> str | None:
    """Registered so that the task has a name to be sent by; the assigner takes these tasks itself, in batches
    (assigner.py, inbox.py), and a Celery worker that consumes the assign queue only puts them back."""
    assigner = current_assigner()
    if assigner is None:
        # Only `newsloom worker` starts assigners; a plain `celery worker -Q newsloom.assign` would have no
        # lease and no indexes. Put the task back for the real assigner.
        log.error("assign task reached a process that is not the assigner; consume the assign queue with "
                  "`newsloom worker` only")
        raise Reject("not the assigner", requeue=True)
    try:
        return assigner.assign(article_id)
    except LeaseLostError as exc:
        raise Reject(str(exc), requeue=True) from exc
    except StorageError as exc:
        raise _retry(self, exc) from exc


@_task(TASK_NOTIFY)
def deliver_notifications(self: Task) -> str:
    """Deliver the due outbox rows; the scheduler enqueues this while any are pending (one waits at a time)."""
    ctx = worker_context()
    ctx.producer.clear_notify_marker()  # cleared first: events stored while this runs get the next task
    try:
        report = stages.deliver_notifications(ctx)
    except TRANSIENT as exc:
        raise _retry(self, exc) from exc
    return f"{report.sent} sent, {report.retrying} to retry, {report.failed} failed"


@_task(TASK_DIGESTS)
def send_digests(self: Task) -> str:
    """Send the due e-mail digests; the scheduler enqueues this while any are due (one waits at a time)."""
    ctx = worker_context()
    ctx.producer.clear_notify_marker("digests")
    try:
        report = stages.send_digests(ctx)
    except TRANSIENT as exc:
        raise _retry(self, exc) from exc
    return f"{report.sent} digests sent, {report.retrying} to retry"


@_task(TASK_PAGES)
def build_story_pages(self: Task, story_ids: list[str]) -> int:
    """Build the stored pages of stories the assigner changed (it hands them off rather than build them in
    the one serial process). Idempotent: a page is rebuilt from what is stored now."""
    try:
        return stages.build_story_pages(worker_context(), story_ids)
    except TRANSIENT as exc:
        raise _retry(self, exc) from exc
