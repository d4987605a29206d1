"""Acceptance: the seed pair comes out as gold.json says (read by path, never copied)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsloom.ingest.extract import extract_file


def _gold(seeds_dir: Path) -> dict[str, dict[str, object]]:
    return json.loads((seeds_dir / "gold.json").read_text(encoding="utf-8"))["documents"]


def _lines(seeds_dir: Path, name: str) -> list[str]:
    return (seeds_dir / name).read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize("prefix", ["000_", "001_"])
def test_body_lines_in_text_and_boilerplate_out(seeds_dir: Path, prefix: str) -> None:
    gold = _gold(seeds_dir)
    name = next(n for n in gold if n.startswith(prefix))
    lines = _lines(seeds_dir, name)
    article = extract_file(seeds_dir / name)
    assert article.is_article
    for number in gold[name]["body_lines"]:  # type: ignore[union-attr]
        assert lines[number - 1].strip() in article.text, f"body line {number} missing"
    for number in gold[name]["boilerplate_lines"]:  # type: ignore[union-attr]
        line = lines[number - 1].strip()
        assert line not in article.text, f"boilerplate line {number} kept: {line!r}"
    paragraphs = article.text.split("\n\n")
    assert len(paragraphs) == len(gold[name]["body_lines"])  # type: ignore[arg-type]


def test_seed_000_has_no_head_and_keeps_headings_apart(seeds_dir: Path) -> None:
    gold = _gold(seeds_dir)
    name = next(n for n in gold if n.startswith("000_"))
    lines = _lines(seeds_dir, name)
    article = extract_file(seeds_dir / name)
    assert article.title is None
    assert article.publisher is None
    headings = [lines[n - 1].strip() for n in gold[name]["heading_lines"]]  # type: ignore[union-attr]
    assert list(article.headings) == headings
    for heading in headings:
        assert heading not in article.text.split("\n\n")


def test_seed_001_metadata_and_caption(seeds_dir: Path) -> None:
    gold = _gold(seeds_dir)
    name = next(n for n in gold if n.startswith("001_"))
    doc = gold[name]
    lines = _lines(seeds_dir, name)
    article = extract_file(seeds_dir / name)
    assert article.publisher == doc["publisher"] == "Euronews"
    assert article.author == doc["author"] == "David O'Sullivan"
    assert article.title == doc["title"] == lines[doc["title_line"] - 1].strip()  # type: ignore[operator]
    assert article.path == str(seeds_dir / name)
    for number in doc["caption_lines"]:  # type: ignore[union-attr]
        caption_line = lines[number - 1].strip()
        assert any(caption and caption in caption_line for caption in article.captions)
        assert caption_line not in article.text
        assert article.captions[0] not in article.text
    for number in doc["metadata_lines"]:  # type: ignore[union-attr]
        assert lines[number - 1].strip() not in article.text.split("\n\n")
