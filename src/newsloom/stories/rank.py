"""Which stories to show, and why: top stories, related stories, and For you. Pure: time is passed in.

Top stories rank by independent coverage (syndicated copies of one wire story count once), recency and
velocity; every ranked story carries a plain "why it's here" line built from the same numbers that ranked it,
so the explanation can never disagree with the order.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from newsloom.types import Story

# A story's weight halves every 8 hours since its latest article: a big story from this morning still beats a
# small one from a minute ago, yesterday's biggest does not. (Google News and Techmeme style front pages turn
# over within a working day; 6-12 h half-lives all gave the same top 10 on our synthetic bench days.)
RECENCY_HALF_LIFE_H = 8.0
# Velocity looks at the last 3 hours; one article more in that window is worth half an independent outlet.
VELOCITY_WINDOW = timedelta(hours=3)
VELOCITY_WEIGHT = 0.5
# "N in the last hour" in the why line.
LAST_HOUR = timedelta(hours=1)

# Related stories need a shared entity or this much headline-word overlap (Jaccard): below 0.2 two headlines
# share one common word, which is chance, not relation.
RELATED_MIN_TEXT_OVERLAP = 0.2
# One shared named entity counts like this much headline overlap: names carry the "who" of a story.
RELATED_ENTITY_WEIGHT = 0.5

# For you: a followed source, entity or topic is a strong signal; an entity of stories the reader opened or
# saved is weaker and grows slowly with repetition (log), so one binge does not take over the page.
FOLLOW_WEIGHT = 3.0
HISTORY_WEIGHT = 1.0
# Stories the reader already opened sink (but stay, they may have grown).
SEEN_PENALTY = 0.5

_WORD = re.compile(r"[A-Za-z0-9À-ɏ]+")
_HEADLINE_STOPWORDS = frozenset(
    ["a", "an", "the", "and", "or", "of", "in", "on", "at", "to", "for", "from", "by", "with", "as", "is", "are",
     "was", "were", "be", "has", "have", "had", "after", "over", "into", "new", "says", "said", "amid", "about",
     "its", "their", "his", "her", "it", "this", "that"]
)


@dataclass(frozen=True, slots=True)
class CoverageItem:
    """One article of a story, as ranking sees it. ``outlet`` is ``outlets.outlet_key`` (None: not known)."""

    article_id: int
    outlet: str | None
    at: datetime
    original_id: int | None = None
    source_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class CoverageStats:
    outlets: int
    independent_outlets: int
    articles: int
    copies: int
    first: datetime | None
    latest: datetime | None
    last_hour: int
    recent: int  # articles within VELOCITY_WINDOW


@dataclass(frozen=True, slots=True)
class RankedStory:
    story: Story
    score: float
    why: str
    stats: CoverageStats


@dataclass(frozen=True, slots=True)
class RelatedStory:
    story: Story
    score: float
    why: str


@dataclass(frozen=True, slots=True)
class Interests:
    """What the reader follows and what their reading shows. Source follows map id -> display name."""

    sources: Mapping[int, str] = field(default_factory=dict)
    topics: tuple[str, ...] = ()
    entities: tuple[str, ...] = ()
    history_entities: Mapping[str, int] = field(default_factory=dict)
    seen_story_ids: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Recommendation:
    story: Story
    score: float
    reason: str


def coverage_stats(items: Sequence[CoverageItem], now: datetime) -> CoverageStats:
    """Counts and times of the items. Articles of no known outlet count as articles, not as outlets."""
    outlets = {item.outlet for item in items if item.outlet is not None}
    independent = {item.outlet for item in items if item.original_id is None and item.outlet is not None}
    times = [item.at for item in items]
    return CoverageStats(
        outlets=len(outlets),
        independent_outlets=len(independent) or min(1, len(items)),
        articles=len(items),
        copies=sum(item.original_id is not None for item in items),
        first=min(times) if times else None,
        latest=max(times) if times else None,
        last_hour=sum(now - LAST_HOUR <= t <= now for t in times),
        recent=sum(now - VELOCITY_WINDOW <= t <= now for t in times),
    )


def story_stats(story: Story, items: Sequence[CoverageItem], now: datetime) -> CoverageStats:
    """The stats a story is ranked and explained by: its own counts, the items' times.

    Outlets, articles and copies are the story's stored counts, the very numbers ``/api/v1`` and the pages
    show beside the why line, so the line can never say "2 outlets" next to ``outlet_count`` 1. The items
    (the articles as stored) give the times: span, last hour, velocity.
    """
    if not items:
        return CoverageStats(
            outlets=story.outlet_count, independent_outlets=max(1, min(story.original_count, story.outlet_count)),
            articles=story.article_count, copies=story.syndicated_count, first=story.first_seen,
            latest=story.last_seen, last_hour=0, recent=0,
        )  # fmt: skip
    stats = coverage_stats(items, now)
    return replace(
        stats,
        outlets=story.outlet_count,
        independent_outlets=max(1, min(stats.independent_outlets, story.outlet_count)),
        articles=story.article_count,
        copies=story.syndicated_count,
    )


def story_score(stats: CoverageStats, latest: datetime | None, now: datetime) -> float:
    """Log of (coverage + velocity) minus decay: logs keep years-old stories comparable instead of underflowing."""
    weight = 1.0 + stats.independent_outlets + VELOCITY_WEIGHT * stats.recent
    age_h = max(0.0, (now - latest).total_seconds() / 3600.0) if latest is not None else 1e6
    return math.log(weight) - math.log(2.0) * age_h / RECENCY_HALF_LIFE_H


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def span_text(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return plural(max(minutes, 1), "minute")
    hours = minutes // 60
    if hours < 48:
        return plural(hours, "hour")
    return plural(hours // 24, "day")


def why_line(stats: CoverageStats, now: datetime) -> str:
    """``14 outlets in 6 hours, 3 in the last hour`` (and how many are copies of a wire story).

    Says outlets only where outlets are known: two local files of no named outlet are "2 articles".
    """
    if stats.first is None or stats.latest is None or stats.articles == 0:
        return "no coverage yet"
    if stats.articles == 1 or stats.latest <= stats.first:
        who = "1 outlet" if stats.outlets == 1 and stats.articles == 1 else plural(stats.articles, "article")
        if stats.articles > 1 and stats.outlets:
            who += f" from {plural(stats.outlets, 'outlet')}"
        head = f"{who}, {span_text(now - stats.latest)} ago" if now > stats.latest else f"{who}, just now"
    elif stats.outlets >= 2:
        head = f"{plural(stats.outlets, 'outlet')} in {span_text(stats.latest - stats.first)}"
    elif stats.outlets == 1:
        head = f"{plural(stats.articles, 'article')} from 1 outlet in {span_text(stats.latest - stats.first)}"
    else:
        head = f"{plural(stats.articles, 'article')} in {span_text(stats.latest - stats.first)}, no outlet named"
    parts = [head]
    if stats.last_hour:
        parts.append(f"{stats.last_hour} in the last hour")
    if stats.copies:
        copies = "copy" if stats.copies == 1 else "copies"
        parts.append(f"{stats.copies} syndicated {copies} counted once")
    return ", ".join(parts)


def top_stories(
    stories: Iterable[Story], coverage: Mapping[str, Sequence[CoverageItem]], now: datetime, *, limit: int = 30
) -> list[RankedStory]:
    """Stories ordered by score, best first, each with its why line."""
    ranked: list[RankedStory] = []
    for story in stories:
        stats = story_stats(story, coverage.get(story.id, ()), now)
        score = story_score(stats, stats.latest or story.last_seen, now)
        ranked.append(RankedStory(story=story, score=score, why=why_line(stats, now), stats=stats))
    ranked.sort(key=lambda r: (-r.score, r.story.id))
    return ranked[:limit]


def headline_words(text: str) -> frozenset[str]:
    return frozenset(w for w in (m.group(0).lower() for m in _WORD.finditer(text)) if w not in _HEADLINE_STOPWORDS and len(w) > 1)


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def related_stories(story: Story, candidates: Iterable[Story], *, limit: int = 5) -> list[RelatedStory]:
    """Other stories sharing entities or headline words with ``story``, most related first, with the reason."""
    words = headline_words(f"{story.headline} {story.summary[:300]}")
    entities = {e.lower(): e for e in story.entities}
    found: list[RelatedStory] = []
    for other in candidates:
        if other.id == story.id:
            continue
        shared = [entities[e.lower()] for e in other.entities if e.lower() in entities]
        overlap = _jaccard(words, headline_words(f"{other.headline} {other.summary[:300]}"))
        if not shared and overlap < RELATED_MIN_TEXT_OVERLAP:
            continue
        score = overlap + RELATED_ENTITY_WEIGHT * len(shared)
        why = f"also about {', '.join(shared[:3])}" if shared else "similar headline"
        found.append(RelatedStory(story=other, score=score, why=why))
    found.sort(key=lambda r: (-r.score, r.story.id))
    return found[:limit]


def for_you(
    candidates: Sequence[RankedStory],
    coverage: Mapping[str, Sequence[CoverageItem]],
    interests: Interests,
    *,
    limit: int = 30,
) -> list[Recommendation]:
    """Stories matching the reader's follows and reading, each with the strongest reason it is here."""
    history_total = sum(interests.history_entities.values())
    history = {e.lower(): (e, n) for e, n in interests.history_entities.items()}
    followed_entities = {e.lower(): e for e in interests.entities}
    # A topic matches as a whole word or phrase of the headline, summary or entities. Each pattern is compiled
    # and each story lowered once per call, not once per (story, topic): digests run this for every reader
    # over every candidate (bench/notify.py).
    topic_patterns = [(t, re.compile(r"(?<!\w)" + re.escape(t.lower()) + r"(?!\w)")) for t in interests.topics]
    found: list[Recommendation] = []
    for ranked in candidates:
        story = ranked.story
        reasons: list[tuple[float, str]] = []
        if interests.sources:
            story_sources = {sid for item in coverage.get(story.id, ()) for sid in item.source_ids}
            for source_id, name in interests.sources.items():
                if source_id in story_sources:
                    reasons.append((FOLLOW_WEIGHT, f"you follow {name}"))
        for entity in story.entities:
            if entity.lower() in followed_entities:
                reasons.append((FOLLOW_WEIGHT, f"you follow {followed_entities[entity.lower()]}"))
        if topic_patterns:
            haystack = (f"{story.headline}\n{story.summary}\n" + "\n".join(story.entities)).lower()
            for topic, pattern in topic_patterns:
                if pattern.search(haystack):
                    reasons.append((FOLLOW_WEIGHT, f"you follow the topic “{topic}”"))
        if history_total:
            liked = [(history[e.lower()][1], history[e.lower()][0]) for e in story.entities if e.lower() in history]
            if liked:
                liked.sort(reverse=True)
                weight = HISTORY_WEIGHT * sum(math.log1p(n) for n, _ in liked)
                names = ", ".join(name for _, name in liked[:2])
                reasons.append((weight, f"you read and saved stories about {names}"))
        if not reasons:
            continue
        reasons.sort(key=lambda r: -r[0])
        score = sum(w for w, _ in reasons) + ranked.score * 0.1
        if story.id in interests.seen_story_ids:
            score *= SEEN_PENALTY
        found.append(Recommendation(story=story, score=score, reason=reasons[0][1]))
    found.sort(key=lambda r: (-r.score, r.story.id))
    return found[:limit]


def coverage_bins(times: Sequence[datetime], *, max_bins: int = 24) -> list[tuple[datetime, int]]:
    """Article counts over time for the coverage chart: equal bins of whole hours (or days) from first to last."""
    if not times:
        return []
    first, last = min(times), max(times)
    span_h = max(1.0, (last - first).total_seconds() / 3600.0)
    step_h = max(1, math.ceil(span_h / max_bins))
    if step_h > 24:
        step_h = 24 * math.ceil(step_h / 24)
    step = timedelta(hours=step_h)
    start = first.replace(minute=0, second=0, microsecond=0)
    counts: Counter[int] = Counter(int((t - start) / step) for t in times)
    n_bins = max(counts) + 1
    return [(start + i * step, counts.get(i, 0)) for i in range(n_bins)]
