from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from newsloom.stories.dedupe import (
    MIN_WORDS,
    NearDuplicateIndex,
    content_hash,
    narrative_words,
    normalize_text,
)

DAY = datetime(2025, 3, 21, 9, 0, tzinfo=UTC)
CHROME = (
    "Sign up for our daily newsletter.\nRelated stories\nMost read\nFollow us on Facebook and Instagram.\n"
    "© 2025 Example Media Group. All rights reserved.\nDownload the app. Already a member? Sign in here."
)


def article(seed: int, words: int = 500) -> str:
    """A pseudo-article: sentences of words drawn from a 3,000-word vocabulary, in paragraphs."""
    rng = random.Random(seed)
    vocabulary = [f"w{i}" for i in range(3000)]
    sentences = []
    while sum(len(s.split()) for s in sentences) < words:
        sentence = " ".join(rng.choice(vocabulary) for _ in range(rng.randint(12, 25)))
        sentences.append(sentence.capitalize() + ".")
    return "\n\n".join(" ".join(sentences[i : i + 3]) for i in range(0, len(sentences), 3))


def replace_words(text: str, share: float, seed: int) -> str:
    rng = random.Random(seed)
    tokens = text.split(" ")
    for i in rng.sample(range(len(tokens)), int(len(tokens) * share)):
        tokens[i] = f"edit{i}"
    return " ".join(tokens)


def trim(text: str, share: float) -> str:
    tokens = text.split(" ")
    return " ".join(tokens[: int(len(tokens) * share)])


