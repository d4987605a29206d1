"""A story's representative headline and short summary, chosen by centrality to the story's centroid.

Extractive on purpose: every word shown is an outlet's own, so the summary never says what no one reported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from newsloom.stories.text import looks_like_headline, tokens
from newsloom.stories.vectorize import Vector, dot, normalised

#: a headline or summary sentence longer than this is cut at a word boundary with an ellipsis
MAX_HEADLINE_CHARS = 160
MAX_SENTENCE_CHARS = 320
#: sentences sharing more than this share of their words with a chosen one repeat it (syndicated leads)
_NEAR_DUPLICATE_OVERLAP = 0.6
#: an untitled text's headline is looked for in its first lines, and has at least this many words
_HEADLINE_SEARCH_LINES = 10
_MIN_HEADLINE_WORDS = 4
#: shorter sentences are datelines, bylines or fragments, not news
_MIN_SENTENCE_WORDS = 6


@dataclass(frozen=True, slots=True)
class MemberText:
    """The text a story keeps of one member for presentation: its title and its first sentences."""

    title: str | None
    sentences: tuple[str, ...]


def member_text(title: str | None, sentences: Sequence[str], pool: int) -> MemberText:
    """Title (or a headline-like line among the first) and the first ``pool`` sentences of an article."""
    if not title:
        # page text often opens with chrome ("Start reading", the outlet's name) before the headline
        for index, line in enumerate(sentences[:_HEADLINE_SEARCH_LINES]):
            if looks_like_headline(line) and len(line.split()) >= _MIN_HEADLINE_WORDS and index + 1 < len(sentences):
                title, sentences = line, sentences[index + 1 :]
                break
    return MemberText(title=title.strip() if title else None, sentences=tuple(sentences[:pool]))


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"


def headline(
    members: Sequence[MemberText], centroid: Mapping[str, float], vectorize: Callable[[str], Vector]
) -> str:
    """The title closest to the story centroid; without a title that says anything about the story
    (aggregator chrome such as "Get all your news in one place" scores ~0), the most central lead sentence."""
    best = (_MIN_HEADLINE_CENTRALITY, "")
    for member in members:
        if member.title:
            centrality = dot(normalised(vectorize(member.title)), centroid)
            if centrality > best[0]:
                best = (centrality, member.title)
    if best[1]:
        return _clip(best[1], MAX_HEADLINE_CHARS)
    leads = [MemberText(None, member.sentences[:2]) for member in members]
    return _clip(summary(leads, centroid, vectorize, 1), MAX_HEADLINE_CHARS)


#: a title sharing less than this cosine with its story's centroid is chrome or a pun, not a headline
_MIN_HEADLINE_CENTRALITY = 0.05


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
