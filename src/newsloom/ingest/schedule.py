"""When each source is polled next. Pure: the current time is passed in, nothing is read or written.

A feed that publishes every ten minutes is worth polling often; one that publishes weekly is not. After
failures the source backs off exponentially, and never comes back sooner than the server's Retry-After.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from statistics import median

# How many of the newest dated items describe a feed's current pace. Ten spans a day or more on busy news
# feeds and months on a blog, so a change of rhythm shows within about one feed refresh.
RECENT_ITEMS = 10

# Poll twice per typical gap between items: a new item then waits about a quarter of a gap on average,
# without polling a feed many times for each item it publishes.
POLLS_PER_GAP = 2

# 2**MAX_BACKOFF_EXPONENT times the base is more than any sensible cap; stops overflow on huge error counts.
MAX_BACKOFF_EXPONENT = 32


def _as_utc(moment: datetime) -> datetime:
    """Naive datetimes are taken as UTC (the convention of newsloom's records) so they compare with aware ones."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def adaptive_interval(
    item_times: Sequence[datetime], *, now: datetime, min_s: int, max_s: int, default_s: int
) -> int:
    """Seconds until the next poll, from how often the feed has been publishing.

    Takes the median gap between the newest ``RECENT_ITEMS`` distinct item times, or the time since the
    newest item when the feed has been silent for longer than that (a feed that went quiet slows down),
    divides it by ``POLLS_PER_GAP`` and clamps it to ``[min_s, max_s]``. Dates in the future are ignored
    (clock skew, scheduled posts); repeated timestamps count once, as feeds often stamp every item with the
    build time. Returns ``default_s`` (clamped too) when fewer than two distinct dated items remain.
    """
    current = _as_utc(now)
    distinct = sorted({t for t in map(_as_utc, item_times) if t <= current}, reverse=True)[:RECENT_ITEMS]
    if len(distinct) < 2:
        return _clamp(default_s, min_s, max_s)
    gaps = [(newer - older).total_seconds() for newer, older in pairwise(distinct)]
    silence = (current - distinct[0]).total_seconds()
    pace = max(median(gaps), silence)
    return _clamp(round(pace / POLLS_PER_GAP), min_s, max_s)


def backoff_delay(error_count: int, *, retry_after_s: float | None, base_s: int, max_s: int) -> int:
    """Seconds to wait after ``error_count`` consecutive failures.

    ``base_s`` after the first failure, doubling with each further one; never sooner than the server's
    Retry-After; never longer than ``max_s`` (which wins over a longer Retry-After: the cap is the
    operator's promise that a source is retried at least that often).
    """
    exponent = min(max(error_count - 1, 0), MAX_BACKOFF_EXPONENT)
    delay = float(base_s * 2**exponent) if error_count > 0 else 0.0
    if retry_after_s is not None and retry_after_s > 0:
        delay = max(delay, float(math.ceil(retry_after_s)))
    return _clamp(int(delay), 0, max_s)


def next_poll_at(now: datetime, interval_s: int) -> datetime:
    """The moment ``interval_s`` seconds after ``now`` (a negative interval means now)."""
    return now + timedelta(seconds=max(interval_s, 0))


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(value, high))
