"""Conversions between database rows and the public records of newsloom.types (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from datetime import datetime
from typing import Any

from newsloom.types import Article, NewArticle, Source, Story

SOURCE_FIELDS = frozenset(f.name for f in fields(Source))
ARTICLE_FIELDS = frozenset(f.name for f in fields(Article))
NEW_ARTICLE_FIELDS = tuple(f.name for f in fields(NewArticle))
STORY_FIELDS = frozenset(f.name for f in fields(Story))


def without_nul(value: Any) -> Any:
    """Strings without NUL characters: PostgreSQL refuses them in text, and SQLite must store the same thing."""
    return value.replace("\x00", "") if isinstance(value, str) else value


def source_from_row(row: Mapping[Any, Any]) -> Source:
    return Source(**{name: row[name] for name in SOURCE_FIELDS})


def source_values(changes: Mapping[str, object]) -> dict[str, object]:
    """Column values for a source update; ``TypeError`` for an unknown field or ``id`` (a programming error)."""
    unknown = set(changes) - (SOURCE_FIELDS - {"id"})
    if unknown:
        raise TypeError(f"update_source: cannot change {', '.join(sorted(unknown))}")
    return {name: without_nul(value) for name, value in changes.items()}


def dated_at(article: NewArticle, now: datetime) -> datetime:
    """The time an article is listed under: published, else fetched, else now; never after now."""
    when = article.published_at or article.fetched_at or now
    return min(when, now)


# Characters of text kept as the search snippet: two lines of a result list.
SNIPPET_CHARS = 240


def snippet_of(text: str) -> str:
    """The start of ``text`` on one line, at most SNIPPET_CHARS, cut at a word boundary (with an ellipsis)."""
    flat = " ".join(text.split())
    if len(flat) <= SNIPPET_CHARS:
        return flat
    cut = flat[:SNIPPET_CHARS]
    space = cut.rfind(" ")
    return (cut[:space] if space > SNIPPET_CHARS // 2 else cut).rstrip(" ,;:.") + "…"


def article_values(article: NewArticle, now: datetime) -> dict[str, Any]:
    """Column values for inserting ``article`` first stored at ``now``."""
    values: dict[str, Any] = {name: without_nul(getattr(article, name)) for name in NEW_ARTICLE_FIELDS}
    values["captions"] = [without_nul(caption) for caption in article.captions]
    # NewArticle may grow an is_article flag (the extractor has one); until then everything stored is an article.
    values["is_article"] = bool(getattr(article, "is_article", True))
    values["dated_at"] = dated_at(article, now)
    values["added_at"] = now
    values["snippet"] = snippet_of(values["text"])
    return values


def article_from_row(row: Mapping[Any, Any], source_ids: tuple[int, ...]) -> Article:
    values = {name: row[name] for name in ARTICLE_FIELDS if name in row}
    values["captions"] = tuple(row["captions"] or ())
    values["source_ids"] = source_ids
    return Article(**values)


def story_values(story: Story, now: datetime) -> dict[str, Any]:
    values: dict[str, Any] = {name: without_nul(getattr(story, name)) for name in STORY_FIELDS}
    values["entities"] = [without_nul(entity) for entity in story.entities]
    values["updated_at"] = now
    return values


def story_from_row(row: Mapping[Any, Any]) -> Story:
    values = {name: row[name] for name in STORY_FIELDS}
    values["entities"] = tuple(row["entities"] or ())
    return Story(**values)
