"""Acceptance: a reader who ingested the seed pair sees one story with both outlets on the top-stories page."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from newsloom.web.app import create_app
from tests.web.conftest import make_reader


def test_seed_pair_is_one_story_with_both_outlets(seeds_dir: Path, tmp_path: Path) -> None:
    reader = make_reader(tmp_path / "data")
    try:
        report = reader.service.ingest_paths(sorted(str(p) for p in seeds_dir.glob("*.txt")))
        assert len(report.stored) == 2, report.skipped
        with TestClient(create_app(reader)) as client:
            page = client.get("/")
            assert page.status_code == 200
            stories = reader.top_stories()
            assert len(stories) == 1
            story = stories[0]
            # Euronews is named; the plain file names no outlet: the line says what outlet_count says
            assert story.stats.outlets == story.story.outlet_count == 1
            assert story.why.startswith("2 articles from 1 outlet"), story.why
            assert f'href="/story/{story.story.id}"' in page.text
            assert page.text.count('class="item story-card"') == 1
            detail = client.get(f"/story/{story.story.id}").text
            outlets = {row.outlet for row in reader.story_view(story.story.id).articles}
            assert len(outlets) == 2
            for outlet in outlets:
                assert outlet in detail
    finally:
        reader.service.close()
