"""How well an article fits a candidate story, and whether that is enough to join it.

Pure functions of (config, article evidence, story state): the engine (``stories.engine``) gathers the
candidates and the stream's counters and calls these. The score is centroid and best-member cosine,
minus penalties for time distance, name conflicts, dateline mismatch and arrival distance (when the article
or the story has no date), plus the lead-name bonus; the join bar depends on the article's length, with a
gray zone for short texts that arrive (or are published) together with the story's latest.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from functools import cache
from itertools import islice

import numpy as np

from newsloom.stories.embed import FloatMatrix, StaticEmbedder, default_embedder
from newsloom.stories.profile import NO_EVIDENCE, Evidence
from newsloom.stories.state import DAY_S, Member, StoryState
from newsloom.stories.storymodel import EngineConfig
from newsloom.stories.text import TextParts
from newsloom.stories.vectorize import NAME_PREFIX, TermTable, Vector, dot

HOUR_S = 3600.0


def words(parts: TextParts) -> int:
    return parts.word_total


@cache
def shared_embedder() -> StaticEmbedder | None:
    """The shipped embedder, loaded once per process (it is immutable apart from a memo that never changes a
    result); None when the artefact is not installed, and then no gray-zone join is made."""
    return default_embedder()


def lead_embedding(embedder: StaticEmbedder, title: str | None, sentences: Iterable[str]) -> FloatMatrix:
    text = "\n".join(((title,) if title else ()) + tuple(sentences))
    row: FloatMatrix = embedder.encode([text])[0]
    return row


def centroid_cosine(terms: TermTable, vector: Vector, story: StoryState) -> float:
    if not story.centroid_norm:
        return 0.0
    if story.centroid_arrays is None:
        return dot(vector, story.centroid) / story.centroid_norm
    return terms.dot(vector, story.centroid_arrays) / story.centroid_norm


def score(
    config: EngineConfig,
    vector: Vector,
    date: float | None,
    story: StoryState,
    centroid_cos: float,
    best_member_cos: float,
    arrivals: int,
    *,
    undated: bool,
    names: tuple[str, ...],
    lead_name: str | None = None,
    datelined: bool = False,
    evidence: Evidence = NO_EVIDENCE,
) -> float:
    """The article's score against one candidate story (``arrivals``: the stream's arrival count;
    ``evidence``: what the article's event signature says about the story, ``stories.profile``)."""
    value = (1.0 - config.member_share) * centroid_cos + config.member_share * best_member_cos
    shared_keys = evidence.shared_keys
    if shared_keys:
        # one incident's street or victim: its follow-ups come days later in other words
        value += config.signature_bonus + config.signature_extra_bonus * min(shared_keys - 1, 2)
    if evidence.day_match and (shared_keys or evidence.shared_support):
        value += config.event_day_bonus
    if evidence.day_conflict and shared_keys < 2:
        value -= config.event_day_penalty
    if date is not None and story.first_date is not None and story.last_date is not None:
        gap_days = max(story.first_date - date, date - story.last_date, 0.0) / DAY_S
        if not undated:
            per_day = config.time_penalty_per_day * (config.signature_time_share if shared_keys else 1.0)
            value -= per_day * max(0.0, gap_days - config.time_grace_days)
        elif gap_days > config.dateline_grace_days:
            # a dateline is a looser clock (follow-ups quote the event's date): a penalty per doubling
            value -= config.dateline_penalty_per_doubling * math.log2(gap_days / config.dateline_grace_days)
    if names and names_conflict(vector, names, story):
        value -= config.name_conflict_penalty
    if lead_name is not None and story.top_names and story.top_names[0] == lead_name:
        value += config.lead_name_bonus
    if undated and datelined and not story.datelined:
        value -= config.dateline_mismatch_penalty
    if undated or story.last_date is None:
        # no publication date on one side: the arrival order is the clock (reports of one event arrive
        # close together)
        gap = arrivals - story.last_arrival
        if gap > config.arrival_grace:
            value -= config.arrival_penalty_per_doubling * math.log2(gap / config.arrival_grace)
    return value


def in_gray_zone(
    config: EngineConfig,
    value: float,
    bar: float,
    story: StoryState,
    parts: TextParts,
    arrivals: int,
    *,
    undated: bool,
    datelined: bool,
    date: float | None = None,
) -> bool:
    """Whether a score under the bar may still join, pending the embedding test (see the engine's
    ``_reaches_bar``): a short text, close under the bar, against a story that just grew, in arrivals and,
    when both have dates, in time (``recent_join_hours``: a dated article's arrival rank alone says little
    in a busy stream)."""
    together_in_time = (
        undated
        or story.last_date is None
        or (date is not None and abs(date - story.last_date) <= config.recent_join_hours * HOUR_S)
    )
    return (
        together_in_time
        and not (datelined and not story.datelined)
        and value >= bar - config.recent_join_margin
        and words(parts) <= config.recent_join_max_words
        and arrivals - story.last_arrival <= config.recent_join_arrivals
    )


