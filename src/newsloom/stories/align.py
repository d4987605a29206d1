"""Which sentences of different articles report the same fact: word-stem, entity and figure features,
TF-IDF cosine similarity, and a one-to-one alignment per pair of articles (used by ``compare.py``).

The word helpers here (``STOPWORDS``, ``WORD_RE``, ``stem``) are also the tokens ``differences.py`` compares.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from newsloom.stories.comparemodel import SentenceRef
from newsloom.stories.figures import Figure, figure_keys
from newsloom.stories.sentences import split_dateline

__all__ = [
    "ALIGN_MIN_SHARED_FEATURES",
    "ALIGN_MIN_SIMILARITY",
    "STOPWORDS",
    "WORD_RE",
    "align_sentences",
    "sentence_features",
    "sentence_similarity_matrix",
    "stem",
]

# Two sentences of different articles report one fact when the cosine of their TF-IDF vectors reaches this.
# Chosen from the null distribution: on ECB+ dev, sentence pairs drawn from two articles about *different*
# events of the same kind (the hardest negatives we have) reach 0.30 in 0.13% of pairs (p99.9 = 0.32), while
# the paraphrased seed pairs score 0.43 to 0.88 and the closest seed non-pair 0.28
# (bench/compare.py null prints the percentiles; docs/benchmarks/compare.md has the figures).
ALIGN_MIN_SIMILARITY = 0.30
# ...and share at least this many content features (stems, entities, figures): one shared name is never a fact.
ALIGN_MIN_SHARED_FEATURES = 3
# A second, lower bar for pairs that are each other's best match across their two articles and share an
# anchor: a figure or date value, or a named entity plus MUTUAL_MIN_SHARED_WORDS content-word stems (the
# "who" and "did what"). Paraphrased leads of one event score 0.13 to 0.29 when the shared words are the
# story's topic words; mutual best match plus the anchor keeps the null rate (different events of one ECB+
# topic) near the single-threshold rate. Chosen with bench/compare.py null/recall (docs/benchmarks/compare.md).
MUTUAL_MIN_SIMILARITY = 0.25
MUTUAL_MIN_SHARED_WORDS = 3
# The idf "background": this many pseudo-sentences in which no feature occurs are added to the story's own
# sentences, so a word that is in most sentences of a story (its topic, "Lohan", "rehab") keeps some weight
# instead of falling to the floor. 0 is the story-internal idf.
IDF_BACKGROUND_SENTENCES = 0
# An entity counts like this many words: names carry the "who" of a fact and survive paraphrase.
ENTITY_WEIGHT = 1.5
FIGURE_WEIGHT = 1.0
STOPWORDS = frozenset(
    ["a", "an", "the", "and", "or", "but", "if", "then", "than", "that", "this", "these", "those", "there", "their", "they", "them", "it", "its", "he", "she", "his", "her", "him", "we", "our", "us", "you", "your", "i", "me", "my", "of", "in", "on", "at", "to", "for", "from", "by", "with", "without", "about", "into", "onto", "over", "under", "after", "before", "between", "during", "since", "until", "as", "is", "are", "was", "were", "be", "been", "being", "has", "have", "had", "do", "does", "did", "will", "would", "shall", "should", "can", "could", "may", "might", "must", "not", "no", "nor", "so", "such", "also", "just", "only", "very", "more", "most", "much", "many", "some", "any", "each", "other", "both", "either", "neither", "all", "own", "same", "too", "s", "t", "said", "says", "say", "told", "according", "who", "whom", "whose", "which", "what", "when", "where", "why", "how", "while", "although", "though", "because", "however", "meanwhile", "again", "further", "once", "here", "up", "down", "out", "off", "am", "being", "having", "doing"]
)
WORD_RE = re.compile(r"[A-Za-z0-9]+(?:[’'][A-Za-z]+)?(?:[-.][A-Za-z0-9]+)*")


# A pure function called ~40 times per sentence: memoised (results never depend on what was seen before).
@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light suffix stripper: enough to match "pledging"/"pledges", "assistance"/"assist"."""
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    for suffix in ("ations", "ation", "ments", "ment", "ances", "ance", "ences", "ence", "ings", "ing", "ions",
                   "ion", "ies", "ied", "ers", "er", "ed", "es", "ly", "s"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 4:
            w = w[: -len(suffix)]
            break
    return w[:7]


# --------------------------------------------------------------------------------------------- similarity


def sentence_features(sentence: str, mentions: Sequence[tuple[int, int, int]], figures: Sequence[Figure]) -> Counter[str]:
    """Weighted features: content-word stems outside names, entity ids, figure values."""
    _, body = split_dateline(sentence)
    offset = len(sentence) - len(body)
    feats: Counter[str] = Counter()
    covered = [(s, e) for _, s, e in mentions] + [(f.start, f.end) for f in figures]
    for m in WORD_RE.finditer(body):
        start = m.start() + offset
        if any(s <= start < e for s, e in covered):
            continue
        word = m.group(0).lower()
        if word in STOPWORDS or len(word) < 2 or word.isdigit():
            continue
        feats[stem(word)] += 1
    for entity, s, _ in mentions:
        if s >= offset:
            feats[f"ent:{entity}"] += 1
    for figure in figures:
        if figure.start >= offset:
            for key in figure_keys(figure):
                feats[f"fig:{key}"] += 1
    return feats


def _weight(feature: str) -> float:
    if feature.startswith("ent:"):
        return ENTITY_WEIGHT
    if feature.startswith("fig:"):
        return FIGURE_WEIGHT
    return 1.0


def sentence_similarity_matrix(
    features: Sequence[Counter[str]], background: int | None = None,
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Cosine similarity of TF-IDF vectors (sublinear tf, smoothed idf over the given sentences plus
    ``background`` pseudo-sentences that hold none of the features; default ``IDF_BACKGROUND_SENTENCES``)."""
    extra = IDF_BACKGROUND_SENTENCES if background is None else background
    vocab: dict[str, int] = {}
    df: Counter[str] = Counter()
    for feats in features:
        df.update(feats.keys())
        for f in feats:
            vocab.setdefault(f, len(vocab))
    n = len(features) + extra
    matrix = np.zeros((len(features), max(1, len(vocab))), dtype=np.float64)
    for row, feats in enumerate(features):
        for f, count in feats.items():
            idf = math.log((1 + n) / (1 + df[f])) + 1.0
            matrix[row, vocab[f]] = (1.0 + math.log(count)) * idf * _weight(f)
    norms = np.linalg.norm(matrix, axis=1)
    norms[norms == 0] = 1.0
    matrix /= norms[:, None]
    result: np.ndarray[Any, np.dtype[np.float64]] = matrix @ matrix.T
    return result


# -------------------------------------------------------------------------------------------- alignment


def align_sentences(
    sentences: list[SentenceRef], sim: np.ndarray[Any, np.dtype[np.float64]], features: list[Counter[str]],
    n_articles: int,
) -> list[tuple[int, int, float]]:
    """One-to-one alignment per pair of articles: greedy on similarity above ``ALIGN_MIN_SIMILARITY``, then
    mutual best matches above ``MUTUAL_MIN_SIMILARITY`` that share an anchor (see ``_anchored``)."""
    by_article: dict[int, list[int]] = defaultdict(list)
    for k, ref in enumerate(sentences):
        by_article[ref.article].append(k)
    links: list[tuple[int, int, float]] = []
    for a in range(n_articles):
        for b in range(a + 1, n_articles):
            rows, cols = by_article.get(a, []), by_article.get(b, [])
            if not rows or not cols:
                continue
            block = sim[np.ix_(rows, cols)]
            candidates = np.argwhere(block >= ALIGN_MIN_SIMILARITY)
            scored = sorted(((float(block[r, c]), int(r), int(c)) for r, c in candidates), reverse=True)
            used_r: set[int] = set()
            used_c: set[int] = set()
            for score, r, c in scored:
                if r in used_r or c in used_c:
                    continue
                shared = features[rows[r]].keys() & features[cols[c]].keys()
                if len(shared) < ALIGN_MIN_SHARED_FEATURES:
                    continue
                used_r.add(r)
                used_c.add(c)
                links.append((rows[r], cols[c], score))
            if MUTUAL_MIN_SIMILARITY >= ALIGN_MIN_SIMILARITY:
                continue
            best_c = block.argmax(axis=1)
            best_r = block.argmax(axis=0)
            for r, c in enumerate(best_c):
                c = int(c)
                if r in used_r or c in used_c or int(best_r[c]) != r:
                    continue
                score = float(block[r, c])
                if score < MUTUAL_MIN_SIMILARITY or not _anchored(features[rows[r]], features[cols[c]]):
                    continue
                used_r.add(r)
                used_c.add(c)
                links.append((rows[r], cols[c], score))
    return links


def _anchored(left: Counter[str], right: Counter[str]) -> bool:
    """Shared features that pin a fact: a figure or date value, or a name plus content words."""
    shared = left.keys() & right.keys()
    if len(shared) < ALIGN_MIN_SHARED_FEATURES:
        return False
    if any(f.startswith("fig:") for f in shared):
        return True
    words = sum(1 for f in shared if not f.startswith(("ent:", "fig:")))
    return words >= MUTUAL_MIN_SHARED_WORDS and any(f.startswith("ent:") for f in shared)
