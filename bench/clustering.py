"""Story clustering quality and speed: newsloom's online engine vs a tuned scikit-learn baseline.

    .venv/bin/python bench/clustering.py ../shared/data/clustering/ecbplus-dev.jsonl [more.jsonl ...]
    .venv/bin/python bench/clustering.py ../shared/data/clustering/gva-dev.jsonl   # a dated local-news stream

For each file prints pairwise and B-cubed precision / recall / F1 and articles per second for
  * newsloom: ``cluster_records`` (online, one pass, the default ``EngineConfig`` for every file), and
  * baseline: scikit-learn TF-IDF (sublinear tf, English stop words, title + text) + average-link
    agglomerative clustering on cosine distance, its distance threshold grid-searched ON THE SAME FILE
    (the best F1 is reported, which flatters the baseline).
and the ratio newsloom / baseline (``--halves``: newsloom also on each half of the file, split by gold story, as a
held-out check). Dated files also get the recall of follow-ups: reports published 24 h or
more after their gold story's first report, counted as found when they share that first report's story. Gold labels (``cluster``) are read by this script only.

Large files: average link on the full distance matrix needs n^2 float32 (8,277 docs: 270 MB) and scipy's
linkage makes a float64 condensed copy (270 MB), which fits. ``--max-baseline-docs`` guards bigger files:
beyond it the baseline clusters within connected components of the 30-NN cosine graph instead.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import zlib
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from newsloom.stories.cluster import cluster_records
from newsloom.stories.storymodel import EngineConfig


def load(path: Path) -> list[dict[str, object]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def pairwise(gold: Sequence[str], predicted: Sequence[str]) -> tuple[float, float, float]:
    """Precision, recall, F1 over article pairs, counted from the contingency table (no n^2 loop)."""

    def pairs(counts: Counter[object]) -> int:
        return sum(c * (c - 1) // 2 for c in counts.values())

    both = pairs(Counter(zip(gold, predicted, strict=True)))
    gold_pairs = pairs(Counter(gold))
    predicted_pairs = pairs(Counter(predicted))
    precision = both / predicted_pairs if predicted_pairs else 1.0
    recall = both / gold_pairs if gold_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def bcubed(gold: Sequence[str], predicted: Sequence[str]) -> tuple[float, float, float]:
    joint = Counter(zip(gold, predicted, strict=True))
    gold_size = Counter(gold)
    predicted_size = Counter(predicted)
    n = len(gold)
    precision = sum(joint[(g, p)] / predicted_size[p] for g, p in zip(gold, predicted, strict=True)) / n
    recall = sum(joint[(g, p)] / gold_size[g] for g, p in zip(gold, predicted, strict=True)) / n
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


#: a report published this long after its story's first report counts as a follow-up
FOLLOW_UP_S = 24 * 3600.0


def follow_up_recall(
    records: list[dict[str, object]], gold: Sequence[str], predicted: Sequence[str]
) -> tuple[float, int]:
    """Share of follow-ups (dated >= ``FOLLOW_UP_S`` after the first dated report of their gold story) that
    are in the same predicted story as that first report, and the number of follow-ups. Files without
    dates have none (recall 1.0 over 0)."""
    from datetime import UTC, datetime

    def stamp(record: dict[str, object]) -> float | None:
        value = record.get("date")
        if not isinstance(value, str) or not value.strip():
            return None
        parsed = datetime.fromisoformat(value.strip())
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()

    stamps = [stamp(r) for r in records]
    first: dict[str, int] = {}
    for index, (story, when) in enumerate(zip(gold, stamps, strict=True)):
        if when is None:
            continue
        held = first.get(story)
        if held is None or when < (stamps[held] or 0.0):
            first[story] = index
    follow_ups = joined = 0
    for index, (story, when) in enumerate(zip(gold, stamps, strict=True)):
        head = first.get(story)
        if when is None or head is None or when - (stamps[head] or 0.0) < FOLLOW_UP_S:
            continue
        follow_ups += 1
        joined += predicted[index] == predicted[head]
    return (joined / follow_ups if follow_ups else 1.0), follow_ups


def run_newsloom(
    records: list[dict[str, object]], config: EngineConfig = EngineConfig()
) -> tuple[list[str], float]:
    stripped = [{k: v for k, v in r.items() if k != "cluster"} for r in records]
    start = time.perf_counter()
    result = cluster_records(stripped, config)
    elapsed = time.perf_counter() - start
    return [story for _, story in result], elapsed


def _baseline_texts(records: list[dict[str, object]]) -> list[str]:
    return [f"{r.get('title') or ''}\n{r.get('text') or ''}" for r in records]


def run_baseline(
    records: list[dict[str, object]], gold: list[str], max_docs: int
) -> tuple[list[str], float, float]:
    """Best-threshold average-link clustering; returns labels, threshold and the time of one clustering."""
    import numpy as np
    from scipy.cluster.hierarchy import fcluster, linkage
    from sklearn.feature_extraction.text import TfidfVectorizer

    start = time.perf_counter()
    matrix = TfidfVectorizer(sublinear_tf=True, stop_words="english", dtype=np.float32).fit_transform(
        _baseline_texts(records)
    )
    components = _components(matrix, max_docs)
    trees = []
    for members in components:
        if len(members) < 2:
            trees.append((members, None))
            continue
        sub = matrix[members]
        similarity = (sub @ sub.T).toarray().astype(np.float32)
        np.clip(similarity, 0.0, 1.0, out=similarity)
        distance = 1.0 - similarity
        np.fill_diagonal(distance, 0.0)
        condensed = distance[np.triu_indices(len(members), k=1)]
        del distance, similarity
        trees.append((members, linkage(condensed, method="average")))
    build_time = time.perf_counter() - start

    def labels_at(threshold: float) -> list[str]:
        labels = [""] * len(records)
        for number, (members, tree) in enumerate(trees):
            if tree is None:
                for m in members:
                    labels[m] = f"{number}:0"
                continue
            cut = fcluster(tree, t=threshold, criterion="distance")
            for m, c in zip(members, cut, strict=True):
                labels[m] = f"{number}:{c}"
        return labels

    best: tuple[float, float, list[str]] = (-1.0, 0.0, [])
    for step in range(30, 100):
        threshold = step / 100
        labels = labels_at(threshold)
        f1 = pairwise(gold, labels)[2]
        if f1 > best[0]:
            best = (f1, threshold, labels)
    cut_start = time.perf_counter()
    labels_at(best[1])
    one_run = build_time + time.perf_counter() - cut_start
    return best[2], best[1], one_run


def _components(matrix: object, max_docs: int) -> list[list[int]]:
    """All documents as one component, or the connected components of the 30-NN graph for big files."""
    import numpy as np
    from scipy.sparse.csgraph import connected_components
    from sklearn.neighbors import NearestNeighbors

    n = matrix.shape[0]  # type: ignore[attr-defined]
    if n <= max_docs:
        return [list(range(n))]
    graph = NearestNeighbors(n_neighbors=30, metric="cosine").fit(matrix).kneighbors_graph(matrix)
    count, labels = connected_components(graph, directed=False)
    groups: dict[int, list[int]] = defaultdict(list)
    for index, label in enumerate(np.asarray(labels).tolist()):
        groups[int(label)].append(index)
    return [groups[c] for c in range(count)]


def shuffled(records: list[dict[str, object]], how: str, seed: int) -> list[dict[str, object]]:
    """The records in another arrival order (dated records are still sorted by ``cluster_records``)."""
    import random

    if how == "none":
        return records
    rng = random.Random(seed)
    if how == "all":
        return rng.sample(records, len(records))
    groups: dict[str, list[dict[str, object]]] = defaultdict(list)
    for record in records:
        groups[str(record["cluster"]).rpartition("_")[0]].append(record)
    return [record for group in groups.values() for record in rng.sample(group, len(group))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--no-baseline", action="store_true", help="score newsloom only")
    parser.add_argument("--max-baseline-docs", type=int, default=10_000)
    parser.add_argument(
        "--shuffle",
        choices=("none", "all", "within-story-groups"),
        default="none",
        help="arrival-order robustness: shuffle the whole file, or only within groups of gold stories "
        "(the part of a gold id before its last '_', e.g. an ECB+ topic); dated records are still taken in date order",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of --shuffle")
    parser.add_argument(
        "--unordered",
        action="store_true",
        help="newsloom as `newsloom cluster --unordered` (file order is no clock)",
    )
    parser.add_argument(
        "--halves",
        action="store_true",
        help="held-out robustness: also cluster each half of the file on its own (gold stories split by "
        "crc32 of the gold id, even / odd) and score newsloom on it",
    )
    args = parser.parse_args()
    for path in args.files:
        records = shuffled(load(path), args.shuffle, args.seed)
        gold = [str(r["cluster"]) for r in records]
        config = EngineConfig().without_arrival_order() if args.unordered else EngineConfig()
        predicted, elapsed = run_newsloom(records, config)
        p = pairwise(gold, predicted)
        b = bcubed(gold, predicted)
        print(f"== {path.name}: {len(records)} articles, {len(set(gold))} gold stories")
        f = follow_up_recall(records, gold, predicted)
        print(
            f"newsloom  pairwise P {p[0]:.3f} R {p[1]:.3f} F1 {p[2]:.3f} | B3 P {b[0]:.3f} R {b[1]:.3f} "
            f"F1 {b[2]:.3f} | follow-up R {f[0]:.3f} of {f[1]} | {len(set(predicted))} stories | "
            f"{len(records) / elapsed:,.0f} articles/s"
        )
        if args.halves:
            for half in (0, 1):
                part = [r for r in records if zlib.crc32(str(r["cluster"]).encode()) % 2 == half]
                part_gold = [str(r["cluster"]) for r in part]
                part_predicted, _ = run_newsloom(part, config)
                hp = pairwise(part_gold, part_predicted)
                hf = follow_up_recall(part, part_gold, part_predicted)
                print(
                    f"  half {half}  {len(part)} articles, {len(set(part_gold))} gold stories: pairwise P {hp[0]:.3f} "
                    f"R {hp[1]:.3f} F1 {hp[2]:.3f} | follow-up R {hf[0]:.3f} of {hf[1]}"
                )
        if args.no_baseline:
            continue
        labels, threshold, seconds = run_baseline(records, gold, args.max_baseline_docs)
        bp = pairwise(gold, labels)
        bb = bcubed(gold, labels)
        bf = follow_up_recall(records, gold, labels)
        print(
            f"baseline  pairwise P {bp[0]:.3f} R {bp[1]:.3f} F1 {bp[2]:.3f} | B3 P {bb[0]:.3f} R {bb[1]:.3f} "
            f"F1 {bb[2]:.3f} | follow-up R {bf[0]:.3f} of {bf[1]} | {len(set(labels))} stories | {len(records) / seconds:,.0f} articles/s "
            f"(threshold {threshold:.2f}, tuned on this file)"
        )
        print(
            f"ratio     pairwise F1 x{p[2] / bp[2]:.2f}, B3 F1 x{b[2] / bb[2]:.2f}, "
            f"speed x{(len(records) / elapsed) / (len(records) / seconds):.2f}"
        )


if __name__ == "__main__":
    main()
