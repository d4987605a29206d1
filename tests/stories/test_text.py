from __future__ import annotations

import pytest

from newsloom.stories.text import (
    figures_in,
    looks_like_headline,
    names_in,
    split_sentences,
    stem,
    text_parts,
    tokens,
)


def test_sentences_split_on_lines_and_terminal_punctuation() -> None:
    text = 'He said "no." Then troops left.\n3 men died! Who? why not'
    assert split_sentences(text) == ['He said "no."', "Then troops left.", "3 men died!", "Who? why not"]


def test_tokens_drop_possessive_s_and_keep_figures() -> None:
    assert tokens("Russia’s 12,000 troops, Kim's O'Neil") == ["Russia", "s", "12,000", "troops", "Kim", "s", "O'Neil"]


def test_stem_meets_plural_and_tense_but_keeps_short_words() -> None:
    assert stem("quakes") == stem("quake")
    assert stem("raised") == stem("raising") == stem("raise")
    assert stem("checked") == stem("checking") == "check"
    assert stem("boxes") == stem("box")
    assert stem("press") == "press"
    assert stem("bus") == "bus"


def test_names_skip_sentence_openers_and_headline_case_and_break_at_punctuation() -> None:
    single, phrases = names_in(
        ["Supreme Court Agrees To Hear Major Abortion Case",
         "The meeting between Kim and Sergei Shoigu, Russia’s Security Council secretary, ended.",
         ],
        headlines=1,
    )
    assert "The" not in single
    assert "Sergei Shoigu" in phrases and "Security Council" in phrases
    assert not any("Abortion" in p for p in phrases)


def test_figures_normalise_numbers_and_month_days() -> None:
    assert figures_in("between 10,000 and 12,000 troops on March 21, 2025 and 3 drills") == [
        "10000", "12000", "03-21", "2025"
    ]


def test_untitled_text_takes_a_headline_like_first_line_as_title() -> None:
    parts = text_parts(None, "Quake hits Chile\nA strong earthquake struck central Chile on Monday.")
    assert parts.title_tokens == ("quake", "hits", "chile")
    assert looks_like_headline("Quake hits Chile")
    assert not looks_like_headline("A strong earthquake struck central Chile on Monday.")


def test_dateline_date_is_read_from_the_opening_only() -> None:
    from datetime import UTC, datetime

    from newsloom.stories.text import dateline_date

    assert dateline_date("Klitschko stops Thompson\nJuly 7 , 2012\nWladimir Klitschko") == datetime(2012, 7, 7, tzinfo=UTC)
    assert dateline_date("Posted: 3 May 2013 at 09:56") == datetime(2013, 5, 3, tzinfo=UTC)
    assert dateline_date("Updated 2011-11-12 01:19") == datetime(2011, 11, 12, tzinfo=UTC)
    assert dateline_date("February 30, 2013 is not a day") is None
    # numeric and spaced spellings: month first unless the first number cannot be a month; 2-digit years
    assert dateline_date("Rehab stint\n05 / 02 / 2013\nShe checked in") == datetime(2013, 5, 2, tzinfo=UTC)
    assert dateline_date("Posted 28/11/2005 09:10") == datetime(2005, 11, 28, tzinfo=UTC)
    assert dateline_date("8 / 2 / 13 at 1 : 30 PM") == datetime(2013, 8, 2, tzinfo=UTC)
    assert dateline_date("Fri . , May . 3 , 2013 11 : 45 AM") == datetime(2013, 5, 3, tzinfo=UTC)
    assert dateline_date("published : 2012 - 04 - 04 11 : 47") == datetime(2012, 4, 4, tzinfo=UTC)
    assert dateline_date("Open 24/7 and 3/4 of seats taken") is None
    # a clock time before a numeric date, dotted dates with a four-digit year, "November 27 - 2005"
    assert dateline_date("Last updated 13 : 26 14 / 09 / 2013\nA climber") == datetime(
        2013, 9, 14, tzinfo=UTC
    )
    assert dateline_date("First Posted 23 : 37 : 00 05 / 05 / 2010") == datetime(2010, 5, 5, tzinfo=UTC)
    assert dateline_date("Published : 2012 . 08 . 08 09 : 01 AM") == datetime(2012, 8, 8, tzinfo=UTC)
    assert dateline_date("Article posted on 28 . 07 . 2012") == datetime(2012, 7, 28, tzinfo=UTC)
    assert dateline_date("Sunday , November 27 - 2005 at 16 : 12") == datetime(2005, 11, 27, tzinfo=UTC)
    # version numbers and runs of numbers are not dates
    assert dateline_date("IE 8 . 0 . 1 2013 update and Windows 8 . 1 RTM") is None
    assert dateline_date("scores 3 1 / 2 / 2010 7") is None
    assert dateline_date("No date here. " * 40 + "March 3, 2013") is None
    assert text_parts(None, "Lohan checks in\nMay 03 , 2013\nLohan checked in.").dateline == datetime(
        2013, 5, 3, tzinfo=UTC
    )


def test_sentence_end_marks_stay_with_their_sentence() -> None:
    assert split_sentences("Troops left (finally.) Then 3 men came! “Go,” he said.") == [
        "Troops left (finally.)",
        "Then 3 men came!",
        "“Go,” he said.",
    ]


def test_lines_break_on_any_whitespace_run_holding_a_line_break() -> None:
    from newsloom.stories.text import split_lines

    assert split_lines(" one \t\n\n  two\u00a0\r\nthree\u2028x \n ") == ["one", "two", "three\u2028x"]
    assert split_lines("one line only ") == ["one line only"]
    assert split_lines(" \n \n") == []


def test_sentence_openers_are_names_only_when_never_written_in_lower_case() -> None:
    single, phrases = names_in(["Kim Jong Un met Putin.", "Putin said the Kim talks went well.", "Talks end."])
    assert single == ["Kim", "Jong", "Un", "Putin", "Putin", "Kim"]
    assert phrases == ["Kim Jong Un"]
    single, phrases = names_in(["The Kremlin Palace hosted talks.", "Officials said the palace was shut."])
    assert single == ["Kremlin", "Palace"] and phrases == ["Kremlin Palace"]


def test_figures_read_a_day_after_a_month_and_drop_single_digits() -> None:
    assert figures_in("On Dec. 4 and May 31, 2,500 people; 7 died; 007 and 1.5 and 3:15; 12") == [
        "12-04", "05-31", "2500", "007", "1.5", "3:15", "12"
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Kim's O'Neil met Russia's Shoigu, Sergei Shoigu; U.S. troops: 12,000 (3.5%) on March 21, 2025.",
        "abc123 x.12 _12 12_ 1.2.3 9:30 don't it's Jones' 'quoted' A1 B2 C3D Xs s' S'",
        "\nThe  Big Apple\tNew York\n\nCity Hall 2013-05-03 May 03 , 2013 Sept. 4 2012 3rd\x1c4th",
    ],
)
def test_ascii_scanners_find_what_the_unicode_ones_find(text: str) -> None:
    from newsloom.stories import text as module

    for ascii_pattern, unicode_pattern in (
        (module._ASCII_TOKEN_RE, module._TOKEN_RE),
        (module._ASCII_NAME_RUN_RE, module._NAME_RUN_RE),
        (module._ASCII_FIGURE_RE, module._FIGURE_RE),
    ):
        assert ascii_pattern.findall(text) == unicode_pattern.findall(text)
