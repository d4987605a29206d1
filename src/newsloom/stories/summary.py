"""A story's representative headline and short summary, chosen by centrality to the story's centroid.

Extractive on purpose: every word shown is an outlet's own, so the summary never says what no one reported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from newsloom.stories.text import looks_like_headline, split_sentences, tokens
from newsloom.stories.vectorize import Vector, dot, normalised

#: a headline or summary sentence longer than this is cut at a word boundary with an ellipsis
MAX_HEADLINE_CHARS = 160
MAX_SENTENCE_CHARS = 320
#: sentences sharing more than this share of their words with a chosen one repeat it (syndicated leads)
_NEAR_DUPLICATE_OVERLAP = 0.6
#: shorter sentences are datelines, bylines or fragments, not news
_MIN_SENTENCE_WORDS = 6


@dataclass(frozen=True, slots=True)
class MemberText:
    """The text a story keeps of one member for presentation: its title and its first sentences."""

    title: str | None
    sentences: tuple[str, ...]


def member_text(title: str | None, text: str, pool: int) -> MemberText:
    """Title (or a headline-like first line) and the first ``pool`` sentences of an article."""
    sentences = split_sentences(text)
    if not title and len(sentences) > 1 and looks_like_headline(sentences[0]):
        title, sentences = sentences[0], sentences[1:]
    return MemberText(title=title.strip() if title else None, sentences=tuple(sentences[:pool]))


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"


def headline(members: Sequence[MemberText], centrality: Sequence[float]) -> str:
    """Title of the most central member that has one; else its first sentence, clipped."""
    order = sorted(range(len(members)), key=lambda i: (-centrality[i], i))
    for i in order:
        title = members[i].title
        if title:
            return _clip(title, MAX_HEADLINE_CHARS)
    for i in order:
        if members[i].sentences:
            return _clip(members[i].sentences[0], MAX_HEADLINE_CHARS)
    return ""


def summary(
    members: Sequence[MemberText],
    centroid: Mapping[str, float],
    vectorize: Callable[[str], Vector],
    count: int,
) -> str:
    """The ``count`` sentences most similar to the story centroid, most central first, near-duplicates skipped."""
    scored: list[tuple[float, int, str]] = []
    position = 0
    for member in members:
        for sentence in member.sentences:
            position += 1
            if len(sentence.split()) < _MIN_SENTENCE_WORDS:
                continue
            scored.append((dot(normalised(vectorize(sentence)), centroid), position, sentence))
    scored.sort(key=lambda item: (-item[0], item[1]))
    chosen: list[str] = []
    chosen_words: list[set[str]] = []
    for _, _, sentence in scored:
        words = {w.lower() for w in tokens(sentence)}
        if any(len(words & other) > _NEAR_DUPLICATE_OVERLAP * min(len(words), len(other)) for other in chosen_words):
            continue
        chosen.append(_clip(sentence, MAX_SENTENCE_CHARS))
        chosen_words.append(words)
        if len(chosen) == count:
            break
    return " ".join(chosen)
