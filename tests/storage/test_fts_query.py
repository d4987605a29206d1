"""Translating web-search queries into FTS5 expressions (pure function, checked against a real FTS5 table)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsloom.storage.search import to_fts5_query

# Enough random queries to hit quotes, dashes, OR and odd Unicode together, in well under a second.
HYPOTHESIS_EXAMPLES = 300


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("paris", '"paris"'),
        ("paris climate", '"paris" AND "climate"'),
        ('"climate deal"', '"climate deal"'),
        ('"climate deal', '"climate deal"'),
        ("paris OR lyon", '("paris" OR "lyon")'),
        ("paris or lyon marseille", '("paris" OR "lyon") AND "marseille"'),
        ("OR paris", '"paris"'),
        ("paris OR", '"paris"'),
        ("paris -sports", '"paris" NOT "sports"'),
        ('paris -"world cup" -x', '"paris" NOT "world cup" NOT "x"'),
        ("-sports", None),
        ("", None),
        ("!!! ... ---", None),
        ('say "hi', '"say" AND "hi"'),
        ('he said "no"', '"he" AND "said" AND "no"'),
        ('a"b', '"a b"'),
        ("title:x", '"title:x"'),
        ("NEAR(a b)", '"NEAR(a" AND "b)"'),
        ("e-mail", '"e-mail"'),
        ("東京", '"東京"'),
    ],
)
def test_translation(query: str, expected: str | None) -> None:
    assert to_fts5_query(query) == expected


@pytest.fixture(scope="module")
def fts() -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE VIRTUAL TABLE t USING fts5(title, text, tokenize='unicode61 remove_diacritics 2')")
    connection.executemany(
        "INSERT INTO t VALUES (?, ?)",
        [("Paris climate deal", "Signed in Paris."), ("Lyon", "e-mail from l'état"), ("東京", "地震")],
    )
    yield connection
    connection.close()


@settings(max_examples=HYPOTHESIS_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60))
def test_no_text_is_an_fts5_syntax_error(fts: sqlite3.Connection, query: str) -> None:
    expression = to_fts5_query(query)
    if expression is not None:
        fts.execute("SELECT rowid FROM t WHERE t MATCH ?", (expression,)).fetchall()


@settings(max_examples=HYPOTHESIS_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(['"', "-", "OR", "or", "(", ")", "*", ":", "^", "NOT", "AND", "NEAR", "paris", "x", " "]), max_size=12))
def test_no_mix_of_operators_is_an_fts5_syntax_error(fts: sqlite3.Connection, parts: list[str]) -> None:
    expression = to_fts5_query("".join(parts))
    if expression is not None:
        fts.execute("SELECT rowid FROM t WHERE t MATCH ?", (expression,)).fetchall()
