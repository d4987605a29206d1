"""Who reported first and which claims each outlet added, from a comparison's timeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from newsloom.stories.originality import OriginalityLabel
from newsloom.stories.origins import OriginArticle, story_origins

T = datetime(2025, 3, 21, 9, tzinfo=UTC)


def test_first_outlet_and_added_claims() -> None:
    articles = [
        OriginArticle("AP", T, OriginalityLabel("own")),
        OriginArticle("Daily", T + timedelta(hours=1), OriginalityLabel("wire", "AP", 1)),
        OriginArticle("Herald", T + timedelta(hours=3), OriginalityLabel("own")),
    ]
    comparison = {
        "claims": [
            {"id": 0, "sentences": [{"article": 0, "text": "A man was shot."}, {"article": 1, "text": "A man was shot."}]},
            {"id": 1, "sentences": [{"article": 2, "text": "The victim was named as John Roe."}]},
            {"id": 2, "caption": True, "sentences": [{"article": 2, "text": "Photo: the street."}]},
        ],
        "timeline": [{"article": 0, "new_claims": [0]}, {"article": 1, "new_claims": []}, {"article": 2, "new_claims": [1, 2]}],
    }
    origins = story_origins(articles, comparison)
    assert origins.first_outlet == "AP" and origins.first_at == T
    rows = {r.outlet: r for r in origins.outlets}
    assert [r.outlet for r in origins.outlets] == ["AP", "Daily", "Herald"]
    assert rows["Daily"].labels == ("wire (AP)",) and rows["Daily"].added_count == 0
    assert rows["Herald"].added == ("The victim was named as John Roe.",)


def test_without_a_comparison() -> None:
    origins = story_origins([OriginArticle("Solo", None, None)], None)
    assert origins.first_outlet == "Solo" and origins.outlets[0].labels == ("not labelled",)
    assert story_origins([], None).first_outlet is None
