from __future__ import annotations

import pytest

from newsloom.stories.sentences import split_dateline, split_sentences


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mr. Smith went to Washington. He met Dr. Jones there.",
         ["Mr. Smith went to Washington.", "He met Dr. Jones there."]),
        ("The book is by J. R. R. Tolkien. It is long.", ["The book is by J. R. R. Tolkien.", "It is long."]),
        ("John F. Kerry met officials. They talked.", ["John F. Kerry met officials.", "They talked."]),
        ("The U.S. economy grew. The president said so.", ["The U.S. economy grew.", "The president said so."]),
        ("Troops left the U.S. The war was over.", ["Troops left the U.S.", "The war was over."]),
        ("The meeting is at 9 a.m. on Jan. 5 in St. Louis. It was moved.",
         ["The meeting is at 9 a.m. on Jan. 5 in St. Louis.", "It was moved."]),
        ("Shares of Acme Inc. rose 3.5% on Monday. Analysts cheered.",
         ["Shares of Acme Inc. rose 3.5% on Monday.", "Analysts cheered."]),
    ],
)  # fmt: skip
def test_abbreviations_and_initials_do_not_end_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_quotation_with_several_sentences_stays_whole() -> None:
    text = "She said: “We will win. They will lose.” Then she left."
    assert split_sentences(text) == ["She said: “We will win. They will lose.”", "Then she left."]


def test_question_in_quote_followed_by_attribution_is_one_sentence() -> None:
    assert split_sentences("“Why now?” Trump asked. Nobody answered.") == ["“Why now?” Trump asked.", "Nobody answered."]


def test_quote_closing_after_period_ends_sentence() -> None:
    text = "“We are ready,” he said. “The talks are over.” The minister left."
    assert split_sentences(text) == ["“We are ready,” he said.", "“The talks are over.”", "The minister left."]


def test_unclosed_quote_does_not_swallow_the_paragraph() -> None:
    text = "He said “we will stay. The army is strong. Nobody leaves."
    assert len(split_sentences(text)) == 3


def test_paragraphs_and_lines_are_boundaries_but_wrapped_lines_join() -> None:
    text = "First paragraph here\n\nSecond one. Third one.\nA line that wraps\nin the middle."
    assert split_sentences(text) == [
        "First paragraph here", "Second one.", "Third one.", "A line that wraps in the middle.",
    ]  # fmt: skip


def test_tokenised_text_with_latex_quotes() -> None:
    text = "Her rep told People . `` We appreciate it . '' The actress is 33 ."
    assert split_sentences(text) == ["Her rep told People .", "`` We appreciate it . ''", "The actress is 33 ."]


def test_dateline_stays_in_its_sentence_and_can_be_split_off() -> None:
    text = "KYIV, March 3 (Reuters) - Ukraine said it shot down 30 drones. Russia denied it."
    sentences = split_sentences(text)
    assert sentences == ["KYIV, March 3 (Reuters) - Ukraine said it shot down 30 drones.", "Russia denied it."]
    assert split_dateline(sentences[0]) == ("KYIV, March 3 (Reuters)", "Ukraine said it shot down 30 drones.")
    assert split_dateline("WASHINGTON (AP) — The Senate voted.") == ("WASHINGTON (AP)", "The Senate voted.")
    assert split_dateline("The Senate voted - again.") == (None, "The Senate voted - again.")


def test_empty_text() -> None:
    assert split_sentences("") == []
    assert split_sentences("  \n\n ") == []
