"""Plain-text rules on fixtures written for newsloom (other aggregators, bylines, wrapping, no chrome)."""

from __future__ import annotations

import json
from pathlib import Path

from newsloom.ingest.extract import extract_file, extract_text, recurring_lines
from newsloom.ingest.plaintext import caption_of, guess_language, normalise_line, parse_date

PAGES = Path(__file__).resolve().parent.parent / "fixtures" / "pages"


def test_other_aggregator_chrome_byline_date_and_caption() -> None:
    expected = json.loads((PAGES / "other_aggregator.expected.json").read_text(encoding="utf-8"))
    article = extract_file(PAGES / "other_aggregator.txt")
    assert article.title == expected["title"]
    assert article.author == expected["author"]
    assert article.publisher == expected["publisher"]
    assert article.published is not None and article.published.isoformat() == expected["published"]
    for fragment in expected["body"]:
        assert fragment in article.text
    for fragment in expected["absent"]:
        assert fragment not in article.text, fragment
    assert list(article.captions) == expected["captions"]


def test_text_without_chrome_keeps_every_line() -> None:
    raw = (PAGES / "no_chrome.txt").read_text(encoding="utf-8")
    article = extract_text(raw)
    assert article.text.split("\n\n") == [line.strip() for line in raw.splitlines() if line.strip()]
    assert article.title is None and article.author is None and article.publisher is None
    assert article.captions == () and article.headings == ()


def test_hard_wrapped_text_is_joined_and_caps_byline_split() -> None:
    article = extract_file(PAGES / "wrapped_byline.txt")
    assert article.title == "Scientists map the deepest known cave system in the Alps"
    assert article.author == "Tomas Reiner, Lea Vogt"
    assert article.published is not None and article.published.date().isoformat() == "2025-03-12"
    paragraphs = article.text.split("\n\n")
    assert len(paragraphs) == 3
    assert paragraphs[0].startswith("A team of cave divers") and paragraphs[0].endswith("said on Wednesday.")
    assert "Share this article" not in article.text and "Copy link" not in article.text


def test_recurring_lines_need_min_docs_and_are_normalised() -> None:
    docs = [
        f"Get the  App today\nStory number {i} is here with its own words.\nFollow Us\n" for i in range(3)
    ] + ["GET THE APP TODAY\nSomething else entirely happened on Monday.\n"]
    lines = recurring_lines(docs, min_docs=3)
    assert normalise_line("Get the App today") in lines
    assert normalise_line("Follow us") in lines
    assert not any("story number" in line for line in lines)
    assert recurring_lines(docs, min_docs=5) == frozenset()


def test_site_lines_are_dropped_even_mid_text() -> None:
    body = "\n".join(
        [
            "The harbour authority said on Monday that the new ferry terminal will open in the spring of next year.",
            "Brought to you by Coastline Weekly",
            "Officials expect the terminal to handle twice as many passengers as the current building by the end of 2026.",
        ]
    )
    site = frozenset({normalise_line("Brought to you by Coastline Weekly")})
    plain = extract_text(body)
    assert "Brought to you by Coastline Weekly" in plain.text + "".join(plain.headings)
    cleaned = extract_text(body, site_lines=site)
    assert "Brought to you" not in cleaned.text + "".join(cleaned.headings)
    assert len(cleaned.text.split("\n\n")) == 2


def test_in_body_promotions_dropped_headings_kept_apart() -> None:
    text = "\n".join(
        [
            "The central bank raised its main interest rate by a quarter point on Thursday, the third rise this year.",
            "Markets react",
            "Shares fell in early trading as investors weighed the chance of further increases before the summer.",
            "Read more: What higher rates mean for your mortgage",
            "Analysts had expected the decision after inflation figures last week came in above forecasts.",
        ]
    )
    article = extract_text(text)
    assert article.headings == ("Markets react",)
    assert "Read more" not in article.text
    assert len(article.text.split("\n\n")) == 3


def test_caption_shapes() -> None:
    assert caption_of("A man walks past the ruins of the old market hall. (A man walks past the ruins of the old market hall.)")
    assert caption_of("Firefighters at the scene on Sunday. Photo: Anna Berg/Reuters")
    assert caption_of("Reuters reported on Monday that the talks had stalled over the question of border controls.") is None


def test_dates_and_language() -> None:
    published = parse_date("Published: Mar 21, 2025 10:42 GMT")
    assert published is not None and published.isoformat() == "2025-03-21T10:42:00+00:00"
    assert parse_date("North Korean dictator says he strongly supports Russia") is None
    assert guess_language("Le conseil a voté pour la construction de la digue et les habitants sont contents.") == "fr"
    assert guess_language("ok") is None


def test_brief_without_long_sentences_and_empty_text() -> None:
    assert extract_text("Short note.\nSign up now").text == "Short note."
    empty = extract_text("   \n\n")
    assert empty.text == "" and not empty.is_article and empty.not_article_reason == "empty"
