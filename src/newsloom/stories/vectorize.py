"""Sparse TF-IDF vectors whose document frequencies are learned from the stream itself.

A vector is a plain ``dict[str, float]``; keys are namespaced so one cosine covers every signal:
``word`` (a stem), ``@name`` (a capitalised name) and ``#figure`` (a number or a month-day date).
Term weight = field-weighted, BM25-saturated term frequency x smoothed idf, then L2-normalised.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from heapq import nlargest
from operator import itemgetter

from newsloom.stories.storymodel import EngineConfig
from newsloom.stories.text import STOPWORDS, TextParts, stem

Vector = dict[str, float]

NAME_PREFIX = "@"
FIGURE_PREFIX = "#"

#: the stem cache is cleared past this many words; it only saves time, so clearing never changes results
_STEM_CACHE_LIMIT = 200_000


@dataclass(frozen=True, slots=True)
class TermCounts:
    """Field-weighted raw counts of one article, before idf: what the stream's document frequencies learn."""

    counts: dict[str, float]


class StreamVocabulary:
    """Document frequencies over the articles seen so far, and a per-instance stem cache.

    Not a global: each engine owns one, so two engines never influence each other.
    """

    def __init__(self, prior_documents: float = 0.0) -> None:
        self.prior_documents = prior_documents
        self.documents = 0
        self.document_frequency: dict[str, int] = {}
        self._stems: dict[str, str] = {}

    def observe(self, terms: Iterable[str]) -> None:
        """Count one article containing ``terms`` (each term once)."""
        self.documents += 1
        frequency = self.document_frequency
        for term in terms:
            frequency[term] = frequency.get(term, 0) + 1

    def idf(self, term: str) -> float:
        """Smoothed idf, ln((1 + N0 + N) / (1 + df)) + 1, with N0 ``prior_documents`` in which the term was absent.

        The prior keeps a young stream from punishing shared words: with N = 2, a word in both articles
        would otherwise weigh 30% less than a word in one, the opposite of what sharing it means.
        """
        return math.log((1 + self.prior_documents + self.documents) / (1 + self.document_frequency.get(term, 0))) + 1.0

    def stem(self, word: str) -> str:
        cached = self._stems.get(word)
        if cached is None:
            if len(self._stems) >= _STEM_CACHE_LIMIT:
                self._stems.clear()
            cached = stem(word)
            self._stems[word] = cached
        return cached


def term_counts(parts: TextParts, vocabulary: StreamVocabulary, config: EngineConfig) -> TermCounts:
    """Field-weighted counts of stems, names and figures in one article."""
    counts: dict[str, float] = {}
    stem_of = vocabulary.stem
    for words, weight in (
        (parts.title_tokens, config.title_weight),
        (parts.lead_tokens, config.lead_weight),
        (parts.body_tokens, 1.0),
    ):
        for word, times in Counter(words).items():
            if len(word) < 2 or word in STOPWORDS or not word[0].isalpha():
                continue
            key = stem_of(word)
            counts[key] = counts.get(key, 0.0) + weight * times
    for name in parts.names:
        key = NAME_PREFIX + name.lower()
        counts[key] = counts.get(key, 0.0) + config.name_weight
    for figure in parts.figures:
        key = FIGURE_PREFIX + figure
        counts[key] = counts.get(key, 0.0) + config.figure_weight
    return TermCounts(counts)


def weigh(counts: TermCounts, vocabulary: StreamVocabulary, config: EngineConfig) -> Vector:
    """TF-IDF with BM25 saturation, heaviest ``config.doc_terms`` terms kept, L2-normalised.

    Names and figures keep their configured share: their saturation is applied to count / weight so that
    one mention of a name weighs ``name_weight`` times one mention of a word.
    """
    k1 = config.tf_saturation
    # idf = ln(1 + N0 + N) - ln(1 + df) + 1, inlined: this loop runs for every term of every article
    log_documents = math.log(1 + vocabulary.prior_documents + vocabulary.documents) + 1.0
    frequency = vocabulary.document_frequency.get
    log = math.log
    raw: Vector = {}
    for term, count in counts.counts.items():
        first = term[0]
        if first == NAME_PREFIX:
            scale = config.name_weight
        elif first == FIGURE_PREFIX:
            scale = config.figure_weight
        else:
            scale = 1.0
        tf = count / scale
        raw[term] = scale * tf * (k1 + 1.0) / (tf + k1) * (log_documents - log(1 + frequency(term, 0)))
    if len(raw) > config.doc_terms:
        raw = dict(nlargest(config.doc_terms, raw.items(), key=_WEIGHT))
    return normalised(raw)


#: nlargest is stable: equal weights keep the vector's insertion order, so results are deterministic
_WEIGHT = itemgetter(1)


def normalised(vector: Mapping[str, float]) -> Vector:
    norm = math.sqrt(sum(w * w for w in vector.values()))
    if norm == 0.0:
        return {}
    return {term: w / norm for term, w in vector.items()}


def dot(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    get = b.get
    return sum(w * get(term, 0.0) for term, w in a.items())


def norm(vector: Mapping[str, float]) -> float:
    return math.sqrt(sum(w * w for w in vector.values()))


def cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    denominator = norm(a) * norm(b)
    return dot(a, b) / denominator if denominator else 0.0


def heaviest(vector: Mapping[str, float], count: int) -> list[str]:
    """The ``count`` heaviest terms; ties keep insertion order (deterministic)."""
    return [term for term, _ in nlargest(count, vector.items(), key=_WEIGHT)]
