"""Comparison on articles composed for the tests: paraphrase, figures, quotes, framing, copies, captions."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from newsloom.stories.compare import (
    CompareInput,
    Comparison,
    compare_articles,
    comparison_to_dict,
    render_comparison_text,
)

QUAKE_A = """ANKARA, Feb. 6 (Reuters) - A powerful earthquake struck southern Turkey early on Monday, killing at least 30 people, officials said.

Rescue workers searched collapsed buildings in the city of Gaziantep through the night.

The government pledged $5 million in emergency aid to the province, Interior Minister Suleyman Soylu told reporters.

Soylu said: “We will not leave anyone under the rubble.”

Turkey's central bank left its main interest rate unchanged at 9% last week."""

QUAKE_B = """A strong quake hit the south of Turkey on Monday morning, and 32 people were confirmed dead by officials.

Soylu said: “We will not leave a single person under the rubble.”

Ankara promised $5.2 million of emergency aid for the province, said Interior Minister Suleyman Soylu.

The region's football season was suspended for two weeks."""


def _compare(*texts: str, **kwargs: object) -> Comparison:
    return compare_articles([CompareInput(text=t, publisher=f"outlet {i}") for i, t in enumerate(texts)])


def _claim_with(c: Comparison, fragment: str) -> int:
    for claim in c.claims:
        if any(fragment in s.text for s in claim.sentences):
            return claim.id
    raise AssertionError(f"no claim holds {fragment!r}")


def test_paraphrases_align_and_unrelated_sentences_do_not() -> None:
    c = _compare(QUAKE_A, QUAKE_B)
    quake = c.claims[_claim_with(c, "powerful earthquake")]
    assert quake.outlets == (0, 1) and quake.consensus
    assert any("strong quake" in s.text for s in quake.sentences)
    aid = c.claims[_claim_with(c, "pledged $5 million")]
    assert aid.outlets == (0, 1)
    for only in ("Rescue workers", "central bank"):
        assert c.claims[_claim_with(c, only)].outlets == (0,)
    assert c.claims[_claim_with(c, "football season")].outlets == (1,)


def test_figure_quote_and_money_differences_are_reported_with_both_outlets_words() -> None:
    c = _compare(QUAKE_A, QUAKE_B)
    by_kind = {(d.kind, tuple(v.text for v in d.values)) for d in c.differences}
    assert ("figure", ("killing at least 30 people", "32 people")) in by_kind or any(
        d.kind == "figure" and "at least 30" in d.values[0].text and "32" in d.values[1].text for d in c.differences
    )
    money = [d for d in c.differences if d.kind == "figure" and "$5 million" in d.values[0].text]
    assert money and money[0].values[1].text == "$5.2 million" and money[0].note == "disagree"
    quote = [d for d in c.differences if d.kind == "quote"]
    assert len(quote) == 1
    assert quote[0].values[0].text == "We will not leave anyone under the rubble"
    assert quote[0].values[1].article == 1


def test_dateline_does_not_create_a_date_difference() -> None:
    c = _compare(QUAKE_A, QUAKE_B)
    assert not any(d.kind == "date" for d in c.differences)


def test_percentages_and_date_precision() -> None:
    a = "Unemployment fell to 4.1% in March, the statistics office said on Friday."
    b = "The statistics office said on Friday that unemployment dropped to 4.3% in late March."
    c = _compare(a, b)
    kinds = {(d.kind, d.values[0].text, d.values[1].text) for d in c.differences}
    assert ("figure", "4.1%", "4.3%") in kinds
    assert ("date", "in March", "in late March") in kinds


def test_range_against_point_estimate_is_a_precision_difference() -> None:
    a = "Officials said between 10,000 and 12,000 troops were sent to the border region last year."
    b = "Officials said 11,000 troops were sent to the border region last year."
    c = _compare(a, b)
    (diff,) = [d for d in c.differences if d.kind == "figure"]
    assert diff.note == "precision"
    assert "10,000 and 12,000 troops" in diff.values[0].text and diff.values[1].text == "11,000 troops"


def test_framing_of_the_same_referent_is_reported() -> None:
    a = "The rebel leader Ahmad Karimi said on Sunday his fighters had captured the airport in Tessalit."
    b = "The militant commander Ahmad Karimi said on Sunday his fighters had captured the airport in Tessalit."
    c = _compare(a, b)
    framing = [(d.values[0].text, d.values[1].text) for d in c.differences if d.kind == "framing"]
    assert framing == [("rebel leader", "militant commander")]


def test_framing_ignores_verbs_and_additions() -> None:
    a = "President Maria Silva announced new sanctions against Norland on Tuesday."
    b = "President Maria Silva unveiled new sanctions against Norland on Tuesday after a long debate."
    c = _compare(a, b)
    assert [d for d in c.differences if d.kind == "framing"] == []


