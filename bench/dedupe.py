"""Near-duplicate (syndication) benchmark: evidence for the thresholds in newsloom.stories.dedupe, and speed.

Usage::

    .venv/bin/python bench/dedupe.py --articles ../shared/data/extraction/ground-truth.json \\
        --pairs ../shared/data/clustering/ecbplus-dev.jsonl ../shared/data/clustering/allsides-dev.jsonl \\
        --seeds ../shared/seeds [--shingle-sizes 3 4 5 6] [--repeat 3]

1. Synthetic copies of real article bodies (``--articles``: a ``{id: {articleBody}}`` JSON such as the
   extraction ground truth): exact copy, 5% / 10% of words replaced, an intro line added, outlet chrome
   appended, trimmed to 60% / 30%, and all of intro + 70% + 3% edits + chrome at once. Prints the exact
   containment per shingle size and the share of copies ``NearDuplicateIndex`` links to their original while
   it holds every original (recall), and how many link to a wrong original.
2. Independent reports of one event (``--pairs``: JSON Lines with ``cluster``): the containment distribution
   of same-story pairs and the pairs the index links. Those corpora also hold real wire copies (the same AP
   lead under two headlines), so a linked pair is not automatically an error: the script prints the linked
   pairs' scores and, with ``--show K``, K of them to read.
3. The seed pair (``--seeds``): two outlets' reports of one event; must not be linked.
4. Speed: ``add`` + ``find_original`` per article against ``content_hash`` of the same text, same process.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

from newsloom.stories.dedupe import (
    CONTAINMENT_THRESHOLD,
    MIN_WORDS,
    SHINGLE_SIZE,
    NearDuplicateIndex,
    content_hash,
    narrative_words,
)

INTRO = (
    "This article originally appeared on the website of our partner publication and is republished here "
    "with permission as part of a content-sharing agreement."
)
CHROME = (
    "Sign up for our daily newsletter.\nGet the latest headlines delivered to your inbox every morning.\n"
    "Related stories\nMost read\nFollow us on Facebook, X and Instagram.\n"
    "© 2025 Example Media Group. All rights reserved.\nDownload the app. Already a subscriber? Sign in here."
)


def words_of(text: str) -> list[str]:
    """The words the index compares (outside quotations)."""
    return narrative_words(text)


def shingles(words: Sequence[str], size: int) -> set[tuple[str, ...]]:
    if len(words) <= size:
        return {tuple(words)} if words else set()
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


def containment(a: str, b: str, size: int) -> float:
    sa, sb = shingles(words_of(a), size), shingles(words_of(b), size)
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / min(len(sa), len(sb))


def make_variants(vocabulary: Sequence[str], rng: random.Random) -> dict[str, Callable[[str], str]]:
    def replace(text: str, share: float) -> str:
        tokens = text.split(" ")
        for i in rng.sample(range(len(tokens)), max(1, int(len(tokens) * share))):
            tokens[i] = rng.choice(vocabulary)
        return " ".join(tokens)

    def trim(text: str, share: float) -> str:
        tokens = text.split(" ")
        return " ".join(tokens[: max(1, int(len(tokens) * share))])

    return {
        "exact": lambda t: t,
        "edit 5%": lambda t: replace(t, 0.05),
        "edit 10%": lambda t: replace(t, 0.10),
        "intro": lambda t: INTRO + "\n\n" + t,
        "chrome": lambda t: t + "\n\n" + CHROME,
        "trim 60%": lambda t: trim(t, 0.6),
        "trim 30%": lambda t: trim(t, 0.3),
        "all at once": lambda t: INTRO + "\n\n" + replace(trim(t, 0.7), 0.03) + "\n\n" + CHROME,
    }


def quantiles(values: Sequence[float]) -> str:
    ordered = sorted(values)

    def at(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))]

    return f"min {ordered[0]:.2f} p5 {at(0.05):.2f} median {at(0.5):.2f} p95 {at(0.95):.2f} max {ordered[-1]:.2f}"


def synthetic(bodies: Sequence[str], sizes: Sequence[int], rng: random.Random) -> None:
    vocabulary = [w for body in bodies for w in body.split()]
    variants = make_variants(vocabulary, rng)
    index = NearDuplicateIndex()
    for i, body in enumerate(bodies):
        index.add(str(i), body, None)
    print(f"\n## Synthetic copies of {len(bodies)} real articles (threshold {CONTAINMENT_THRESHOLD})")
    for name, make in variants.items():
        copies = [make(body) for body in bodies]
        per_size = "; ".join(
            f"k={k}: {quantiles([containment(b, c, k) for b, c in zip(bodies, copies, strict=True)])}" for k in sizes
        )
        found = [index.find_original(copy, None) for copy in copies]
        right = sum(f == str(i) for i, f in enumerate(found))
        wrong = sum(f is not None and f != str(i) for i, f in enumerate(found))
        print(f"- {name}: linked to its original {right}/{len(bodies)} ({right / len(bodies):.1%}), to another {wrong}")
        print(f"    exact containment {per_size}")


def load_clusters(path: Path) -> list[tuple[str, str, str]]:
    docs = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            text = "\n".join(part for part in (row.get("title"), row["text"]) if part)
            docs.append((str(row["id"]), str(row["cluster"]), text))
    return docs


def independent_reports(path: Path, sizes: Sequence[int], show: int, rng: random.Random) -> None:
    docs = load_clusters(path)
    by_cluster: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for doc in docs:
        by_cluster[doc[1]].append(doc)
    pairs = [pair for members in by_cluster.values() for pair in itertools.combinations(members, 2)]
    long_pairs = [(a, b) for a, b in pairs if min(len(words_of(a[2])), len(words_of(b[2]))) >= MIN_WORDS]
    print(f"\n## {path.name}: {len(docs)} articles, {len(pairs)} same-story pairs ({len(long_pairs)} with both >= {MIN_WORDS} words)")
    for k in sizes:
        scores = [containment(a[2], b[2], k) for a, b in long_pairs]
        over = {t: sum(s >= t for s in scores) for t in (0.5, 0.6, 0.7, 0.8)}
        print(f"- k={k} exact containment {quantiles(scores)}; pairs >= 0.5/0.6/0.7/0.8: {list(over.values())}")

    index = NearDuplicateIndex()
    for doc_id, _, text in docs:
        index.add(doc_id, text, None)
    cluster_of = {doc_id: cluster for doc_id, cluster, _ in docs}
    same, other = set(), set()
    for doc_id, cluster, text in docs:
        for match in index.duplicates(text):
            if match != doc_id:
                pair = tuple(sorted((doc_id, match)))
                (same if cluster_of[match] == cluster else other).add(pair)
    text_of = {doc_id: text for doc_id, _, text in docs}
    linked_scores = [containment(text_of[a], text_of[b], SHINGLE_SIZE) for a, b in same]
    print(
        f"- index links {len(same)} same-story pairs ({len(same) / max(1, len(pairs)):.2%} of them) and {len(other)} "
        f"pairs across stories; exact k={SHINGLE_SIZE} containment of the linked: "
        + (quantiles(linked_scores) if linked_scores else "-")
    )
    for a, b in rng.sample(sorted(same), min(show, len(same))):
        print(f"    linked {a} ~ {b}: {containment(text_of[a], text_of[b], SHINGLE_SIZE):.2f}")
        print(f"      A: {text_of[a][:160]!r}\n      B: {text_of[b][:160]!r}")


def seed_pair(seeds: Path, sizes: Sequence[int]) -> None:
    first, second = sorted(seeds.glob("00[01]_*.txt"))[:2]
    a, b = first.read_text(encoding="utf-8"), second.read_text(encoding="utf-8")
    index = NearDuplicateIndex()
    index.add("000", a, None)
    scores = ", ".join(f"k={k} {containment(a, b, k):.3f}" for k in sizes)
    print(f"\n## Seed pair (independent reports): exact containment {scores}; linked: {index.find_original(b, None)}")


def speed(bodies: Sequence[str], repeat: int) -> None:
    texts = [b for b in bodies if len(b.split()) >= 200]
    words = statistics.mean(len(t.split()) for t in texts)

    def run_hash() -> float:
        start = time.perf_counter()
        for text in texts:
            content_hash(text)
        return time.perf_counter() - start

    def run_index() -> tuple[float, float]:
        index = NearDuplicateIndex()
        start = time.perf_counter()
        for i, text in enumerate(texts):
            index.add(str(i), text, None)
        added = time.perf_counter()
        for text in texts:
            index.find_original(text, None)
        return added - start, time.perf_counter() - added

    hash_s = min(run_hash() for _ in range(repeat))
    add_s, find_s = min((run_index() for _ in range(repeat)), key=sum)
    n = len(texts)
    print(f"\n## Speed ({n} articles, mean {words:.0f} words, best of {repeat})")
    print(f"- content_hash: {hash_s / n * 1e6:.0f} us/article")
    print(f"- add: {add_s / n * 1e6:.0f} us/article ({add_s / hash_s:.1f}x content_hash)")
    print(f"- find_original: {find_s / n * 1e6:.0f} us/article ({find_s / hash_s:.1f}x content_hash)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=Path, help="JSON {id: {articleBody}} of real article texts")
    parser.add_argument("--pairs", type=Path, nargs="*", default=[], help="JSON Lines with a cluster per article")
    parser.add_argument("--seeds", type=Path, help="directory with the seed pair 000_*.txt and 001_*.txt")
    parser.add_argument("--shingle-sizes", type=int, nargs="*", default=[3, 4, 5, 6])
    parser.add_argument("--show", type=int, default=0, help="print this many linked same-story pairs per file")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    rng = random.Random(7)
    if args.articles:
        truth = json.loads(args.articles.read_text(encoding="utf-8"))
        bodies = [row["articleBody"] for row in truth.values() if len(row["articleBody"].split()) >= 2 * MIN_WORDS]
        synthetic(bodies, args.shingle_sizes, rng)
        speed(bodies, args.repeat)
    for path in args.pairs:
        independent_reports(path, args.shingle_sizes, args.show, rng)
    if args.seeds:
        seed_pair(args.seeds, args.shingle_sizes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
