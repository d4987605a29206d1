"""Originality labels: wire credits, copies and rewrites of earlier articles, own reporting."""

from __future__ import annotations

import pytest

from newsloom.stories.dedupe import NearDuplicateIndex
from newsloom.stories.originality import (
    EarlierArticle,
    OriginalityLabel,
    credited_wire,
    label_article,
    outlet_share,
    share_text,
    wire_of_outlet,
)
from newsloom.stories.originality_index import OriginalityIndex


@pytest.mark.parametrize(
    ("text", "author", "wire"),
    [
        ("NEW ORLEANS (AP) — Police on Saturday arrested a man.", None, "AP"),
        ("SEOUL, March 21 (Yonhap) -- North Korea fired a missile.", None, "Yonhap"),
        ("(Reuters) - Oil prices rose on Monday.", None, "Reuters"),
        ("BERLIN (dpa) - Die Regierung hat ...", None, "dpa"),
        ("NEW DELHI (ANI): The minister said.", None, "ANI"),
        ("By The Associated Press\nA storm hit the coast.", None, "AP"),
        ("A storm hit the coast.\n\nCopyright 2025 The Associated Press. All rights reserved.", None, "AP"),
        ("Oil rose.\n\n(Reporting by Jane Roe; Editing by John Doe)", None, "Reuters"),
        ("Oil rose.", "Jane Roe, Agence France-Presse", "AFP"),
        ("BEIJING, March 3 (Xinhua) -- Trade grew.", None, "Xinhua"),
        ("TOKYO (Kyodo) - The yen fell.", None, "Kyodo"),
        ("MADRID (EFE) - El gobierno ...", None, "EFE"),
        ("ROMA (ANSA) - Il governo ...", None, "ANSA"),
        ("LONDON (PA) - A man was charged.", None, "PA"),
    ],
)
def test_credited_wires(text: str, author: str | None, wire: str) -> None:
    assert credited_wire(text, author) == wire


@pytest.mark.parametrize(
    "text",
    [
        "ALBUQUERQUE (KRQE) – Officers are on the scene of a crash.",
        "The mayor told Reuters on Monday that the plan would go ahead, the AP reported.",
        "Police in Scranton, Pa. said two men were shot. An AP photographer was there.",
        "A storm hit the coast. The Associated Press contributed to this report? No, it did not.",
    ],
)
def test_attribution_and_local_datelines_are_not_credits(text: str) -> None:
    assert credited_wire(text, "Staff writer") is None


def test_wire_agencies_are_their_own_outlets() -> None:
    assert wire_of_outlet("Reuters", None) == "Reuters"
    assert wire_of_outlet(None, "bigstory.ap.org") == "AP"
    assert wire_of_outlet("Euronews", "euronews.com") is None
    assert label_article(outlet="Reuters", own_wire="Reuters", credit="Reuters", copy_of=None) == OriginalityLabel("own")


def test_copies_and_rewrites() -> None:
    wire_original = EarlierArticle(1, "AP", "AP", 1.0)
    local_original = EarlierArticle(2, "host:a.example", None, 1.0)
    assert label_article(outlet="x", own_wire=None, credit=None, copy_of=wire_original) == OriginalityLabel("wire", "AP", 1)
    assert label_article(outlet="x", own_wire=None, credit=None, copy_of=local_original) == OriginalityLabel("rewrite", None, 2)
    same_outlet = EarlierArticle(3, "x", None, 1.0)
    assert label_article(outlet="x", own_wire=None, credit=None, copy_of=same_outlet) == OriginalityLabel("own")
    partial = [EarlierArticle(4, "y", None, 0.5), EarlierArticle(5, "z", None, 0.2)]
    assert label_article(outlet="x", own_wire=None, credit=None, copy_of=None, similar=partial) == OriginalityLabel("rewrite", None, 4)
    assert label_article(outlet="x", own_wire=None, credit=None, copy_of=None, similar=partial[1:]) == OriginalityLabel("own")
    assert label_article(outlet="x", own_wire=None, credit="AP", copy_of=None).kind == "wire"


def test_index_passes_the_wire_on_to_copies_of_copies() -> None:
    words = " ".join(f"word{i} fact{i % 7} place{i % 11}" for i in range(120))
    dedupe, index = NearDuplicateIndex(), OriginalityIndex()
    first = index.label("1", text=words, author=None, publisher="Associated Press", host=None, outlet="Associated Press", original_key=None)
    dedupe.add("1", words, None)
    assert first == OriginalityLabel("own")
    copy = words + " Extra line from the second outlet."
    original = dedupe.find_original(copy, None)
    second = index.label("2", text=copy, author=None, publisher=None, host="b.example", outlet="host:b.example", original_key=original)
    assert second == OriginalityLabel("wire", "AP", 1)
    dedupe.add("2", copy, None)
    third = index.label("3", text=copy, author=None, publisher=None, host="c.example", outlet="host:c.example", original_key="2")
    assert third == OriginalityLabel("wire", "AP", 2)


def test_similar_finds_partial_reuse_below_the_copy_threshold() -> None:
    base = [f"alpha{i} beta{i} gamma{i}" for i in range(60)]
    dedupe = NearDuplicateIndex()
    dedupe.add("1", " ".join(base), None)
    half = " ".join(base[:30] + [f"other{i} words{i} here{i}" for i in range(30)])
    found = dict(dedupe.similar(half, 0.3))
    assert "1" in found and 0.4 <= found["1"] < 0.65
    assert dedupe.find_original(half, None) is None


def test_shares_and_their_text() -> None:
    share = outlet_share("Daily", [("own", None, 6), ("wire", "AP", 2), ("wire", "Reuters", 1), ("rewrite", None, 1)])
    assert (share.total, share.own, share.wire, share.rewrite) == (10, 6, 3, 1)
    assert share.wires == (("AP", 2), ("Reuters", 1))
    assert share_text(share) == "60% own, 30% wire (AP 2, Reuters 1), 10% rewritten"
    assert share_text(outlet_share("Empty", [])) == "no labelled articles"


def test_short_wire_briefs_are_known_by_their_opening() -> None:
    from newsloom.stories.originality_index import label_next, opening_key

    brief = "CHICAGO (AP) — Two men were wounded in a shooting early Sunday on the city's West Side, police said. Both are expected to survive."
    dedupe, index = NearDuplicateIndex(), OriginalityIndex()
    first = label_next(dedupe, index, "1", text=brief, published=None, author=None, publisher="Associated Press", host=None, outlet="Associated Press")
    assert first == (None, OriginalityLabel("own"))
    stripped = brief.split(" — ", 1)[1]  # the reprint drops the credit and keeps the agency's words
    _, label = label_next(dedupe, index, "2", text=stripped, published=None, author=None, publisher=None, host="b.example", outlet="host:b.example")
    assert label == OriginalityLabel("wire", "AP", 1)
    other = "Two men were wounded in a shooting on Sunday, and police are asking for help finding the driver of a car."
    _, label = label_next(dedupe, index, "3", text=other, published=None, author=None, publisher=None, host="c.example", outlet="host:c.example")
    assert label == OriginalityLabel("own")
    assert opening_key("Too short to tell.") is None
