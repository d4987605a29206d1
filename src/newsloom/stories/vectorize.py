"""Sparse TF-IDF vectors whose document frequencies are learned from the stream itself.

A vector is a plain ``dict[str, float]``; keys are namespaced so one cosine covers every signal:
``word`` (a stem), ``@name`` (a capitalised name) and ``#figure`` (a number or a month-day date).
Term weight = field-weighted, BM25-saturated term frequency x smoothed idf, then L2-normalised.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import add, itemgetter, mul

import numpy as np

from newsloom.stories.storymodel import EngineConfig
from newsloom.stories.text import STOPWORDS, TextParts, count_words, stem

Vector = dict[str, float]

NAME_PREFIX = "@"
FIGURE_PREFIX = "#"

#: the stem and word caches are cleared past this many words; they only save time, so clearing never
#: changes results
_STEM_CACHE_LIMIT = 200_000


_NO_IDS = np.zeros(0, dtype=np.intp)


@dataclass(frozen=True, slots=True)
class TermCounts:
    """Field-weighted raw counts of one article, before idf: what the stream's document frequencies learn."""

    #: vocabulary ids of the article's terms: its words first, then its names, then its figures, each part
    #: in order of first mention
    ids: np.ndarray
    #: the field-weighted count of each term
    counts: np.ndarray
    #: how many of the terms are names, and figures (weigh scales by kind)
    names: int = 0
    figures: int = 0


class _TermIds(dict[str, int]):
    """term -> id; a missing term takes the next id (ids count from 1: 0 is no term) and joins ``terms``.

    (dict.__missing__: a map over ``__getitem__`` numbers new terms without leaving C for known ones.)
    """

    __slots__ = ("terms",)

    def __init__(self) -> None:
        super().__init__()
        self.terms: list[str] = [""]

    def __missing__(self, term: str) -> int:
        term_id = self[term] = len(self.terms)
        self.terms.append(term)
        return term_id


class _Cache(dict[str, int]):
    """word -> term id through a pure function, computed on a miss only (dict.__missing__), so a map over
    ``__getitem__`` runs in C for every word seen before. Cleared past _STEM_CACHE_LIMIT words: it only
    saves time, so clearing never changes a result."""

    __slots__ = ("_compute",)

    def __init__(self, compute: Callable[[str], int]) -> None:
        super().__init__()
        self._compute = compute

    def __missing__(self, word: str) -> int:
        if len(self) >= _STEM_CACHE_LIMIT:
            self.clear()
        term_id = self[word] = self._compute(word)
        return term_id


