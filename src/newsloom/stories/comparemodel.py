"""Records of a story comparison: the input articles and what ``compare_articles`` makes of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from newsloom.stories.entities import Entity

DifferenceKind = Literal["figure", "date", "quote", "framing"]


@dataclass(frozen=True)
class CompareInput:
    """One article to compare. ``text`` is the body only (paragraphs separated by blank lines).

    ``original_index`` marks a syndicated copy of input ``original_index``: its sentences are aligned like
    any other, but the copy never makes a claim "consensus" on its own.
    """

    text: str
    title: str | None = None
    publisher: str | None = None
    url: str | None = None
    path: str | None = None
    published: datetime | None = None
    captions: tuple[str, ...] = ()
    headings: tuple[str, ...] = ()
    original_index: int | None = None


@dataclass(frozen=True, slots=True)
class ArticleInfo:
    index: int
    publisher: str | None
    title: str | None
    url: str | None
    path: str | None
    published: datetime | None
    original_index: int | None
    sentence_count: int


@dataclass(frozen=True, slots=True)
class SentenceRef:
    """One sentence of one article. ``position`` counts body sentences then captions, from 0."""

    article: int
    position: int
    text: str
    caption: bool = False


@dataclass(frozen=True, slots=True)
class Claim:
    """Sentences of different articles that report one fact. ``outlets`` are article indices.

    ``consensus`` is True when at least two independent outlets carry it (a syndicated copy and its
    original count once, and so do two articles of one publisher).
    """

    id: int
    outlets: tuple[int, ...]
    sentences: tuple[SentenceRef, ...]
    consensus: bool
    caption: bool
    independent_outlets: int


@dataclass(frozen=True, slots=True)
class DiffValue:
    article: int
    text: str


@dataclass(frozen=True, slots=True)
class Difference:
    """Inside one claim, the words two outlets chose differently. ``note`` says how (e.g. "precision")."""

    claim: int
    kind: DifferenceKind
    values: tuple[DiffValue, ...]
    note: str = ""


@dataclass(frozen=True, slots=True)
class Quote:
    speaker: str | None
    text: str
    article: int
    claim: int | None = None


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """What one article added when it appeared: claims and entities no earlier article carried."""

    article: int
    published: datetime | None
    new_claims: tuple[int, ...]
    new_entities: tuple[str, ...]
    new_figures: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Comparison:
    articles: tuple[ArticleInfo, ...]
    claims: tuple[Claim, ...]
    differences: tuple[Difference, ...]
    entities: tuple[Entity, ...]
    quotes: tuple[Quote, ...]
    timeline: tuple[TimelineEntry, ...]
