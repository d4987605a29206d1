"""Acceptance: the seed pair compared as gold.json says (lines are read by path, never copied)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from newsloom.stories.compare import CompareInput, Comparison, compare_articles
from newsloom.stories.sentences import split_sentences

DOC0 = "000_96d010cab8b1e35d.txt"
DOC1 = "001_1064e9be043f4f4f.txt"


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split("\n")


@pytest.fixture
def seeds(seeds_dir: Path) -> tuple[dict[str, Any], dict[str, list[str]], Comparison]:
    gold = json.loads((seeds_dir / "gold.json").read_text(encoding="utf-8"))
    lines = {name: _lines(seeds_dir / name) for name in (DOC0, DOC1)}
    inputs = []
    for name in (DOC0, DOC1):
        doc = gold["documents"][name]
        inputs.append(CompareInput(
            text="\n\n".join(lines[name][i - 1].strip() for i in doc["body_lines"]),
            title=doc.get("title"), publisher=doc.get("publisher"), path=str(seeds_dir / name),
            captions=tuple(lines[name][i - 1].strip() for i in doc.get("caption_lines", [])),
        ))  # fmt: skip
    return gold, lines, compare_articles(inputs)


def _claim_of(c: Comparison, article: int, text: str) -> int:
    """The claim that holds the (first) sentence of ``text`` in ``article``."""
    first = split_sentences(text)[0].strip()
    for claim in c.claims:
        for s in claim.sentences:
            if s.article == article and (s.text.strip() == first or first.startswith(s.text.strip())):
                return claim.id
    raise AssertionError(f"no claim for article {article}: {first[:60]!r}")


def test_all_aligned_pairs_found_and_nothing_else_aligned(seeds: tuple[dict[str, Any], dict[str, list[str]], Comparison]) -> None:
    gold, lines, c = seeds
    expected = set()
    for pair in gold["aligned_sentences"]:
        id0 = _claim_of(c, 0, lines[DOC0][pair["000"] - 1])
        id1 = _claim_of(c, 1, lines[DOC1][pair["001"] - 1])
        assert id0 == id1, f"lines {pair['000']}/{pair['001']} not aligned"
        assert c.claims[id0].consensus
        expected.add(id0)
    consensus = {cl.id for cl in c.claims if cl.consensus}
    assert consensus == expected, "a claim is aligned that gold does not align"
    assert all(len(c.claims[i].sentences) == 2 for i in expected)


def test_only_in_lines_are_carried_by_their_outlet_alone(seeds: tuple[dict[str, Any], dict[str, list[str]], Comparison]) -> None:
    gold, lines, c = seeds
    for article, name in enumerate((DOC0, DOC1)):
        for line_no in gold["only_in"][name]:
            sentences = split_sentences(lines[name][line_no - 1])
            if line_no in gold["documents"][name].get("caption_lines", []):
                sentences = sentences[:1]  # the caption's repeat in parentheses is one caption
            for sentence in sentences:
                claim = c.claims[_claim_of(c, article, sentence)]
                assert claim.outlets == (article,), f"{name}:{line_no} {sentence[:50]!r}"
                assert not claim.consensus
    caption = c.claims[_claim_of(c, 1, lines[DOC1][20])]
    assert caption.caption and caption.outlets == (1,)
    assert caption.sentences[0].text.count("Park Chung-cheon") == 1  # the repeat in parentheses is dropped


def test_differences_reported(seeds: tuple[dict[str, Any], dict[str, list[str]], Comparison]) -> None:
    _, _, c = seeds
    values = [(d.kind, d.values[0].article, d.values[0].text, d.values[1].article, d.values[1].text) for d in c.differences]
    quote = [v for v in values if v[0] == "quote"]
    assert any("defending the national sovereignty" in v[2] and "defending their national sovereignty" in v[4] for v in quote)
    assert ("date", 0, "in February", 1, "in late February") in values
    framing = [(v[2], v[4]) for v in values if v[0] == "framing"]
    assert any("Supreme Leader of North Korea" in a and "North Korean dictator" in b for a, b in framing)
    assert any("military campaign" in a and b == "invasion" for a, b in framing)


def test_entity_aliases_merged_and_single_outlet_entities(seeds: tuple[dict[str, Any], dict[str, list[str]], Comparison]) -> None:
    _, _, c = seeds
    names = {e.name: e for e in c.entities}

    def group(name: str) -> set[str]:
        for e in c.entities:
            if name == e.name or name in e.aliases:
                return {e.name, *e.aliases}
        raise AssertionError(f"{name} not found")

    assert {"Sergei Shoigu", "Sergey Shoigu", "Shoigu"} <= group("Shoigu")
    assert {"Korean Central News Agency", "KCNA"} <= group("KCNA")
    assert {"Kim Jong Un", "Kim"} <= group("Kim")
    assert {"Vladimir Putin", "Putin"} <= group("Putin")
    assert names["Kim Jong Un"].type == "person" and names["Kim Jong Un"].articles == (0, 1)
    assert names["Park Chung-cheon"].articles == (1,)
    assert names["National Intelligence Service"].articles == (0,) and "NIS" in names["National Intelligence Service"].aliases
    assert names["Freedom Shield"].articles == (0,)


def test_quotes_and_speakers(seeds: tuple[dict[str, Any], dict[str, list[str]], Comparison]) -> None:
    _, _, c = seeds

    def speaker(article: int, start: str) -> str | None:
        (found,) = [q.speaker for q in c.quotes if q.article == article and q.text.startswith(start)]
        return found

    assert speaker(0, "invariably support Russia") == "Kim Jong Un"
    assert speaker(1, "invariably support Russia") == "Kim Jong Un"
    assert speaker(0, "solidarity with Russia") == "Sergei Shoigu"
    assert speaker(1, "solidarity with Russia") == "Sergei Shoigu"