class StreamVocabulary:
    """Document frequencies over the articles seen so far, term ids, and per-instance stem caches.

    Not a global: each engine owns one, so two engines never influence each other.
    Each term gets a small integer id the first time it is seen, and its document frequency lives in a
    numpy array at that id: an article's counts and frequencies are a few numpy calls, not several dict
    lookups per term in dicts that are too big for the CPU caches.
    """

    def __init__(self, prior_documents: float = 0.0) -> None:
        self.prior_documents = prior_documents
        self.documents = 0
        self._ids = _TermIds()
        #: document frequency by term id (a float array, since idf is computed on floats)
        self._frequency = np.zeros(_FIRST_SIZE)
        self._stems: dict[str, str] = {}
        #: a word's term id (its lower-case stem's), or 0 for a word that is no evidence (stop word, one
        #: letter, figure); keyed by the word as written, so a look-up needs no str.lower
        self._words = _Cache(lambda word: self._word_id(word.lower()))
        #: a name as written -> the id of its "@name" term; a figure -> its "#figure" term's id
        self._names = _Cache(lambda name: self._ids[NAME_PREFIX + name.lower()])
        self._figures = _Cache(lambda figure: self._ids[FIGURE_PREFIX + figure])

    @property
    def size(self) -> int:
        """One more than the largest term id."""
        return len(self._ids.terms)

    def _word_id(self, word: str) -> int:
        if len(word) < 2 or word in STOPWORDS or not word[0].isalpha():
            return 0
        return self._ids[self.stem(word)]

    def _lookup(self, table: Mapping[str, int], items: Sequence[str]) -> np.ndarray:
        return np.fromiter(self._lookup_list(table, items), dtype=np.intp, count=len(items))

    def _lookup_list(self, table: Mapping[str, int], items: Iterable[str]) -> list[int]:
        """The ids of ``items`` as a list (what the dict-based passes of ``term_counts`` read)."""
        ids = list(map(table.__getitem__, items))
        if self.size > len(self._frequency):
            self._frequency = _grown(self._frequency, self.size)
        return ids

    def ids(self, terms: Sequence[str]) -> np.ndarray:
        """The ids of ``terms``; a new term takes the next id."""
        return self._lookup(self._ids, terms)

    def word_ids(self, words: Sequence[str]) -> np.ndarray:
        """The term id of each word as written (its lower-case stem's), 0 for a word that is no evidence."""
        return self._lookup(self._words, words)

    def name_ids(self, names: Sequence[str]) -> np.ndarray:
        """The id of each name's "@name" term."""
        return self._lookup(self._names, names)

    def figure_ids(self, figures: Sequence[str]) -> np.ndarray:
        """The id of each figure's "#figure" term."""
        return self._lookup(self._figures, figures)

    # the same look-ups as lists, for the name and figure tallies of ``term_counts`` (counted in C)
    def name_id_list(self, names: Iterable[str]) -> list[int]:
        return self._lookup_list(self._names, names)

    def figure_id_list(self, figures: Iterable[str]) -> list[int]:
        return self._lookup_list(self._figures, figures)

    def first_mentions(self, mentions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The distinct term ids of ``mentions`` in order of first mention (0, no term, left out), and for
        each mention the position of its id among them (a 0 mention: the position after the last)."""
        return _first_mentions(mentions)

    def terms(self, ids: np.ndarray) -> list[str]:
        """The terms with these ids."""
        return list(map(self._ids.terms.__getitem__, ids.tolist()))

    def observe(self, counts: TermCounts) -> None:
        """Count one article containing the terms of ``counts``."""
        self.documents += 1
        self._frequency[counts.ids] += 1.0  # ids are distinct: one increment each

    def frequencies(self, ids: np.ndarray) -> np.ndarray:
        """Document frequencies of the terms with these ids."""
        frequencies: np.ndarray = self._frequency[ids]
        return frequencies

    def document_frequency(self, term: str) -> int:
        """The number of articles observed that contain ``term``."""
        index = self._ids.get(term)
        return 0 if index is None else int(self._frequency[index])

    def idf(self, term: str) -> float:
        """Smoothed idf, ln((1 + N0 + N) / (1 + df)) + 1, with N0 ``prior_documents`` in which the term was absent.

        The prior keeps a young stream from punishing shared words: with N = 2, a word in both articles
        would otherwise weigh 30% less than a word in one, the opposite of what sharing it means.
        """
        return math.log((1 + self.prior_documents + self.documents) / (1 + self.document_frequency(term))) + 1.0

    def stem(self, word: str) -> str:
        cached = self._stems.get(word)
        if cached is None:
            if len(self._stems) >= _STEM_CACHE_LIMIT:
                self._stems.clear()
            cached = stem(word)
            self._stems[word] = cached
        return cached


_FIRST_SIZE = 1 << 12


def _first_mentions(mentions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``first_mentions``: a sort of the article's few hundred ids (``np.unique``) ordered back by first
    position. (It replaced ``np.minimum.at`` into a vocabulary-sized scratch array: scattered writes over
    ~0.5 MB, cache misses, and ufunc.at's slow loop.)"""
    values, first, inverse = np.unique(mentions, return_index=True, return_inverse=True)
    order = first.argsort()  # first positions are distinct: no ties
    ordered = values[order]
    is_term = ordered != 0
    distinct: np.ndarray = ordered[is_term]
    rank = is_term.cumsum() - 1
    rank[~is_term] = len(distinct)  # the no-term id takes the place after the last
    by_value = np.empty(len(values), dtype=np.intp)
    by_value[order] = rank
    place: np.ndarray = by_value[inverse]
    return distinct, place


def _grown(array: np.ndarray, size: int) -> np.ndarray:
    """``array`` with zeros appended to at least ``size`` entries (doubling: amortised constant cost)."""
    return np.concatenate((array, np.zeros(max(size, 2 * len(array)) - len(array), dtype=array.dtype)))


@dataclass(frozen=True, slots=True)
class TermArrays:
    """A vector as numpy arrays: its terms' vocabulary ids and their weights, in the vector's order."""

    ids: np.ndarray
    weights: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, positions: np.ndarray) -> TermArrays:
        return TermArrays(self.ids[positions], self.weights[positions])


