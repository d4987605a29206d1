"""Originality on the sources page, the story page and in /api/v1."""

from __future__ import annotations

from fastapi.testclient import TestClient

from newsloom.reader_service import ReaderService
from newsloom.stories.originality import OriginalityLabel
from newsloom.web.app import create_app
from tests.web.conftest import NOW, add_story

WIRE_TEXT = (
    "Police said a man was shot on Main Street late on Friday.\n\nHe was taken to hospital in a stable condition.\n\n"
    "No arrests have been made, officers said."
)


def _stock(reader: ReaderService) -> tuple[int, list[int]]:
    source, _ = reader.service.storage.add_source("https://daily.example/feed", title="Daily", now=NOW)
    ids = add_story(reader, "s1", "Man shot on Main Street", [("Wire Desk", 5), ("Daily", 3), ("Herald", 1)], text=WIRE_TEXT, source_id=source.id)
    herald_extra = ids[2]
    reader.service.storage.set_originality({
        ids[0]: OriginalityLabel("own"), ids[1]: OriginalityLabel("wire", "AP", ids[0]), herald_extra: OriginalityLabel("own"),
    })  # fmt: skip
    return source.id, ids


def test_sources_page_and_api_show_shares(reader: ReaderService) -> None:
    source_id, _ = _stock(reader)
    with TestClient(create_app(reader)) as client:
        page = client.get("/sources").text
        assert "Originality" in page and "67% own, 33% wire (AP 1)" in page
        rows = client.get("/api/v1/sources").json()
        mine = next(r for r in rows if r["id"] == source_id)
        assert mine["originality"]["total"] == 3 and mine["originality"]["wires"] == {"AP": 1}
        assert mine["originality"]["wire_share"] == round(1 / 3, 4)
        assert client.get("/api/v1/sources", params={"days": 0}).status_code == 422


def test_story_page_and_api_show_who_was_first(reader: ReaderService) -> None:
    _, ids = _stock(reader)
    with TestClient(create_app(reader)) as client:
        data = client.get("/api/v1/stories/s1/originality").json()
        assert data["first_outlet"] == "Wire Desk"
        outlets = {o["outlet"]: o for o in data["outlets"]}
        assert outlets["Daily"]["labels"] == ["wire (AP)"] and outlets["Wire Desk"]["labels"] == ["own"]
        assert outlets["Wire Desk"]["added_count"] >= 1
        page = client.get("/story/s1").text
        assert "Who reported first" in page and "wire (AP)" in page
        article = client.get(f"/api/v1/articles/{ids[1]}").json()
        assert article["originality"] == {"kind": "wire", "wire": "AP", "copied_from": ids[0]}
