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
from itertools import repeat
from operator import itemgetter, mul

import numpy as np

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
    #: ``counts`` holds its words first, then this many names, then its figures (weigh scales by kind)
    names: int = 0
    figures: int = 0


class StreamVocabulary:
    """Document frequencies over the articles seen so far, and a per-instance stem cache.

    Not a global: each engine owns one, so two engines never influence each other.
    """

    def __init__(self, prior_documents: float = 0.0) -> None:
        self.prior_documents = prior_documents
        self.documents = 0
        self.document_frequency: Counter[str] = Counter()
        self._stems: dict[str, str] = {}
        #: word -> its vector key (stem), or "" for a word that is no evidence (stop word, one letter, figure)
        self._keys: dict[str, str] = {}

    def observe(self, terms: Iterable[str]) -> None:
        """Count one article containing ``terms`` (each term once)."""
        self.documents += 1
        # counted in C (iter(): a Mapping would add its values, not one per term)
        self.document_frequency.update(iter(terms))

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

    def keys_of(self, words: Iterable[str]) -> list[str]:
        """Each lower-case word's vector key ("" when it is no evidence), through a per-instance cache."""
        keys = self._keys
        if len(keys) >= _STEM_CACHE_LIMIT:
            keys.clear()
        words = list(words)
        for word in set(words).difference(keys):
            keys[word] = "" if len(word) < 2 or word in STOPWORDS or not word[0].isalpha() else self.stem(word)
        return list(map(keys.__getitem__, words))


def term_counts(parts: TextParts, vocabulary: StreamVocabulary, config: EngineConfig) -> TermCounts:
    """Field-weighted counts of stems, names and figures in one article."""
    counts: dict[str, float] = {}
    for words, weight in (
        (parts.title_tokens, config.title_weight),
        (parts.lead_tokens, config.lead_weight),
        (parts.body_tokens, 1.0),
    ):
        if not words:
            continue
        field = Counter(vocabulary.keys_of(words))
        field.pop("", None)
        if weight == 1.0 and not counts:
            counts = {key: float(times) for key, times in field.items()}
            continue
        get = counts.get
        for key, times in field.items():
            counts[key] = get(key, 0.0) + weight * times
    word_terms = len(counts)
    for name in parts.names:
        key = NAME_PREFIX + name.lower()
        counts[key] = counts.get(key, 0.0) + config.name_weight
    name_terms = len(counts) - word_terms
    for figure in parts.figures:
        key = FIGURE_PREFIX + figure
        counts[key] = counts.get(key, 0.0) + config.figure_weight
    return TermCounts(counts, names=name_terms, figures=len(counts) - word_terms - name_terms)


def weigh(counts: TermCounts, vocabulary: StreamVocabulary, config: EngineConfig) -> Vector:
    """TF-IDF with BM25 saturation, heaviest ``config.doc_terms`` terms kept, L2-normalised, heaviest first.

    Names and figures keep their configured share: their saturation is applied to count / weight so that
    one mention of a name weighs ``name_weight`` times one mention of a word.
    """
    terms = list(counts.counts)
    if not terms:
        return {}
    size = len(terms)
    scale = np.ones(size)
    words = size - counts.names - counts.figures
    scale[words : words + counts.names] = config.name_weight
    scale[words + counts.names :] = config.figure_weight
    count = np.fromiter(counts.counts.values(), dtype=np.float64, count=size)
    frequency = np.fromiter(map(vocabulary.document_frequency.get, terms, repeat(0)), dtype=np.float64, count=size)
    k1 = config.tf_saturation
    tf = count / scale
    # idf = ln(1 + N0 + N) - ln(1 + df) + 1 (StreamVocabulary.idf), over the whole article at once
    log_documents = math.log(1 + vocabulary.prior_documents + vocabulary.documents) + 1.0
    weight = scale * tf * (k1 + 1.0) / (tf + k1) * (log_documents - np.log1p(frequency))
    # heaviest first (callers take a prefix as the top terms); a stable sort keeps equal weights in the
    # article's term order: deterministic
    order = np.argsort(-weight, kind="stable")[: config.doc_terms]
    terms = [terms[i] for i in order.tolist()]
    weight = weight[order]
    length = float(np.sqrt(np.dot(weight, weight)))
    if length == 0.0:
        return {}
    return dict(zip(terms, (weight / length).tolist(), strict=True))


_WEIGHT = itemgetter(1)


def _largest(vector: Mapping[str, float], count: int) -> list[tuple[str, float]]:
    """The ``count`` heaviest items. Python's sort is stable with ``reverse=True`` too, so equal weights keep
    the vector's insertion order (deterministic); a C sort beats heapq.nlargest's Python loop at these sizes."""
    return sorted(vector.items(), key=_WEIGHT, reverse=True)[:count]


def normalised(vector: Mapping[str, float]) -> Vector:
    length = norm(vector)
    if length == 0.0:
        return {}
    scale = 1.0 / length
    return dict(zip(vector.keys(), map(mul, vector.values(), repeat(scale)), strict=True))


def dot(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    # map/mul keep the loop in C: dot products are most of the scoring time
    return float(sum(map(mul, a.values(), map(b.get, a.keys(), repeat(0.0)))))


def norm(vector: Mapping[str, float]) -> float:
    values = vector.values()
    return math.sqrt(sum(map(mul, values, values)))


def cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    denominator = norm(a) * norm(b)
    return dot(a, b) / denominator if denominator else 0.0


def heaviest(vector: Mapping[str, float], count: int) -> list[str]:
    """The ``count`` heaviest terms; ties keep insertion order (deterministic)."""
    if len(vector) < _NUMPY_SORT_FROM:
        return [term for term, _ in _largest(vector, count)]
    # a stable numpy sort gives the same order as ``_largest`` and is ~5x faster on story centroids
    weights = np.fromiter(vector.values(), dtype=np.float64, count=len(vector))
    order = np.argsort(-weights, kind="stable")[:count].tolist()
    terms = list(vector)
    return [terms[i] for i in order]


#: below this many terms the plain sort is as fast (numpy's per-call overhead)
_NUMPY_SORT_FROM = 64
