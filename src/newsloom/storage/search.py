"""Full-text search over article titles and text: SQLite FTS5 or PostgreSQL tsvector, one query language.

Users type web-search style queries: words (all must match), ``"exact phrases"``, ``a OR b`` and ``-excluded``.
PostgreSQL parses them with ``websearch_to_tsquery``, which never raises; for SQLite the same syntax is
translated into an FTS5 expression in which every term is a double-quoted string, so no user input can form
FTS5 syntax (column filters, ``NEAR``, ``^``, stray quotes or parentheses) and raise a syntax error.

The index itself (FTS5 external-content table kept in sync by triggers; PostgreSQL generated tsvector column
with a GIN index) is created by migration 0001.

Both engines tokenise without stemming (FTS5 ``unicode61``, PostgreSQL ``simple``), so a query matches the
same articles on either engine; FTS5 also folds diacritics (``cafe`` finds ``café``), PostgreSQL does not
(that needs the ``unaccent`` extension, which only a superuser can install).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from newsloom.storage.schema import articles

FTS_TABLE = "articles_fts"
PG_TEXT_CONFIG = "simple"
PG_VECTOR_COLUMN = "search_vector"

# A title word counts 2.5 times a body word: PostgreSQL's default weights for classes A and B are 1.0 and
# 0.4, and FTS5's bm25 is given the same ratio so both engines rank alike.
TITLE_WEIGHT = 2.5
TEXT_WEIGHT = 1.0



def is_search_object(name: str) -> bool:
    """True for the engine-specific full-text objects, which schema.py does not declare (FTS5 shadow tables too)."""
    return name.startswith(FTS_TABLE) or name in (PG_VECTOR_COLUMN, f"ix_articles_{PG_VECTOR_COLUMN}")


def clean_query(query: str) -> str:
    """The query without NUL characters (PostgreSQL refuses them in text) and surrounding space."""
    return query.replace("\x00", " ").strip()


# A double-quoted phrase, maybe negated (the closing quote may be missing), or a run of non-space characters.
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')


@dataclass(frozen=True, slots=True)
class _Term:
    fts: str  # already quoted for FTS5
    negated: bool


def _quote(text: str) -> str | None:
    """``text`` as one FTS5 string (a phrase of its tokens), or None when it holds no word character."""
    if not any(ch.isalnum() for ch in text):
        return None
    return '"' + text.replace('"', '""') + '"'


def to_fts5_query(query: str) -> str | None:
    """Translate a web-search style query into a safe FTS5 expression; None when nothing is left to match.

    ``Paris "climate deal" OR accord -sports`` becomes ``"Paris" AND ("climate deal" OR "accord") NOT "sports"``.
    """
    groups: list[list[str]] = []
    excluded: list[str] = []
    join_with_previous = False
    for match in _TOKEN.finditer(clean_query(query)):
        minus, phrase, word = match.group(1, 2, 3)
        negated = False
        if word is not None:
            if word.lower() == "or":
                join_with_previous = bool(groups)
                continue
            if word.startswith("-") and len(word) > 1:
                negated, word = True, word[1:]
            quoted = _quote(word.replace('"', " "))
        else:
            negated = minus == "-"
            quoted = _quote(phrase)
        if quoted is None:
            continue
        if negated:
            excluded.append(quoted)
        elif join_with_previous:
            groups[-1].append(quoted)
        else:
            groups.append([quoted])
        join_with_previous = False
    if not groups:  # FTS5 NOT is binary, and "everything but X" is not a useful search
        return None
    positive = " AND ".join(g[0] if len(g) == 1 else "(" + " OR ".join(g) + ")" for g in groups)
    return positive + "".join(f" NOT {term}" for term in excluded)


# Ranking is what costs: bm25 / ts_rank_cd per matching row, then a sort of all of them. A common word matches
# most of a news archive ("minister" matched 82k of the 100k articles of bench/web.py's corpus: 0.94 s to rank
# on SQLite, 8 ms once capped), so only the newest RANKED_CANDIDATES matches (highest article id, i.e. the most
# recently stored) are ranked. A query matching fewer rows is ranked in full, exactly as before; a broad one
# gets the best of the recent matches, which is what a news reader searching for "minister" wants. 1,000 is
# 33 result pages and keeps the ranked set to ~10 ms on SQLite at 100k articles (see docs/benchmarks/web.md).
RANKED_CANDIDATES = 1000

Restrict = Callable[[sa.Select[Any]], sa.Select[Any]]


def ranked_matches(dialect_name: str, query: str, *, restrict: Restrict, cap: int = RANKED_CANDIDATES) -> sa.Subquery | None:
    """The newest ``cap`` articles matching ``query`` as a subquery of ``(id, score)``, lower score = better match.

    ``restrict`` adds the caller's filters (on ``articles`` columns) to the candidate SELECT, so that the cap
    applies to the filtered matches and a filter never empties a page that has matches. None when the query
    cannot match anything.
    """
    query = clean_query(query)
    if not query:
        return None
    if dialect_name == "sqlite":
        expression = to_fts5_query(query)
        if expression is None:
            return None
        fts = sa.table(FTS_TABLE, sa.column("rowid"))
        fts_name: sa.ColumnClause[Any] = sa.literal_column(FTS_TABLE)
        # bm25() only exists inside the FTS5 query; FTS5 walks its matches in rowid order, so ORDER BY rowid
        # DESC LIMIT stops after ``cap`` rows and bm25 is computed for those only.
        candidates = (
            sa.select(fts.c.rowid.label("id"), sa.func.bm25(fts_name, TITLE_WEIGHT, TEXT_WEIGHT).label("score"))
            .select_from(fts.join(articles, articles.c.id == fts.c.rowid))
            .where(fts_name.op("MATCH")(sa.literal(expression)))
            .order_by(fts.c.rowid.desc())
            .limit(cap)
        )
        return restrict(candidates).subquery("ranked_matches")
    vector: sa.ColumnClause[Any] = sa.literal_column(f"articles.{PG_VECTOR_COLUMN}")
    config: sa.ColumnClause[Any] = sa.literal_column(f"'{PG_TEXT_CONFIG}'::regconfig")
    newest = (
        sa.select(articles.c.id)
        .where(vector.op("@@")(sa.func.websearch_to_tsquery(config, query)))
        .order_by(articles.c.id.desc())
        .limit(cap)
    )
    newest_ids = restrict(newest).subquery("newest_matches")
    # Ranked in an outer SELECT so that ts_rank_cd runs on the capped rows only, whatever plan finds them.
    return (
        sa.select(articles.c.id, (-sa.func.ts_rank_cd(vector, sa.func.websearch_to_tsquery(config, query))).label("score"))
        .select_from(articles.join(newest_ids, newest_ids.c.id == articles.c.id))
        .subquery("ranked_matches")
    )