def test_syndicated_copy_counts_once_and_headings_and_captions() -> None:
    original = "The council approved the new bridge over the Elster river on Tuesday.\n\nConstruction starts in May 2026."
    copy = original
    other = "On Tuesday the city council voted to approve a new bridge across the Elster river."
    inputs = [
        CompareInput(text=original, publisher="Daily A", headings=("Bridge news",)),
        CompareInput(text="Bridge news\n\n" + copy, publisher="Aggregator", original_index=0,
                     captions=("The old Elster bridge at dusk. (The old Elster bridge at dusk.)",)),
        CompareInput(text=other, publisher="Daily B"),
    ]  # fmt: skip
    c = compare_articles(inputs)
    bridge = c.claims[_claim_with(c, "approved the new bridge")]
    assert set(bridge.outlets) == {0, 1, 2} and bridge.consensus and bridge.independent_outlets == 2
    start = c.claims[_claim_with(c, "Construction starts")]
    assert set(start.outlets) == {0, 1} and not start.consensus  # only the original and its copy
    caption = c.claims[_claim_with(c, "old Elster bridge at dusk")]
    assert caption.caption and caption.sentences[0].text == "The old Elster bridge at dusk."
    assert not any(s.text == "Bridge news" for cl in c.claims for s in cl.sentences)


def test_quotes_have_speakers() -> None:
    a = ("Prime Minister Anna Berg said the deal was “a historic step for both nations.”\n\n"
         "She added that “nobody will be left behind.”\n\n"
         "The agency quoted Tom Rask as saying the plan “will cost too much.”")  # fmt: skip
    c = _compare(a)
    speakers = {q.text: q.speaker for q in c.quotes}
    assert speakers["a historic step for both nations"] == "Anna Berg"
    assert speakers["nobody will be left behind"] == "Anna Berg"
    assert speakers["will cost too much"] == "Tom Rask"


def test_timeline_orders_by_publication_and_lists_what_each_added() -> None:
    early = CompareInput(text=QUAKE_B, publisher="B", published=datetime(2023, 2, 6, 6, tzinfo=UTC))
    late = CompareInput(text=QUAKE_A, publisher="A", published=datetime(2023, 2, 6, 9, tzinfo=UTC))
    c = compare_articles([late, early])
    assert [t.article for t in c.timeline] == [1, 0]
    first, second = c.timeline
    assert len(first.new_claims) == 4
    added = {s.text for cid in second.new_claims for s in c.claims[cid].sentences}
    assert any("Rescue workers" in text for text in added)
    assert not any("strong quake" in text for text in added)
    assert "Gaziantep" in second.new_entities


def test_json_shape_and_text_rendering() -> None:
    c = _compare(QUAKE_A, QUAKE_B)
    data = json.loads(json.dumps(comparison_to_dict(c)))
    assert set(data) >= {"articles", "claims", "differences", "entities", "quotes", "timeline"}
    assert data["articles"][1] == {**data["articles"][1], "index": 1, "publisher": "outlet 1"}
    claim = data["claims"][0]
    assert set(claim) >= {"id", "outlets", "sentences", "consensus", "caption"}
    assert set(claim["sentences"][0]) >= {"article", "text"}
    assert {d["kind"] for d in data["differences"]} <= {"figure", "date", "quote", "framing"}
    assert set(data["entities"][0]) >= {"name", "aliases", "type", "articles"}
    assert set(data["quotes"][0]) >= {"speaker", "text", "article"}
    text = render_comparison_text(c)
    assert "AGREE" in text and "ONLY IN [0] outlet 0" in text and "DIFFERS" in text


def test_empty_and_single_inputs() -> None:
    assert compare_articles([]).claims == ()
    c = compare_articles([CompareInput(text="")])
    assert c.claims == () and len(c.articles) == 1
    single = _compare(QUAKE_A)
    assert single.claims and not any(cl.consensus for cl in single.claims)


def test_mutual_best_match_with_an_anchor_aligns_under_the_main_threshold() -> None:
    """Paraphrased leads whose shared words are the story's topic words score under ALIGN_MIN_SIMILARITY;
    they align when each is the other's best match and they share a name plus content words."""
    from collections import Counter

    import numpy as np

    from newsloom.stories.align import ALIGN_MIN_SIMILARITY, MUTUAL_MIN_SIMILARITY, align_sentences
    from newsloom.stories.comparemodel import SentenceRef

    refs = [SentenceRef(0, 0, "a0", False), SentenceRef(0, 1, "a1", False),
            SentenceRef(1, 0, "b0", False), SentenceRef(1, 1, "b1", False)]  # fmt: skip
    anchored = Counter({"ent:0": 1, "check": 1, "rehab": 1, "stay": 1})
    words_only = Counter({"check": 1, "rehab": 1, "stay": 1, "court": 1})
    score = (ALIGN_MIN_SIMILARITY + MUTUAL_MIN_SIMILARITY) / 2
    sim = np.eye(4)
    sim[0, 2] = sim[2, 0] = score  # mutual best, anchored: aligned
    sim[1, 3] = sim[3, 1] = score  # mutual best, no name or figure shared: not aligned
    features = [anchored, words_only, anchored, words_only]
    assert [(x, y) for x, y, _ in align_sentences(refs, sim, features, 2)] == [(0, 2)]
    sim[0, 3] = sim[3, 0] = score + 0.01  # a0's best match is now b1 (not anchored with it): nothing aligns a0-b0
    assert align_sentences(refs, sim, [anchored, words_only, anchored, anchored], 2) == [(0, 3, score + 0.01)]
