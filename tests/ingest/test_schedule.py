from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from newsloom.ingest.schedule import adaptive_interval, backoff_delay, next_poll_at

NOW = datetime(2025, 3, 21, 12, 0, tzinfo=UTC)
LIMITS = {"min_s": 15 * 60, "max_s": 24 * 3600, "default_s": 3600}


def every(gap: timedelta, count: int, *, newest: datetime = NOW) -> list[datetime]:
    return [newest - i * gap for i in range(count)]


def test_interval_is_half_the_median_gap() -> None:
    assert adaptive_interval(every(timedelta(hours=2), 10), now=NOW, **LIMITS) == 3600


def test_busy_feed_is_clamped_to_the_minimum() -> None:
    assert adaptive_interval(every(timedelta(minutes=3), 20), now=NOW, **LIMITS) == 15 * 60


def test_slow_feed_is_clamped_to_the_maximum() -> None:
    assert adaptive_interval(every(timedelta(days=7), 5), now=NOW, **LIMITS) == 24 * 3600


def test_median_ignores_one_odd_gap() -> None:
    times = [*every(timedelta(hours=1), 9), NOW - timedelta(days=30)]
    assert adaptive_interval(times, now=NOW, **LIMITS) == 1800


def test_only_recent_items_set_the_pace() -> None:
    # 10 hourly items now, 50 older weekly ones: the feed's current pace is hourly.
    recent = every(timedelta(hours=1), 10)
    old = every(timedelta(days=7), 50, newest=NOW - timedelta(days=30))
    assert adaptive_interval(old + recent, now=NOW, **LIMITS) == 1800


def test_a_feed_that_went_quiet_slows_down() -> None:
    times = every(timedelta(hours=1), 10, newest=NOW - timedelta(hours=10))
    assert adaptive_interval(times, now=NOW, **LIMITS) == 5 * 3600


@pytest.mark.parametrize(
    "times",
    [
        [],
        [NOW - timedelta(hours=1)],
        [NOW - timedelta(hours=1)] * 5,  # every item stamped with the feed's build time
        [NOW + timedelta(hours=1), NOW + timedelta(hours=2)],  # only future dates
    ],
)
def test_default_when_fewer_than_two_dated_items(times: list[datetime]) -> None:
    assert adaptive_interval(times, now=NOW, **LIMITS) == 3600


def test_future_dates_are_ignored() -> None:
    times = [*every(timedelta(hours=2), 5), NOW + timedelta(minutes=1), NOW + timedelta(days=3)]
    assert adaptive_interval(times, now=NOW, **LIMITS) == 3600


def test_order_and_time_zones_do_not_matter() -> None:
    times = every(timedelta(hours=2), 6)
    shifted = [t.astimezone(timezone(timedelta(hours=9))) for t in reversed(times)]
    assert adaptive_interval(shifted, now=NOW, **LIMITS) == adaptive_interval(times, now=NOW, **LIMITS)


def test_naive_times_are_taken_as_utc() -> None:
    naive = [t.replace(tzinfo=None) for t in every(timedelta(hours=2), 6)]
    assert adaptive_interval(naive, now=NOW, **LIMITS) == 3600


def test_default_is_clamped_too() -> None:
    assert adaptive_interval([], now=NOW, min_s=600, max_s=1200, default_s=3600) == 1200


@pytest.mark.parametrize(
    ("errors", "expected"),
    [(1, 60), (2, 120), (3, 240), (4, 480), (10, 3600), (1000, 3600), (10**9, 3600)],
)
def test_backoff_doubles_and_is_capped(errors: int, expected: int) -> None:
    assert backoff_delay(errors, retry_after_s=None, base_s=60, max_s=3600) == expected


def test_backoff_never_comes_sooner_than_retry_after() -> None:
    assert backoff_delay(1, retry_after_s=900, base_s=60, max_s=3600) == 900
    assert backoff_delay(1, retry_after_s=90.2, base_s=60, max_s=3600) == 91
    assert backoff_delay(5, retry_after_s=30, base_s=60, max_s=3600) == 960


def test_backoff_cap_wins_over_a_longer_retry_after() -> None:
    assert backoff_delay(1, retry_after_s=10**7, base_s=60, max_s=3600) == 3600


def test_backoff_ignores_negative_retry_after_and_no_errors() -> None:
    assert backoff_delay(2, retry_after_s=-5, base_s=60, max_s=3600) == 120
    assert backoff_delay(0, retry_after_s=None, base_s=60, max_s=3600) == 0
    assert backoff_delay(0, retry_after_s=120, base_s=60, max_s=3600) == 120


def test_next_poll_at() -> None:
    assert next_poll_at(NOW, 3600) == NOW + timedelta(hours=1)
    assert next_poll_at(NOW, 0) == NOW
    assert next_poll_at(NOW, -10) == NOW