EMPTY_ARRAYS = TermArrays(_NO_IDS, np.zeros(0))


def heaviest_positions(weights: np.ndarray, count: int) -> np.ndarray:
    """Positions of the ``count`` largest weights, heaviest first; ties keep their order (as ``heaviest``)."""
    positions: np.ndarray = (-weights).argsort(kind="stable")[:count]
    return positions


# (array methods, not np.cumsum / np.argsort: the module functions dispatch through Python wrappers, a
# microsecond a call, and these run several times per article)
def running_sum(values: np.ndarray) -> float:
    """``sum(values)`` as Python adds floats: left to right (numpy's own sum adds pairwise, another float)."""
    return float(values.cumsum()[-1]) if len(values) else 0.0


def norm_of(arrays: TermArrays) -> float:
    """``norm`` of the vector ``arrays`` stands for, the very same float."""
    return math.sqrt(running_sum(arrays.weights * arrays.weights))


class TermTable:
    """Dense arrays, indexed by vocabulary term id, that hold the latest article (``load``): its weights
    and each term's position in it.

    With the article spread over them, the article's dot products with many vectors (a story's members,
    as rows of id and weight matrices; story centroids, as ``TermArrays``) are a few numpy calls, instead
    of a dict lookup per term: those lookups miss the CPU caches, since the vectors of a thousand open
    stories are scattered over the heap.
    """

    def __init__(self, vocabulary: StreamVocabulary) -> None:
        self._vocabulary = vocabulary
        self._dense = np.zeros(_FIRST_SIZE)
        self._position = np.full(_FIRST_SIZE, -1, dtype=np.intp)
        self._ids = _NO_IDS
        self._weights = np.zeros(0)
        #: the vector loaded (identity tells whether a caller's vector is the loaded one)
        self.loaded: Vector | None = None

    def ids(self, terms: Sequence[str]) -> np.ndarray:
        """The vocabulary ids of ``terms`` (new terms take new ids)."""
        ids = self._vocabulary.ids(terms)
        if self._vocabulary.size > len(self._dense):
            self._dense = _grown(self._dense, self._vocabulary.size)
            self._position = np.concatenate(
                (self._position, np.full(len(self._dense) - len(self._position), -1, dtype=np.intp))
            )
        return ids

    def arrays(self, vector: Vector) -> TermArrays:
        """``vector`` as term arrays (a vocabulary lookup per term)."""
        return TermArrays(self.ids(list(vector)), np.fromiter(vector.values(), dtype=np.float64, count=len(vector)))

    def load(self, vector: Vector, ids: np.ndarray | None = None) -> None:
        """Spread ``vector`` (whose terms' ids are ``ids`` when known) over the dense arrays."""
        weights = np.fromiter(vector.values(), dtype=np.float64, count=len(vector))
        self.load_arrays(TermArrays(self.ids(list(vector)) if ids is None else ids, weights), vector)

    def load_arrays(self, arrays: TermArrays, vector: Vector | None = None) -> None:
        """Spread a vector given as term arrays over the dense arrays (``vector``: the dict they stand for,
        remembered as ``loaded`` so that a later ``load`` of it is skipped)."""
        self._dense[self._ids] = 0.0
        self._position[self._ids] = -1
        if self._vocabulary.size > len(self._dense):
            self.ids(())  # grows the dense arrays
        self._ids, self._weights = arrays.ids, arrays.weights
        self._dense[self._ids] = self._weights
        self._position[self._ids] = np.arange(len(self._ids))
        self.loaded = vector

    def loaded_dot(self, arrays: TermArrays) -> float:
        """``dot`` of the vector ``arrays`` stands for and the loaded one, when ``dot`` iterates the former
        (it is not the longer): the same products, summed in its order."""
        return running_sum(arrays.weights * self._dense[arrays.ids])

    def _ensure(self, vector: Vector) -> None:
        if self.loaded is not vector:
            self.load(vector)

    def dot(self, vector: Vector, other: TermArrays) -> float:
        """``dot(vector, other's vector)``, the very same float: the same products, summed in the order of
        the vector ``dot`` iterates (the shorter; ``vector`` on a tie)."""
        self._ensure(vector)
        if len(self._ids) > len(other):
            return self.loaded_dot(other)
        # the common terms' products, put in the article's order (zeros elsewhere add nothing)
        places = self._position[other.ids]
        common = places >= 0
        products = np.zeros(len(self._ids))
        products[places[common]] = self._weights[places[common]] * other.weights[common]
        return running_sum(products)

    def added(self, arrays: TermArrays, vector: Vector) -> tuple[TermArrays, list[float]]:
        """``arrays`` plus ``vector`` as ``add_into`` sums dicts (common terms add up in place, new terms come
        after, in the vector's order), and the sum's weight of each of ``vector``'s terms, in its order."""
        self._ensure(vector)
        places = self._position[arrays.ids]
        common = np.flatnonzero(places >= 0)
        at = places[common]
        weights = arrays.weights.copy()
        weights[common] += self._weights[at]
        summed = self._weights.copy()
        summed[at] = weights[common]
        new = np.ones(len(self._ids), dtype=bool)
        new[at] = False
        total = TermArrays(np.concatenate((arrays.ids, self._ids[new])), np.concatenate((weights, self._weights[new])))
        return total, summed.tolist()

    def prefix(self, vector: Vector, size: int) -> tuple[np.ndarray, np.ndarray]:
        """The ids and weights of the first ``size`` terms of ``vector`` (loaded first if need be)."""
        self._ensure(vector)
        return self._ids[:size], self._weights[:size]

    def terms(self, ids: np.ndarray) -> list[str]:
        """The terms with these ids."""
        return self._vocabulary.terms(ids)

    def best_row_dot(self, ids: np.ndarray, weights: np.ndarray) -> float:
        """The largest dot product of the loaded vector with the rows (ids, weights) of two matrices.

        Each row is summed left to right (a running sum, not numpy's pairwise sum) and padding adds exact
        zeros, so a row gives the very float that ``dot(row_vector, loaded_vector)`` gives when the row
        is the shorter vector: iterating it, in its order.
        """
        if not ids.shape[1]:  # members without terms
            return 0.0
        products = self._dense[ids]
        products *= weights
        return float(products.cumsum(axis=1)[:, -1].max())


