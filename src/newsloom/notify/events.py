"""What changed in a story, as events a follower is told about. Pure: records in, events out.

Four kinds:

``new_outlet``
    an article of an outlet that had not covered the story yet;
``new_claim``
    a sentence of the new article that no earlier article of the story carries (by content words);
``figure_differs``
    a figure (count, money, percentage, date) in the new article that disagrees with the same figure in an
    earlier article's matching sentence;
``new_story``
    a new story whose entities or words match an entity or topic someone follows.

Each event has a key that says *what* happened (story, article, detail), not when, so that running the
detection twice for one change finds the same keys and the outbox stores the event once.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from newsloom.stories.figures import compare_figures, extract_figures
from newsloom.stories.sentences import split_sentences

# A sentence shorter than this (in content words) is a fragment ("Read more.") and never a claim.
MIN_CLAIM_WORDS = 6
# A sentence is "already told" when this share of its content words appear in one earlier sentence. 0.5
# treats a rewording that keeps half the words as the same claim; new quotes and new facts stay well below.
SAME_CLAIM_OVERLAP = 0.5
# Sentences compared per article: leads carry the news, and comparing every pair is quadratic.
MAX_SENTENCES = 40
# Figures are compared between sentences that share at least this share of content words (the same claim).
FIGURE_CONTEXT_OVERLAP = 0.4
_WORD = re.compile(r"[^\W\d_][\w'’-]*", re.UNICODE)


@dataclass(frozen=True, slots=True)
class ArticleFacts:
    """What the detection needs of one article."""

    id: int
    text: str
    title: str | None = None
    publisher: str | None = None
    url: str | None = None
    original_id: int | None = None  # a syndicated copy repeats its original: no new claims from it


@dataclass(frozen=True, slots=True)
class StoryEvent:
    kind: str
    story_id: str
    key: str
    title: str
    body: str
    data: dict[str, object] = field(default_factory=dict)

    def payload(self) -> str:
        return json.dumps({"kind": self.kind, "story_id": self.story_id, **self.data}, ensure_ascii=False, sort_keys=True)


def outlet_of(article: ArticleFacts) -> str:
    """The outlet an article speaks for: its publisher, else its web host."""
    if article.publisher and article.publisher.strip():
        return article.publisher.strip()
    host = urlsplit(article.url or "").hostname or ""
    return host.removeprefix("www.") or f"article {article.id}"


def _content_words(sentence: str) -> frozenset[str]:
    return frozenset(w.lower() for w in _WORD.findall(sentence) if len(w) > 3)


def _overlap(new: frozenset[str], old: frozenset[str]) -> float:
    return len(new & old) / len(new) if new else 0.0


def _short(text: str, limit: int = 280) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def story_events(
    story_id: str, headline: str, before: Sequence[ArticleFacts], added: Sequence[ArticleFacts]
) -> list[StoryEvent]:
    """Events of a followed story that had ``before`` and gained ``added`` (both in arrival order)."""
    events: list[StoryEvent] = []
    outlets = {outlet_of(a).lower() for a in before}
    told: list[tuple[str, frozenset[str]]] = []
    for article in before:
        for sentence in split_sentences(article.text)[:MAX_SENTENCES]:
            told.append((sentence, _content_words(sentence)))
    for article in added:
        outlet = outlet_of(article)
        base = {"article_id": article.id, "outlet": outlet, "headline": headline, "article_title": article.title}
        if before and outlet.lower() not in outlets:
            events.append(StoryEvent(
                "new_outlet", story_id, f"new_outlet:{story_id}:{outlet.lower()[:80]}",
                f"{outlet} now covers “{_short(headline, 120)}”", _short(article.title or headline), dict(base),
            ))  # fmt: skip
        outlets.add(outlet.lower())
        sentences = split_sentences(article.text)[:MAX_SENTENCES]
        if before and article.original_id is None:
            events.extend(_claim_and_figure_events(story_id, headline, article, outlet, sentences, told, base))
        told.extend((s, _content_words(s)) for s in sentences)
    return events


def _claim_and_figure_events(
    story_id: str,
    headline: str,
    article: ArticleFacts,
    outlet: str,
    sentences: Sequence[str],
    told: Sequence[tuple[str, frozenset[str]]],
    base: dict[str, object],
) -> list[StoryEvent]:
    events: list[StoryEvent] = []
    newest: tuple[float, str] | None = None  # the sentence least like anything told before
    for sentence in sentences:
        words = _content_words(sentence)
        if len(words) < MIN_CLAIM_WORDS:
            continue
        best_text, best = "", 0.0
        for old_text, old_words in told:
            score = _overlap(words, old_words)
            if score > best:
                best_text, best = old_text, score
        if best >= FIGURE_CONTEXT_OVERLAP:
            for pair in compare_figures(extract_figures(best_text), extract_figures(sentence)):
                if pair.reason != "disagree":
                    continue
                events.append(StoryEvent(
                    "figure_differs", story_id, f"figure_differs:{story_id}:{article.id}:{_digest(pair.right.text)}",
                    f"{outlet} gives {pair.right.text} where earlier coverage said {pair.left.text}",
                    _short(sentence),
                    {**base, "earlier": pair.left.text, "now": pair.right.text, "sentence": _short(sentence),
                     "earlier_sentence": _short(best_text)},
                ))  # fmt: skip
        if best < SAME_CLAIM_OVERLAP and (newest is None or best < newest[0]):
            newest = (best, sentence)
    if newest is not None:
        # One new claim per article, the most novel one: paraphrases of told facts share some words and lose
        # to a fact nobody had (which shares almost none).
        sentence = newest[1]
        events.append(StoryEvent(
            "new_claim", story_id, f"new_claim:{story_id}:{article.id}",
            f"New in “{_short(headline, 120)}” from {outlet}", _short(sentence),
            {**base, "sentence": _short(sentence)},
        ))  # fmt: skip
    return events


def _phrase_in(phrase: str, text: str) -> bool:
    return re.search(r"(?<!\w)" + re.escape(phrase.lower()) + r"(?!\w)", text) is not None


def new_story_matches(
    headline: str, summary: str, entities: Iterable[str], follows: Iterable[tuple[str, str]]
) -> list[tuple[str, str]]:
    """Which ``(kind, value)`` follows of kind entity or topic a new story matches.

    Entities match the story's entity names case-insensitively; topics match as whole words or phrases in
    the headline or summary, so "rail" does not match "trail".
    """
    names = {e.lower() for e in entities}
    text = f"{headline}\n{summary}".lower()
    found = []
    for kind, value in dict.fromkeys(follows):
        wanted = value.strip().lower()
        if not wanted:
            continue
        named = kind == "entity" and wanted in names
        if kind in ("entity", "topic") and (named or _phrase_in(wanted, text)):
            found.append((kind, value))
    return found


def new_story_event(story_id: str, headline: str, summary: str, kind: str, value: str) -> StoryEvent:
    return StoryEvent(
        "new_story", story_id, f"new_story:{story_id}",  # one per reader and story, however many follows match
        f"New story on {value}: {_short(headline, 140)}", _short(summary),
        {"matched": {"kind": kind, "value": value}, "headline": headline},
    )  # fmt: skip
