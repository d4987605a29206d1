"""Small builders for the storage contract tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from newsloom.types import NewArticle, Story

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def at(hours: float) -> datetime:
    """``T0`` plus some hours: readable times for ordering tests."""
    return T0 + timedelta(hours=hours)


def article(n: int, **changes: object) -> NewArticle:
    values: dict[str, object] = {
        "canonical_url": f"https://news.example/{n}",
        "title": f"Headline {n}",
        "text": f"Body of article number {n}.",
        "content_hash": f"hash-{n}",
        "url": f"https://news.example/{n}?utm_source=feed",
        "published_at": at(n),
    }
    values.update(changes)
    return NewArticle(**values)  # type: ignore[arg-type]


def story(story_id: str, **changes: object) -> Story:
    values: dict[str, object] = {
        "id": story_id,
        "headline": f"Story {story_id}",
        "summary": "What happened.",
        "first_seen": T0,
        "last_seen": at(1),
        "article_count": 2,
        "outlet_count": 2,
        "original_count": 1,
        "syndicated_count": 1,
        "entities": ("Paris", "UN"),
    }
    values.update(changes)
    return Story(**values)  # type: ignore[arg-type]