def _counted(ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """The distinct ids in order of first appearance and how often each appears."""
    times = Counter(ids)  # counted in C, in order of first appearance
    return (
        np.fromiter(times.keys(), dtype=np.intp, count=len(times)),
        np.fromiter(times.values(), dtype=np.intp, count=len(times)),
    )


def _repeated_sums(weight: float, times: np.ndarray) -> np.ndarray:
    """``weight`` added ``t`` times, one addition after the other (a running sum), for each t in ``times``:
    the very floats that adding a name's weight at each mention gives."""
    if not len(times):
        return np.zeros(0)
    sums: np.ndarray = np.full(int(times.max()), weight).cumsum()[times - 1]
    return sums


def _field_counts(words: Sequence[str], spellings: list[str], size: int) -> np.ndarray:
    """How often each of the article's ``size`` spellings is in ``words`` (as floats: whole numbers, exact),
    given ``spellings``, the first of them, which hold every word of ``words``: the rest count 0."""
    counts = np.zeros(size)
    if words:
        times = Counter(words)
        counts[: len(spellings)] = np.fromiter(map(times.get, spellings, repeat(0)), dtype=np.float64, count=len(spellings))
    return counts


def term_counts(parts: TextParts, vocabulary: StreamVocabulary, config: EngineConfig) -> TermCounts:
    """Field-weighted counts of stems, names and figures in one article.

    A word counts its field's weight times its number of mentions there, summed over the fields (title,
    then lead, then body); a name or figure adds its weight at each mention.
    """
    written = parts.word_counts
    if written is None:  # parts built without counts
        written = count_words(parts.title_words, parts.lead_words, parts.body_words)
    # each distinct spelling once (a 500-word article writes ~200): the vocabulary look-ups, which miss the
    # CPU caches, and the first-mention pass run per spelling, not per token. Spellings come in order of
    # first mention, so the stems' order of first mention is the same as over all tokens.
    spellings = list(written)
    words, place = _first_mentions(vocabulary.word_ids(spellings))
    places = len(words) + 1  # the last place takes the words that are no evidence
    # spellings come title first, then lead, then body: the title's and lead's are the first ``head`` ones,
    # so their per-field counts look up those only (a 500-word article: ~50 of ~200)
    head = len(set(parts.title_words).union(parts.lead_words))
    weights = (config.title_weight, config.lead_weight, 1.0)
    if all(float(weight).is_integer() for weight in weights):
        # whole weights: every partial sum is a whole number, exact in any order, so one weighted count
        # per spelling (Python ints) gives the very floats of weight x count summed over the fields
        weighted = list(written.values())
        if head:
            in_title, in_lead = Counter(parts.title_words).get, Counter(parts.lead_words).get
            extra_title, extra_lead = int(weights[0]) - 1, int(weights[1]) - 1
            weighted[:head] = [
                times + extra_title * in_title(spelling, 0) + extra_lead * in_lead(spelling, 0)
                for spelling, times in zip(spellings[:head], weighted[:head], strict=True)
            ]
        word_counts: np.ndarray = np.bincount(
            place, weights=np.fromiter(weighted, dtype=np.float64, count=len(weighted)), minlength=places
        )
    else:
        # weight x the field's (whole) count, added field by field: the floats of the per-field sums
        total = np.fromiter(written.values(), dtype=np.float64, count=len(spellings))
        title_counts = _field_counts(parts.title_words, spellings[:head], len(spellings))
        lead_counts = _field_counts(parts.lead_words, spellings[:head], len(spellings))
        word_counts = np.zeros(places)
        fields = (parts.title_words, parts.lead_words, parts.body_words)
        in_fields = (title_counts, lead_counts, total - title_counts - lead_counts)
        for words_in_field, times, weight in zip(fields, in_fields, weights, strict=True):
            if words_in_field:
                word_counts += weight * np.bincount(place, weights=times, minlength=places)
    names, name_times = _counted(vocabulary.name_id_list(parts.names))
    figures, figure_times = _counted(vocabulary.figure_id_list(parts.figures))
    return TermCounts(
        ids=np.concatenate((words, names, figures)),
        counts=np.concatenate(
            (
                word_counts[:-1],
                _repeated_sums(config.name_weight, name_times),
                _repeated_sums(config.figure_weight, figure_times),
            )
        ),
        names=len(names),
        figures=len(figures),
    )


def weigh(counts: TermCounts, vocabulary: StreamVocabulary, config: EngineConfig) -> tuple[Vector, np.ndarray]:
    """TF-IDF with BM25 saturation, heaviest ``config.doc_terms`` terms kept, L2-normalised, heaviest first;
    and the ids of the vector's terms, in its order."""
    vector, arrays = weigh_arrays(counts, vocabulary, config)
    return vector, arrays.ids


def weigh_arrays(
    counts: TermCounts, vocabulary: StreamVocabulary, config: EngineConfig
) -> tuple[Vector, TermArrays]:
    """``weigh``, with the vector also as term arrays (ids and weights in its order: ``TermTable.load_arrays``
    takes them without reading the dict back).

    Names and figures keep their configured share: their saturation is applied to count / weight so that
    one mention of a name weighs ``name_weight`` times one mention of a word.
    """
    size = len(counts.ids)
    if not size:
        return {}, EMPTY_ARRAYS
    scale = np.ones(size)
    words = size - counts.names - counts.figures
    scale[words : words + counts.names] = config.name_weight
    scale[words + counts.names :] = config.figure_weight
    frequency = vocabulary.frequencies(counts.ids)
    k1 = config.tf_saturation
    tf = counts.counts / scale
    # idf = ln(1 + N0 + N) - ln(1 + df) + 1 (StreamVocabulary.idf), over the whole article at once
    log_documents = math.log(1 + vocabulary.prior_documents + vocabulary.documents) + 1.0
    weight = scale * tf * (k1 + 1.0) / (tf + k1) * (log_documents - np.log1p(frequency))
    # heaviest first (callers take a prefix as the top terms); a stable sort keeps equal weights in the
    # article's term order: deterministic
    order = (-weight).argsort(kind="stable")[: config.doc_terms]
    ids = counts.ids[order]
    weight = weight[order]
    length = float(np.sqrt(np.dot(weight, weight)))
    if length == 0.0:
        return {}, EMPTY_ARRAYS
    weight /= length
    return dict(zip(vocabulary.terms(ids), weight.tolist(), strict=True)), TermArrays(ids, weight)


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


def add_into(target: dict[str, float], vector: Mapping[str, float]) -> None:
    """``target[term] += weight`` for each term of ``vector`` (new terms appended in its order), in C."""
    target.update(zip(vector.keys(), map(add, map(target.get, vector.keys(), repeat(0.0)), vector.values()), strict=True))


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
