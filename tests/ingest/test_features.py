"""Story features computed ahead (in a poll's worker processes): the assigner's results are those without them."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise
from pathlib import Path

import pytest

from newsloom.ingest.intake import Intake
from newsloom.settings import Settings, load_settings
from newsloom.storage import open_storage
from newsloom.storage.base import Storage
from newsloom.stories import engine as engine_module
from newsloom.stories.features import ArticleFeatures, article_features, features_job
from newsloom.stories.storymodel import EngineConfig
from newsloom.types import Article
from tests.workers.test_assign_batch import NOW, news_articles, store_all

BATCH = 7


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(env={}, data_dir=str(tmp_path))


def outcome(storage: Storage, articles: list[Article]) -> tuple[dict[str, object], dict[str, object]]:
    """Each article's story, original and originality label, and every story row with headline and summary."""
    rows: dict[str, object] = {}
    stories: dict[str, object] = {}
    labels = storage.get_originality(a.id for a in articles)
    for article in articles:
        fresh = storage.get_article(article.id)
        original = storage.get_article(fresh.original_id).canonical_url if fresh.original_id else None
        rows[fresh.canonical_url] = (fresh.story_id, original, labels.get(fresh.id))
        story = storage.get_story(fresh.story_id or "")
        stories[story.id] = (story.headline, story.summary, story.article_count, story.outlet_count,
                             story.original_count, story.syndicated_count, story.entities)
    return rows, stories


def shipped(features: list[ArticleFeatures]) -> list[ArticleFeatures]:
    """Through pickle, as they come back from a worker process."""
    return pickle.loads(pickle.dumps(features))  # type: ignore[no-any-return]


def assign(storage: Storage, settings: Settings, articles: list[Article], features: dict[int, ArticleFeatures] | None) -> None:
    intake = Intake(storage, settings, now=NOW)
    for start in range(0, len(articles), BATCH):
        intake.assign_many(articles[start : start + BATCH], now=NOW, features=features)


def test_features_give_the_stories_computed_in_place(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain, ahead = open_storage(f"sqlite:///{tmp_path}/plain.db"), open_storage(f"sqlite:///{tmp_path}/ahead.db")
    try:
        articles = store_all(plain, settings)
        assert [a.id for a in store_all(ahead, settings)] == [a.id for a in articles]
        assign(plain, settings, articles, None)

        config = Intake(ahead, settings, store_only=True).engine.config
        computed = shipped(features_job(config, [(a.title, a.text, a.published_at) for a in articles]))
        splits: list[str] = []
        original = engine_module.text_parts
        monkeypatch.setattr(engine_module, "text_parts", lambda *a, **k: splits.append("x") or original(*a, **k))
        assign(ahead, settings, articles, {a.id: f for a, f in zip(articles, computed, strict=True)})

        assert splits == []  # the assigner used the features: no text was split again
        assert sum(f.signature is not None for f in computed) == len(articles)  # dated: signatures too
        expected, got = outcome(plain, articles), outcome(ahead, articles)
        assert got == expected
        assert sum(1 for _, original_url, _ in expected[0].values() if original_url) >= 3  # copies were linked
        assert len(expected[1]) < len(articles) // 2  # and reports of one event grouped
    finally:
        plain.close()
        ahead.close()


def test_features_of_another_text_are_not_used(settings: Settings, tmp_path: Path) -> None:
    plain, wrong = open_storage(f"sqlite:///{tmp_path}/plain.db"), open_storage(f"sqlite:///{tmp_path}/wrong.db")
    try:
        articles = store_all(plain, settings)
        store_all(wrong, settings)
        assign(plain, settings, articles, None)
        config = EngineConfig(window_days=settings.story_window_days)
        # every article handed the features of the next one: all must be refused, the results unchanged
        shifted = {a.id: article_features(config, b.title, b.text, b.published_at) for a, b in pairwise(articles)}
        assign(wrong, settings, articles, shifted)
        assert outcome(wrong, articles) == outcome(plain, articles)
    finally:
        plain.close()
        wrong.close()


def test_a_signature_is_used_only_for_the_date_it_was_read_against() -> None:
    config = EngineConfig()
    article = news_articles()[0]
    local = timezone(timedelta(hours=-9))
    published = datetime(2025, 3, 20, 23, 30, tzinfo=local)  # 08:30 UTC on the 21st: another calendar day
    features = article_features(config, article.title, article.text, published)
    assert features.date == published and features.date.utcoffset() == timedelta(0)  # as the storage returns it
    assert features.signature_for(published.astimezone(UTC)) is features.signature
    assert features.signature_for(published) is None  # same instant, other offset: the assigner recomputes
    assert features.signature_for(published + timedelta(seconds=1)) is None
    assert article_features(config, article.title, article.text, None).signature is None  # dated when stored
    assert article_features(config, article.title, article.text, None).signature_for(NOW) is None
