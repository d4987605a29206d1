"""The numpy paths of the story vectors give the very floats of the plain dict arithmetic they replace."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pytest

from newsloom.stories.storymodel import EngineConfig
from newsloom.stories.text import STOPWORDS, TextParts, stem, text_parts
from newsloom.stories.vectorize import (
    FIGURE_PREFIX,
    NAME_PREFIX,
    StreamVocabulary,
    TermArrays,
    TermTable,
    Vector,
    add_into,
    dot,
    heaviest,
    heaviest_positions,
    norm,
    norm_of,
    term_counts,
    weigh,
)

ARTICLE = (
    "Quake hits Chile\n"
    "A magnitude 7.1 earthquake struck central Chile on Monday, killing 12 people. Chilean President "
    "Gabriel Boric visited Valparaiso.\nRescuers in Valparaiso searched the rubble; the quake also shook "
    "Santiago, where 3 buildings fell. Boric said 12,000 homes lost power on March 21."
)


def reference_counts(parts: TextParts, config: EngineConfig) -> dict[str, float]:
    """Field-weighted counts the plain way: a dict in order of first mention."""
    counts: dict[str, float] = {}
    for words, weight in (
        (parts.title_tokens, config.title_weight),
        (parts.lead_tokens, config.lead_weight),
        (parts.body_tokens, 1.0),
    ):
        keys = ["" if len(w) < 2 or w in STOPWORDS or not w[0].isalpha() else stem(w) for w in words]
        for key, times in Counter(keys).items():
            if key:
                counts[key] = counts.get(key, 0.0) + weight * times
    for name in parts.names:
        key = NAME_PREFIX + name.lower()
        counts[key] = counts.get(key, 0.0) + config.name_weight
    for figure in parts.figures:
        key = FIGURE_PREFIX + figure
        counts[key] = counts.get(key, 0.0) + config.figure_weight
    return counts


@pytest.mark.parametrize(
    "config",
    [
        EngineConfig(),
        EngineConfig(title_weight=1.3, lead_weight=0.7, name_weight=0.1, figure_weight=0.3),
    ],
    ids=["whole field weights", "fractional weights"],
)
def test_term_counts_are_the_dict_counts_in_order_of_first_mention(config: EngineConfig) -> None:
    vocabulary = StreamVocabulary()
    for text in (ARTICLE, "Boric and Boric met Kim.\nKim spoke; Boric left. The 12 drills ended", "x"):
        parts = text_parts(None, text)
        counts = term_counts(parts, vocabulary, config)
        expected = reference_counts(parts, config)
        assert vocabulary.terms(counts.ids) == list(expected)
        assert counts.counts.tolist() == list(expected.values())  # the very floats
        assert counts.names == sum(1 for key in expected if key[0] == NAME_PREFIX)
        assert counts.figures == sum(1 for key in expected if key[0] == FIGURE_PREFIX)


def test_vocabulary_counts_documents_and_gives_idf_per_term() -> None:
    vocabulary = StreamVocabulary(prior_documents=2.0)
    config = EngineConfig()
    for text in ("Boric visited Chile.", "Boric left Chile", "Rain in Lima"):
        vocabulary.observe(term_counts(text_parts(None, text), vocabulary, config))
    assert vocabulary.documents == 3
    assert vocabulary.document_frequency("chil") == 2
    assert vocabulary.document_frequency("@boric") == 2
    assert vocabulary.document_frequency("never seen") == 0
    assert vocabulary.idf("lima") == pytest.approx(np.log(6 / 2) + 1)


def test_weigh_keeps_the_heaviest_terms_unit_length_with_their_ids() -> None:
    vocabulary = StreamVocabulary(prior_documents=10.0)
    config = EngineConfig(doc_terms=5)
    vector, ids = weigh(term_counts(text_parts(None, ARTICLE), vocabulary, config), vocabulary, config)
    assert len(vector) == 5
    assert vocabulary.terms(ids) == list(vector)
    assert norm(vector) == pytest.approx(1.0)
    weights = list(vector.values())
    assert weights == sorted(weights, reverse=True)


def random_vector(rng: random.Random, words: list[str], size: int) -> Vector:
    return {word: rng.random() for word in rng.sample(words, size)}


def test_numpy_dots_are_the_dict_dots_bit_for_bit() -> None:
    rng = random.Random(5)
    words = [f"w{i}" for i in range(400)]
    table = TermTable(StreamVocabulary())
    for _ in range(200):
        article = random_vector(rng, words, rng.choice([1, 5, 40, 160]))
        other = random_vector(rng, words, rng.choice([1, 5, 40, 160, 300]))
        table.load(article)
        arrays = table.arrays(other)
        assert table.dot(article, arrays) == dot(article, other)  # either side iterated
        if len(other) <= len(article):
            assert table.loaded_dot(arrays) == dot(other, article)
    members = [random_vector(rng, words, size) for size in (80, 80, 30)]
    article = random_vector(rng, words, 160)
    table.load(article)
    rows = [table.arrays(member) for member in members]
    ids = np.zeros((3, 80), dtype=np.intp)
    weights = np.zeros((3, 80))
    for row, arrays in enumerate(rows):
        ids[row, : len(arrays)] = arrays.ids
        weights[row, : len(arrays)] = arrays.weights
    assert table.best_row_dot(ids, weights) == max(dot(article, member) for member in members)


def test_centroid_arrays_follow_the_dict_sum_and_its_norm_and_top_terms() -> None:
    rng = random.Random(9)
    words = [f"w{i}" for i in range(300)]
    table = TermTable(StreamVocabulary())
    centroid: dict[str, float] = {}
    arrays = TermArrays(np.zeros(0, dtype=np.intp), np.zeros(0))
    for _ in range(12):
        vector = random_vector(rng, words, rng.choice([10, 80, 160]))
        arrays, summed = table.added(arrays, vector)
        add_into(centroid, vector)
        assert summed == [centroid[term] for term in vector]
        assert table.terms(arrays.ids) == list(centroid)
        assert arrays.weights.tolist() == list(centroid.values())
        assert norm_of(arrays) == norm(centroid)
        top = table.terms(arrays.ids[heaviest_positions(arrays.weights, 40)])
        assert top == heaviest(centroid, 40)


def test_heaviest_positions_keep_ties_in_order() -> None:
    weights = np.array([0.5, 0.9, 0.5, 0.9, 0.1])
    assert heaviest_positions(weights, 3).tolist() == [1, 3, 0]
    assert heaviest({f"t{i}": w for i, w in enumerate(weights.tolist())}, 3) == ["t1", "t3", "t0"]


def test_first_mentions_number_distinct_terms_in_order() -> None:
    vocabulary = StreamVocabulary()
    vocabulary.ids(["a", "b", "c"])  # ids 1, 2, 3
    distinct, place = vocabulary.first_mentions(np.array([3, 0, 1, 3, 0, 2, 1]))
    assert distinct.tolist() == [3, 1, 2]
    assert place.tolist() == [0, 3, 1, 0, 3, 2, 1]  # 0 (no term) -> the place after the last
    distinct, place = vocabulary.first_mentions(np.array([2, 2]))  # the scratch is clean again
    assert distinct.tolist() == [2] and place.tolist() == [0, 0]


def test_members_without_terms_score_zero() -> None:
    table = TermTable(StreamVocabulary())
    table.load({"quake": 1.0})
    assert table.best_row_dot(np.zeros((2, 0), dtype=np.intp), np.zeros((2, 0))) == 0.0

    from newsloom.stories.cluster import StoryEngine
    from newsloom.stories.storymodel import ClusterDoc

    engine = StoryEngine()
    engine.restore(ClusterDoc(id="empty", title=None, text="the the the"), "s")
    placed = engine.add(ClusterDoc(id="quake", title=None, text="A strong earthquake struck central Chile."))
    assert placed.created and engine.story_ids() == ["s", "quake"]