def embedding_cosine(embedder: StaticEmbedder | None, lead_sentences: int, parts: TextParts, story: StoryState) -> float:
    """Static-embedding cosine of the article's title and lead with the sum of the story's members'
    (-1 without an embedder: no gray-zone join then)."""
    if embedder is None:
        return -1.0
    rows: list[FloatMatrix] = []
    for member in story.members():
        if member.embedding is None:
            member.embedding = lead_embedding(embedder, member.text.title, member.text.sentences[:lead_sentences])
        rows.append(member.embedding)
    article = lead_embedding(embedder, parts.title, parts.sentences[:lead_sentences])
    total = np.sum(rows, axis=0)
    length = float(np.linalg.norm(total))
    return float(article @ total) / length if length else -1.0


def best_member(terms: TermTable, vector: Vector, story: StoryState) -> float:
    """The best cosine of ``vector`` with a member vector of ``story``: ``dot``'s very floats, in numpy
    when each member vector is the shorter side (the one ``dot`` iterates)."""
    members = story.members()
    if not members:
        return 0.0
    if any(len(member.vector) >= len(vector) for member in members):
        # ``dot`` would iterate the article's terms here, not the member's: its float, in its order
        return max(dot(vector, member.vector) for member in members)
    if story.member_rows is None:
        story.member_rows = member_rows(terms, members)
    if terms.loaded is not vector:
        terms.load(vector)
    return terms.best_row_dot(*story.member_rows)


def member_rows(terms: TermTable, members: list[Member]) -> tuple[np.ndarray, np.ndarray]:
    """The members' term ids and weights as the rows of two matrices, zero-padded to the longest."""
    width = max(len(member.vector) for member in members)
    ids = np.zeros((len(members), width), dtype=np.intp)
    weights = np.zeros((len(members), width))
    for row, member in enumerate(members):
        if member.ids is None or member.weights is None:
            member.ids = terms.ids(list(member.vector))
            member.weights = np.fromiter(member.vector.values(), dtype=np.float64, count=len(member.vector))
        ids[row, : len(member.ids)] = member.ids
        weights[row, : len(member.weights)] = member.weights
    return ids, weights


def join_bar(config: EngineConfig, parts: TextParts) -> float:
    """The join threshold for an article of this length: ``short_join_threshold`` up to
    ``short_text_words`` words, ``join_threshold`` from ``long_text_words`` on, log-interpolated between.

    Short texts (a headline and lead) share fewer words with any report of the same event, so their
    cosines run lower; long reports of two events of one kind share many words, so theirs run higher.
    """
    count = words(parts)
    if count <= config.short_text_words:
        return config.short_join_threshold
    if count >= config.long_text_words:
        return config.join_threshold
    share = math.log(count / config.short_text_words) / math.log(config.long_text_words / config.short_text_words)
    return config.short_join_threshold + share * (config.join_threshold - config.short_join_threshold)


def main_names(config: EngineConfig, vector: Vector, parts: TextParts, tally: Counter[str]) -> tuple[str, ...]:
    """A long article's heaviest names among those its headline names or it mentions at least twice
    (a name said once in a body is an aside). ``tally``: mentions per "@name" term."""
    if not config.name_conflict_penalty:
        return ()
    if len(parts.lead_words) + len(parts.body_words) < config.conflict_min_words:
        return ()
    main = {key for key, times in tally.items() if times >= 2}
    title_words = set(parts.title_tokens)
    main.update(key for key in tally if key[len(NAME_PREFIX) :] in title_words)
    return tuple(islice((term for term in vector if term in main), config.conflict_names))


def lead_name(config: EngineConfig, tally: Counter[str]) -> str | None:
    """The name the article mentions most (``tally``: mentions per "@name" term), if it does so
    ``lead_name_mentions`` times or more (first mentioned wins a tie): the actor the report is about."""
    if not config.lead_name_bonus:
        return None
    if not tally:
        return None
    name, times = max(tally.items(), key=lambda item: item[1])  # max keeps the first of equals
    return name if times >= config.lead_name_mentions else None


def names_conflict(vector: Vector, names: tuple[str, ...], story: StoryState) -> bool:
    """The article's main names are not the story's and the story's main names are not the article's.

    Two events of one kind share their vocabulary (knockout, heavyweight, title) and often one name
    (the champion), but not the other main actors (his opponent): that is evidence against "same event"
    that a cosine dilutes.
    """
    if not any(name not in story.centroid for name in names):
        return False
    return any(name not in vector for name in story.top_names)
