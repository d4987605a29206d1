"""The story engine's state: one open or closed story (``StoryState``) and its kept members (``Member``).

Plain mutable records; the engine (``stories.engine``) changes them, scoring (``stories.scoring``) reads
them, packing (``stories.packing``) shrinks a closed one. Also the entity tally kept per story.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from newsloom.stories import entitylist
from newsloom.stories.embed import FloatMatrix
from newsloom.stories.summary import MemberText
from newsloom.stories.text import TextParts
from newsloom.stories.vectorize import EMPTY_ARRAYS, TermArrays, Vector

DAY_S = 86_400.0
#: the entity tally of a story is pruned to its heaviest entries past this size
ENTITY_TALLY_LIMIT = 256


@dataclass(slots=True)
class Member:
    doc_id: str
    vector: Vector
    text: MemberText
    #: static embedding of the title and lead, computed the first time a gray-zone join asks for it
    embedding: FloatMatrix | None = None
    #: the vector's term ids and weights (taken from the article's arrays when it joins)
    ids: np.ndarray | None = None
    weights: np.ndarray | None = None


@dataclass(slots=True)
class StoryState:
    id: str
    seq: int
    first_time: float | None = None
    last_time: float | None = None
    #: span of the members' own dates (not stream-clock times): the time-distance signal uses these
    first_date: float | None = None
    last_date: float | None = None
    #: arrival number of the story's latest article: the clock of undated articles
    last_arrival: int = 0
    centroid: Vector = field(default_factory=dict)
    centroid_norm: float = 0.0
    #: ``centroid`` as term arrays, for numpy cosines; None when it must be rebuilt from ``centroid``
    centroid_arrays: TermArrays | None = EMPTY_ARRAYS
    head: list[Member] = field(default_factory=list)
    tail: list[Member] = field(default_factory=list)
    doc_ids: list[str] = field(default_factory=list)
    article_count: int = 0
    original_count: int = 0
    syndicated_count: int = 0
    outlets: dict[str, None] = field(default_factory=dict)
    entities: dict[str, int] = field(default_factory=dict)
    index_terms: tuple[str, ...] = ()
    #: the postings of ``index_terms`` (the story is in each): reposting needs no look-up for these
    index_postings: tuple[dict[str, None], ...] = ()
    #: the centroid's heaviest names ("@" terms), for the name-conflict evidence
    top_names: tuple[str, ...] = ()
    #: event-signature keys of the members with their counts (``stories.profile``), and the strong keys
    #: the story is posted under in the signature index
    profile: dict[str, int] = field(default_factory=dict)
    posted_keys: tuple[str, ...] = ()
    #: some member's text opened with a dateline (``TextParts.dateline``)
    datelined: bool = False
    open: bool = True
    #: the members' ids and weights as matrix rows (zero-padded) for ``TermTable.best_row_dot``; None when stale
    member_rows: tuple[np.ndarray, np.ndarray] | None = None
    #: a closed story's member texts, centroid, entity tally and outlets, packed (``packing.pack``); those fields are
    #: empty meanwhile. None while open, and once unpacked again.
    packed: bytes | None = None

    def members(self) -> list[Member]:
        return self.head + self.tail



def timestamp(value: datetime | None) -> float | None:
    """Seconds since the epoch; a naive time is taken as UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def to_datetime(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, tz=UTC)


def tally_entities(story: StoryState, parts: TextParts) -> None:
    """Count each name and multi-word name once per article (as written)."""
    seen = dict.fromkeys(parts.name_phrases)
    seen.update(dict.fromkeys(parts.names))
    for name in seen:
        story.entities[name] = story.entities.get(name, 0) + 1
    if len(story.entities) > ENTITY_TALLY_LIMIT:
        top = sorted(story.entities.items(), key=lambda item: (-item[1], item[0]))[: ENTITY_TALLY_LIMIT // 4]
        story.entities = dict(top)


def main_entities(entities: dict[str, int], article_count: int, limit: int) -> tuple[str, ...]:
    """Most mentioned full names, name parts folded in, bare common nouns dropped (``entitylist``)."""
    return entitylist.main_entities(entities, article_count, limit)
