"""Speed and same-event quality of newsloom's static embedder, against scikit-learn TF-IDF in the same run.

    .venv/bin/python bench/embed.py \
        --allsides ../shared/data/clustering/allsides-dev.jsonl \
        --ecbplus ../shared/data/clustering/ecbplus-dev.jsonl

Speed: documents per second on one core (BLAS and OpenMP pinned to one thread) for 500-word documents
made by joining the corpus's own texts; reference: TfidfVectorizer().fit_transform and .transform on the
same documents. Quality: cosine similarity as a score for "same story" over article pairs (title + text);
ROC-AUC and average precision for the embedder, TF-IDF cosine, and their weighted means (mix25 is
0.25 x embedder + 0.75 x TF-IDF). ECB+ uses every pair and
also reports "hard" AUC, against pairs from the same topic but a different event (two earthquakes);
AllSides uses every same-story pair and a fixed random sample of other pairs. nn@1 is the share of
articles (in stories of two or more) whose most similar other article is from the same story.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # "per core": keep numpy and scikit-learn on one thread

import argparse  # noqa: E402  (imports after pinning threads, on purpose)
import json  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import TypeAlias  # noqa: E402

import numpy as np  # noqa: E402
from scipy import sparse  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.metrics import average_precision_score, roc_auc_score  # noqa: E402
from sklearn.preprocessing import normalize  # noqa: E402

from newsloom.stories.embed import StaticEmbedder  # noqa: E402

NEGATIVE_PAIRS = 200_000  # random other-story pairs sampled on AllSides (every pair of 8k articles is 34M)
# Dense signal's share when mixed with TF-IDF cosine: what a clusterer adding it as one signal would see.
MIX_WEIGHTS = (0.25, 0.5)
SPEED_DOC_WORDS = 500
SPEED_DOCS = 2_000
SPEED_REPEATS = 3


def read_corpus(path: Path) -> tuple[list[str], list[str]]:
    texts: list[str] = []
    clusters: list[str] = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            texts.append("\n".join(part for part in (row.get("title"), row.get("text")) if part))
            clusters.append(str(row["cluster"]))
    return texts, clusters


def tfidf_vectors(texts: Sequence[str]) -> sparse.csr_matrix:
    return sparse.csr_matrix(normalize(TfidfVectorizer().fit_transform(texts)))


def pair_indices(clusters: Sequence[str], seed: int, every_pair: bool) -> tuple[np.ndarray, np.ndarray]:
    n = len(clusters)
    if every_pair:
        left, right = np.triu_indices(n, k=1)
        return left, right
    by_cluster: dict[str, list[int]] = {}
    for index, cluster in enumerate(clusters):
        by_cluster.setdefault(cluster, []).append(index)
    positives = [(a, b) for members in by_cluster.values() for i, a in enumerate(members) for b in members[i + 1 :]]
    rng = np.random.default_rng(seed)
    left = rng.integers(0, n, NEGATIVE_PAIRS * 2)
    right = rng.integers(0, n, NEGATIVE_PAIRS * 2)
    labels = np.asarray(clusters)
    keep = (left != right) & (labels[left] != labels[right])
    left, right = left[keep][:NEGATIVE_PAIRS], right[keep][:NEGATIVE_PAIRS]
    pos = np.asarray(positives)
    return np.concatenate([pos[:, 0], left]), np.concatenate([pos[:, 1], right])


Vectors: TypeAlias = np.ndarray | sparse.csr_matrix


def pair_scores(vectors: Vectors, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    if sparse.issparse(vectors):
        return np.asarray(vectors[left].multiply(vectors[right]).sum(axis=1)).ravel()
    return np.asarray(np.einsum("ij,ij->i", vectors[left], vectors[right]))


def nearest_neighbour_precision(vectors: Vectors, clusters: Sequence[str]) -> float:
    labels = np.asarray(clusters)
    _, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    eligible = np.flatnonzero(counts[inverse] > 1)
    hits = 0
    for start in range(0, len(eligible), 1024):
        chunk = eligible[start : start + 1024]
        if sparse.issparse(vectors):
            sims = sparse.csr_matrix(vectors[chunk] @ vectors.T).toarray()
        else:
            sims = np.asarray(vectors[chunk] @ vectors.T)
        sims[np.arange(len(chunk)), chunk] = -np.inf
        hits += int((labels[sims.argmax(axis=1)] == labels[chunk]).sum())
    return hits / len(eligible)


def quality(name: str, path: Path, embedder: StaticEmbedder, seed: int) -> None:
    texts, clusters = read_corpus(path)
    every_pair = len(texts) <= 2_000
    left, right = pair_indices(clusters, seed, every_pair)
    labels = np.asarray(clusters)
    same = labels[left] == labels[right]
    systems: dict[str, Vectors] = {"embed": embedder.encode(texts), "tfidf": tfidf_vectors(texts)}
    scores = {system: pair_scores(vectors, left, right) for system, vectors in systems.items()}
    for weight in MIX_WEIGHTS:
        scores[f"mix{int(weight * 100)}"] = weight * scores["embed"] + (1 - weight) * scores["tfidf"]
    topic = np.asarray([cluster.split("_")[0] for cluster in clusters])
    hard = same | (topic[left] == topic[right]) if name == "ecbplus" else None
    print(f"\n{name}: {len(texts)} articles, {int(same.sum())} same-story pairs, {int((~same).sum())} other pairs")
    for system, score in scores.items():
        line = f"  {system:6s} ROC-AUC {roc_auc_score(same, score):.4f}  AP {average_precision_score(same, score):.4f}"
        if hard is not None:
            line += f"  hard ROC-AUC {roc_auc_score(same[hard], score[hard]):.4f}"
        if system in systems:
            line += f"  nn@1 {nearest_neighbour_precision(systems[system], clusters):.4f}"
        print(line)


def speed_documents(path: Path) -> list[str]:
    words = " ".join(read_corpus(path)[0]).split()
    return [" ".join(words[(i * 37) % (len(words) - SPEED_DOC_WORDS) :][:SPEED_DOC_WORDS]) for i in range(SPEED_DOCS)]


def best_rate(run: Callable[[], object], count: int) -> float:
    best = float("inf")
    for _ in range(SPEED_REPEATS):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return count / best


def speed(path: Path, model_dir: Path | None) -> None:
    docs = speed_documents(path)
    embedder = StaticEmbedder.load(model_dir)
    cold_started = time.perf_counter()
    StaticEmbedder.load(model_dir).encode(docs)
    cold = len(docs) / (time.perf_counter() - cold_started)
    warm = best_rate(lambda: embedder.encode(docs), len(docs))
    vectoriser = TfidfVectorizer()
    fit = best_rate(lambda: vectoriser.fit_transform(docs), len(docs))
    transform = best_rate(lambda: vectoriser.transform(docs), len(docs))
    print(f"\nspeed, {len(docs)} docs of {SPEED_DOC_WORDS} words, one thread (docs/s):")
    print(f"  embed encode {warm:8.0f}   (first pass, load included: {cold:.0f})")
    print(f"  tfidf fit_transform {fit:8.0f}   transform {transform:8.0f}")
    print(f"  ratio embed/tfidf-fit_transform {warm / fit:.2f}   embed/tfidf-transform {warm / transform:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--allsides", type=Path, help="allsides-dev.jsonl")
    parser.add_argument("--ecbplus", type=Path, help="ecbplus-dev.jsonl")
    parser.add_argument("--model-dir", type=Path, default=None, help="artefact folder (default: the shipped one)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--no-speed", action="store_true")
    args = parser.parse_args()
    embedder = StaticEmbedder.load(args.model_dir)
    print(f"model: {embedder.meta}")
    for name, path in (("ecbplus", args.ecbplus), ("allsides", args.allsides)):
        if path is not None:
            quality(name, path, embedder, args.seed)
    speed_source = args.allsides or args.ecbplus
    if speed_source is not None and not args.no_speed:
        speed(speed_source, args.model_dir)


if __name__ == "__main__":
    main()
