"""Originality labels are set at ingest and survive a restart (the index is rebuilt from storage)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from newsloom.ingest.intake import Intake
from newsloom.settings import load_settings
from newsloom.storage import open_storage
from newsloom.stories.originality import OriginalityLabel
from newsloom.types import ExtractedArticle

NOW = datetime(2025, 3, 20, 12, tzinfo=UTC)
WORDS = ["police", "said", "the", "man", "was", "shot", "near", "a", "store", "on", "the", "corner", "of", "main", "street", "late", "friday", "and", "taken", "to", "hospital"]


def _text(seed: int, sentences: int = 14) -> str:
    rng = random.Random(seed)
    return "\n\n".join(
        " ".join(rng.choice(WORDS) + str(rng.randrange(50)) for _ in range(18)).capitalize() + "." for _ in range(sentences)
    )


def _article(n: int, text: str, *, publisher: str | None, host: str, minutes: int, author: str | None = None) -> ExtractedArticle:
    return ExtractedArticle(
        title=f"Report {n}", author=author, publisher=publisher, published=NOW + timedelta(minutes=minutes),
        language="en", text=text, url=f"https://{host}/story-{n}",
    )  # fmt: skip


def test_labels_at_ingest_and_after_restart(tmp_path: Path) -> None:
    settings = load_settings(env={"NEWSLOOM_DATA_DIR": str(tmp_path)})
    storage = open_storage(f"sqlite:///{tmp_path / 'n.db'}")
    try:
        intake = Intake(storage, settings, now=NOW)
        wire_text, own_text = _text(1), _text(2)
        half = "\n\n".join(wire_text.split("\n\n")[:7] + _text(3, 7).split("\n\n"))
        results = [
            intake.accept(_article(1, wire_text, publisher="Associated Press", host="apnews.com", minutes=0), now=NOW),
            intake.accept(_article(2, wire_text + "\n\nSubscribe to the Daily.", publisher="Daily", host="daily.example", minutes=30), now=NOW),
            intake.accept(_article(3, own_text, publisher="Herald", host="herald.example", minutes=40), now=NOW),
            intake.accept(_article(4, half, publisher="Courier", host="courier.example", minutes=50), now=NOW),
            intake.accept(_article(5, "SPRINGFIELD (AP) — " + _text(4), publisher="Gazette", host="gazette.example", minutes=55), now=NOW),
        ]
        ids = [r.article.id for r in results if r.article is not None]
        labels = storage.get_originality(ids)
        assert labels[ids[0]] == OriginalityLabel("own")
        assert labels[ids[1]] == OriginalityLabel("wire", "AP", ids[0])
        assert labels[ids[2]] == OriginalityLabel("own")
        assert labels[ids[3]].kind == "rewrite" and labels[ids[3]].copied_from == ids[0]
        assert labels[ids[4]] == OriginalityLabel("wire", "AP", None)

        restarted = Intake(storage, settings, now=NOW + timedelta(hours=1))
        again = restarted.accept(
            _article(6, wire_text + "\n\nRead more at the Times.", publisher="Times", host="times.example", minutes=70), now=NOW
        )
        assert again.article is not None
        assert storage.get_originality([again.article.id])[again.article.id].kind == "wire"
        assert storage.get_originality([again.article.id])[again.article.id].wire == "AP"
    finally:
        storage.close()