# --- normalize_text / content_hash ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Kim  met\tShoigu\n\nin Pyongyang. ", "kim met shoigu in pyongyang."),
        ("“Quoted” and ‘single’ and it’s", "\"quoted\" and 'single' and it's"),
        ("2023—2024 – a ‐ b − c", "2023-2024 - a - b - c"),
        ("ﬁnance ＡＢＣ ½", "finance abc 1⁄2"),
        ("STRASSE Straße", "strasse strasse"),
        ("zero\u200bwidth soft\u00adhyphen\ufeff", "zerowidth softhyphen"),
        ("non\u00a0breaking\u2003space", "non breaking space"),
        ("", ""),
    ],
)
def test_normalize_text(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


def test_content_hash_ignores_typography_but_not_words() -> None:
    original = "Kim Jong Un said: “We will invariably support Russia” — on Friday."
    assert content_hash(original) == content_hash('kim jong un said:  "we will invariably support russia" - on friday.\n')
    assert content_hash(original) != content_hash(original.replace("Friday", "Saturday"))
    assert len(content_hash(original)) == 64
    assert int(content_hash(original), 16) >= 0


def test_narrative_words_leave_out_quotations() -> None:
    text = 'He said “we will win this war” and left.\n“A quote that runs\nto the next paragraph.” Done'
    assert narrative_words(text) == ["he", "said", "and", "left", "to", "the", "next", "paragraph", "done"]
    assert narrative_words("Tokenised `` quote here '' too") == ["tokenised", "too"]
    assert narrative_words("It’s Zoë’s café") == ["it", "s", "zoë", "s", "café"]


# --- NearDuplicateIndex: copies are found -----------------------------------------------------------------


ORIGINAL = article(1)


@pytest.mark.parametrize(
    "copy",
    [
        pytest.param(ORIGINAL, id="exact"),
        pytest.param(ORIGINAL.upper().replace(" ", "  "), id="case and spacing"),
        pytest.param("(Reuters) - This story was first published by our partner and is republished here.\n\n" + ORIGINAL, id="intro"),
        pytest.param(ORIGINAL + "\n\n" + CHROME, id="chrome"),
        pytest.param(trim(ORIGINAL, 0.6), id="trimmed to 60%"),
        pytest.param(trim(ORIGINAL, 0.3), id="trimmed to 30%"),
        pytest.param(replace_words(ORIGINAL, 0.05, seed=2), id="5% of words changed"),
        pytest.param("Editor's note: updated.\n\n" + replace_words(trim(ORIGINAL, 0.8), 0.02, seed=3) + "\n\n" + CHROME, id="all at once"),
    ],
)
def test_syndicated_copy_is_linked_to_its_original(copy: str) -> None:
    index = NearDuplicateIndex()
    index.add("original", ORIGINAL, DAY)
    for i in range(20):
        index.add(f"other-{i}", article(100 + i), DAY)
    assert index.find_original(copy, DAY + timedelta(hours=1)) == "original"


def test_the_original_is_found_from_its_copy_too() -> None:
    index = NearDuplicateIndex()
    index.add("excerpt", trim(ORIGINAL, 0.4), DAY)
    assert index.find_original(ORIGINAL, DAY + timedelta(hours=1)) == "excerpt"


def test_heavily_rewritten_text_is_not_a_copy() -> None:
    index = NearDuplicateIndex()
    index.add("original", ORIGINAL, DAY)
    assert index.find_original(replace_words(ORIGINAL, 0.25, seed=4), DAY) is None


def test_unrelated_articles_are_not_linked() -> None:
    index = NearDuplicateIndex()
    for i in range(50):
        index.add(str(i), article(200 + i), DAY)
    assert all(index.find_original(article(300 + i), DAY) is None for i in range(20))


def test_independent_reports_sharing_the_same_quotes_are_not_linked() -> None:
    rng = random.Random(5)
    quotes = [" ".join(f"q{rng.randrange(3000)}" for _ in range(30)) for _ in range(4)]

    def report(seed: int) -> str:
        own = article(seed, words=60).split(". ")
        return "\n\n".join(f"{sentence}. The minister said: “{quote}.”" for sentence, quote in zip(own, quotes, strict=False))

    first, second = report(400), report(401)
    assert len(narrative_words(first)) >= MIN_WORDS
    index = NearDuplicateIndex()
    index.add("first", first, DAY)
    assert index.find_original(second, DAY) is None
    assert index.find_original(first + "\n\n" + CHROME, DAY) == "first"  # while a real copy still is


# --- the earliest original --------------------------------------------------------------------------------


def test_the_earliest_published_copy_is_the_original() -> None:
    index = NearDuplicateIndex()
    index.add("late", ORIGINAL + "\n\n" + CHROME, DAY + timedelta(hours=5))
    index.add("earliest", ORIGINAL, DAY)
    index.add("middle", "Intro line.\n\n" + ORIGINAL, DAY + timedelta(hours=2))
    copy = replace_words(ORIGINAL, 0.03, seed=6)
    assert index.find_original(copy, DAY + timedelta(hours=6)) == "earliest"
    assert index.duplicates(copy) == ["earliest", "middle", "late"]


def test_ties_go_to_the_first_added() -> None:
    index = NearDuplicateIndex()
    index.add("first", ORIGINAL, DAY)
    index.add("second", ORIGINAL + "\n\n" + CHROME, DAY)
    assert index.find_original(ORIGINAL, DAY) == "first"


def test_time_zones_compare_as_instants() -> None:
    index = NearDuplicateIndex()
    index.add("tokyo", ORIGINAL, datetime(2025, 3, 21, 17, 0, tzinfo=timezone(timedelta(hours=9))))  # 08:00 UTC
    index.add("london", ORIGINAL, datetime(2025, 3, 21, 8, 30, tzinfo=UTC))
    assert index.find_original(ORIGINAL, DAY) == "tokyo"


def test_dated_texts_come_before_undated_ones_and_undated_go_by_arrival() -> None:
    index = NearDuplicateIndex()
    index.add("undated", ORIGINAL, None)
    index.add("dated", ORIGINAL, DAY)
    assert index.find_original(ORIGINAL, None) == "dated"
    undated_only = NearDuplicateIndex()
    undated_only.add("a", ORIGINAL, None)
    undated_only.add("b", ORIGINAL, None)
    assert undated_only.find_original(ORIGINAL, DAY) == "a"


def test_a_text_published_before_every_match_is_itself_the_original() -> None:
    index = NearDuplicateIndex()
    index.add("copy", ORIGINAL + "\n\n" + CHROME, DAY)
    assert index.find_original(ORIGINAL, DAY - timedelta(hours=3)) is None
    assert index.duplicates(ORIGINAL) == ["copy"]  # so the caller can re-link the later copy
    assert index.find_original(ORIGINAL, DAY) == "copy"  # a tie goes to the one already there


# --- short texts ------------------------------------------------------------------------------------------


def test_short_texts_match_only_when_their_words_are_identical() -> None:
    lead = "Kim Jong Un met Sergei Shoigu in Pyongyang on Friday, state media said."
    assert len(lead.split()) < MIN_WORDS
    index = NearDuplicateIndex()
    index.add("lead", lead, DAY)
    assert index.find_original("KIM JONG UN met Sergei Shoigu in Pyongyang on Friday - state media said!", DAY) == "lead"
    assert index.find_original(lead.replace("Friday", "Thursday"), DAY) is None
    assert index.find_original(lead + " More to follow.", DAY) is None


def test_short_excerpt_of_a_long_article_is_not_linked() -> None:
    index = NearDuplicateIndex()
    index.add("long", ORIGINAL, DAY)
    assert index.find_original(" ".join(ORIGINAL.split()[:25]), DAY) is None


def test_texts_without_words_never_match() -> None:
    index = NearDuplicateIndex()
    index.add("empty", "", DAY)
    index.add("punctuation", " -- ... !!! ", DAY)
    assert len(index) == 2
    assert index.find_original("", DAY) is None
    assert index.find_original(" -- ... !!! ", DAY) is None


# --- bookkeeping ------------------------------------------------------------------------------------------


def test_remove_and_replace() -> None:
    index = NearDuplicateIndex()
    index.add("a", ORIGINAL, DAY)
    index.add("b", article(7), DAY)
    assert len(index) == 2 and "a" in index
    index.remove("a")
    index.remove("a")  # unknown keys are ignored
    assert len(index) == 1 and "a" not in index
    assert index.find_original(ORIGINAL, DAY) is None
    index.add("b", ORIGINAL, DAY)  # same key, new text: replaces
    assert len(index) == 1
    assert index.find_original(ORIGINAL, DAY) == "b"
    assert index.find_original(article(7), DAY) is None


def test_results_do_not_depend_on_the_instance() -> None:
    copy = replace_words(ORIGINAL, 0.05, seed=8)
    results = []
    for _ in range(2):
        index = NearDuplicateIndex()
        index.add("original", ORIGINAL, DAY)
        results.append(index.find_original(copy, DAY))
    assert results == ["original", "original"]


def test_invalid_parameters() -> None:
    with pytest.raises(ValueError):
        NearDuplicateIndex(threshold=0)
    with pytest.raises(ValueError):
        NearDuplicateIndex(shingle_size=0)
    with pytest.raises(ValueError):
        NearDuplicateIndex(num_perm=2)


# --- the seed pair: two outlets' own reports of one event -------------------------------------------------


def _lines(path: Path, numbers: list[int]) -> str:
    lines = path.read_text(encoding="utf-8").splitlines()
    return "\n\n".join(lines[n - 1] for n in numbers)


def test_seed_reports_are_not_copies_of_each_other(seeds_dir: Path) -> None:
    gold = json.loads((seeds_dir / "gold.json").read_text(encoding="utf-8"))
    first, second = (seeds_dir / name for name in sorted(gold["documents"]))
    bodies = {path: _lines(path, gold["documents"][path.name]["body_lines"]) for path in (first, second)}
    for texts in ((first.read_text(encoding="utf-8"), second.read_text(encoding="utf-8")), (bodies[first], bodies[second])):
        index = NearDuplicateIndex()
        index.add("000", texts[0], DAY)
        assert index.find_original(texts[1], DAY + timedelta(hours=1)) is None
        index = NearDuplicateIndex()
        index.add("001", texts[1], DAY)
        assert index.find_original(texts[0], DAY + timedelta(hours=1)) is None


def test_seed_report_with_aggregator_chrome_is_a_copy(seeds_dir: Path) -> None:
    gold = json.loads((seeds_dir / "gold.json").read_text(encoding="utf-8"))
    name_000, name_001 = sorted(gold["documents"])
    body = _lines(seeds_dir / name_001, gold["documents"][name_001]["body_lines"])
    page = (seeds_dir / name_001).read_text(encoding="utf-8")  # the same report inside inkl's page chrome
    index = NearDuplicateIndex()
    index.add("euronews", body, DAY)
    index.add("other outlet", (seeds_dir / name_000).read_text(encoding="utf-8"), DAY - timedelta(hours=1))
    assert index.find_original(page, DAY + timedelta(hours=2)) == "euronews"
