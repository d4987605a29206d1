"""Benchmark and calibration of story comparison (newsloom.stories.compare).

    .venv/bin/python bench/compare.py speed ../shared/data/clustering/ecbplus-dev.jsonl
        builds a 20-article story of ~500-word articles from one ECB+ topic, times compare_articles and
        a reference measured in the same run (split_sentences + scikit-learn TF-IDF cosine over all sentences).
    .venv/bin/python bench/compare.py null ../shared/data/clustering/ecbplus-dev.jsonl
        the alignment threshold's null distribution: sentence similarities between two articles about
        *different* events of one topic (ECB+ pairs each topic with a look-alike event), as compare.py
        computes them, and how often each candidate threshold would align such unrelated sentences;
        then the false alignment rate of compare_articles itself on those article pairs (every rule applied).
    .venv/bin/python bench/compare.py recall ../shared/data/clustering/ecbplus-dev.jsonl
        paraphrase recall with a matched precision check: per gold ECB+ story, up to --story-size articles of
        that event plus one "intruder" article about the other event of the same topic, compared together.
        Lead recall = share of the event's articles whose first (lead) sentence aligns with a sentence of
        another article of the event; intruder rate = share of intruder sentences aligned with anything.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from newsloom.stories import align
from newsloom.stories import compare as cmp
from newsloom.stories.comparemodel import CompareInput, SentenceRef
from newsloom.stories.entities import index_entities
from newsloom.stories.figures import extract_figures
from newsloom.stories.sentences import split_sentences


def _rows(path: Path) -> list[dict[str, object]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def _detok(text: str) -> str:
    """ECB+ text is tokenised ("said , `` We"); undo the spacing so it reads like news text again."""
    text = text.replace("``", "“").replace("''", "”")
    for a, b in ((" ,", ","), (" .", "."), (" ’", "’"), (" 's", "'s"), ("“ ", "“"), (" ”", "”"), (" :", ":"),
                 (" ;", ";"), (" ?", "?"), (" !", "!"), ("( ", "("), (" )", ")"), (" n't", "n't")):  # fmt: skip
        text = text.replace(a, b)
    return text


def build_story(rows: list[dict[str, object]], articles: int, words: int) -> list[CompareInput]:
    """Articles of ~``words`` words, each made of docs of one ECB+ topic (the biggest one)."""
    by_topic: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        by_topic[str(row["cluster"]).split("_")[0]].append(_detok(str(row["text"])))
    docs = max(by_topic.values(), key=len)
    story: list[CompareInput] = []
    k = 0
    for _ in range(articles):
        parts: list[str] = []
        while sum(len(p.split()) for p in parts) < words:
            parts.append(docs[k % len(docs)])
            k += 1
        story.append(CompareInput(text="\n\n".join(parts), publisher=f"outlet {len(story)}"))
    return story


def reference(story: list[CompareInput]) -> None:
    sentences = [s for item in story for s in split_sentences(item.text)]
    matrix = TfidfVectorizer(sublinear_tf=True).fit_transform(sentences)
    (matrix @ matrix.T).toarray()


def _best_of(fn: object, repeat: int) -> float:
    assert callable(fn)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def speed(path: Path, repeat: int) -> None:
    story = build_story(_rows(path), 20, 500)
    words = sum(len(item.text.split()) for item in story)
    ours = _best_of(lambda: cmp.compare_articles(story), repeat)
    ref = _best_of(lambda: reference(story), repeat)
    result = cmp.compare_articles(story)
    print(f"story: {len(story)} articles, {words} words, {sum(a.sentence_count for a in result.articles)} sentences")
    print(f"compare_articles: {ours:.3f} s (best of {repeat})")
    print(f"reference split_sentences + sklearn TF-IDF cosine: {ref:.3f} s")
    print(f"ratio compare/reference: {ours / ref:.1f}x")
    print(f"claims {len(result.claims)}, consensus {sum(c.consensus for c in result.claims)}, "
          f"differences {len(result.differences)}, entities {len(result.entities)}")  # fmt: skip


def null(path: Path, pairs: int, seed: int) -> None:
    rows = _rows(path)
    by_cluster: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        by_cluster[str(row["cluster"])].append(_detok(str(row["text"])))
    topics: dict[str, list[str]] = defaultdict(list)
    for cluster in by_cluster:
        topics[cluster.split("_")[0]].append(cluster)
    rng = random.Random(seed)
    negatives: list[float] = []
    positives_max: list[float] = []
    candidates = [t for t, cs in topics.items() if len(cs) == 2]
    for _ in range(pairs):
        topic = rng.choice(candidates)
        c1, c2 = topics[topic]
        a, b = rng.choice(by_cluster[c1]), rng.choice(by_cluster[c2])
        negatives.extend(_cross_similarities([a, b]))
        if len(by_cluster[c1]) >= 2:
            x, y = rng.sample(by_cluster[c1], 2)
            sims = _cross_similarities([x, y])
            if sims:
                positives_max.append(max(sims))
    arr = np.array(negatives)
    aligned, sentence_pairs, pairs_with_link = _null_alignments(by_cluster, topics, candidates, pairs, seed)
    print(f"different-event sentence pairs: {len(arr)} from {pairs} article pairs")
    for q in (50, 90, 99, 99.5, 99.9):
        print(f"  percentile {q}: {np.percentile(arr, q):.3f}")
    for threshold in (0.2, 0.25, 0.3, 0.35, 0.4):
        print(f"  share >= {threshold}: {float((arr >= threshold).mean()) * 100:.2f}%")
    print(f"same-event article pairs: median best sentence similarity {statistics.median(positives_max):.3f}")
    print(f"current ALIGN_MIN_SIMILARITY = {align.ALIGN_MIN_SIMILARITY}")
    print(f"compare_articles on the different-event pairs: {aligned} aligned sentence pairs of {sentence_pairs} "
          f"({aligned / max(1, sentence_pairs) * 100:.3f}%); article pairs with any alignment "
          f"{pairs_with_link}/{pairs} ({pairs_with_link / pairs * 100:.1f}%)")


def _null_alignments(
    by_cluster: dict[str, list[str]], topics: dict[str, list[str]], candidates: list[str], pairs: int, seed: int,
) -> tuple[int, int, int]:
    """The same kind of different-event article pairs, through compare_articles: what it really aligns."""
    rng = random.Random(seed + 1)
    aligned = sentence_pairs = pairs_with_link = 0
    for _ in range(pairs):
        c1, c2 = topics[rng.choice(candidates)]
        a, b = rng.choice(by_cluster[c1]), rng.choice(by_cluster[c2])
        result = cmp.compare_articles([CompareInput(text=a, publisher="a"), CompareInput(text=b, publisher="b")])
        sentence_pairs += result.articles[0].sentence_count * result.articles[1].sentence_count
        links = sum(len(c.sentences) - 1 for c in result.claims if c.consensus)
        aligned += links
        pairs_with_link += links > 0
    return aligned, sentence_pairs, pairs_with_link


def recall(path: Path, story_size: int, seed: int) -> None:
    rows = _rows(path)
    by_cluster: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        by_cluster[str(row["cluster"])].append(_detok(str(row["text"])))
    topics: dict[str, list[str]] = defaultdict(list)
    for cluster in by_cluster:
        topics[cluster.split("_")[0]].append(cluster)
    rng = random.Random(seed)
    leads = leads_aligned = 0
    event_sentences = event_aligned = intruder_sentences = intruder_aligned = 0
    for cluster in sorted(by_cluster):
        siblings = [c for c in topics[cluster.split("_")[0]] if c != cluster]
        docs = by_cluster[cluster]
        if len(docs) < 2 or not siblings:
            continue
        story = rng.sample(docs, min(story_size, len(docs)))
        intruder = rng.choice(by_cluster[siblings[0]])
        inputs = [CompareInput(text=t, publisher=f"outlet {i}") for i, t in enumerate([*story, intruder])]
        result = cmp.compare_articles(inputs)
        n = len(story)
        for claim in result.claims:
            event_outlets = {o for o in claim.outlets if o < n}
            for ref in claim.sentences:
                if ref.article < n:
                    event_sentences += 1
                    event_aligned += len(event_outlets - {ref.article}) > 0
                    if ref.position == 0:
                        leads += 1
                        leads_aligned += len(event_outlets - {ref.article}) > 0
                else:
                    intruder_sentences += 1
                    intruder_aligned += len(claim.outlets) > 1
    print(f"stories: {len(by_cluster)} gold clusters, up to {story_size} articles each + 1 intruder")
    print(f"lead recall: {leads_aligned}/{leads} = {leads_aligned / max(1, leads) * 100:.1f}% of leads align "
          f"with another article of the event")
    print(f"event sentences aligned within the event: {event_aligned}/{event_sentences} "
          f"= {event_aligned / max(1, event_sentences) * 100:.1f}%")
    print(f"intruder sentences aligned (false): {intruder_aligned}/{intruder_sentences} "
          f"= {intruder_aligned / max(1, intruder_sentences) * 100:.2f}%")


def _cross_similarities(texts: list[str]) -> list[float]:
    inputs = [CompareInput(text=t) for t in texts]
    refs: list[list[SentenceRef]] = [list(cmp._article_sentences(item)) for item in inputs]
    index = index_entities([[r.text for r in art] for art in refs])
    flat = [r for art in refs for r in art]
    mentions = [m for art in index.sentence_entities for m in art]
    feats = [align.sentence_features(r.text, m, extract_figures(r.text)) for r, m in zip(flat, mentions, strict=True)]
    if not feats:
        return []
    sim = align.sentence_similarity_matrix(feats)
    n0 = len(refs[0])
    return [float(v) for v in sim[:n0, n0:].ravel()]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["speed", "null", "recall"])
    parser.add_argument("path", type=Path, help="ecbplus-dev.jsonl")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--pairs", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--story-size", type=int, default=5)
    args = parser.parse_args(argv)
    if not args.path.is_file():
        print(f"not found: {args.path}", file=sys.stderr)
        return 2
    if args.mode == "speed":
        speed(args.path, args.repeat)
    elif args.mode == "null":
        null(args.path, args.pairs, args.seed)
    else:
        recall(args.path, args.story_size, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
