"""Clustering eval gate: pinned F1 floors on small fixed samples of the shared dev sets (read by path).

Full-set figures come from bench/clustering.py (docs/benchmarks/clustering.md). A floor sits just under the
score measured when it was set; a change that lowers a score below its floor fails here and must either be
fixed or lower the floor in the same commit, with the reason. Never lower one silently.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from newsloom.stories.cluster import StoryEngine, cluster_records, records_to_docs, stream_positions
from newsloom.stories.storymodel import ClusterDoc
from tests.conftest import SHARED

DATA = SHARED / "data" / "clustering"
#: ECB+ topics 1-12 in file order (about 290 articles): each topic holds two events of one kind
ECB_TOPICS = 12
#: the first 600 AllSides stories (1,800 articles)
ALLSIDES_STORIES = 600

# Measured when set (pairwise F1, default EngineConfig): ECB+ sample 0.773, AllSides sample 0.838 (round 2:
# arrival clock, name conflicts, length-dependent join bar; full dev sets went 0.821 -> 0.841 and 0.624 ->
# 0.817, while this ECB+ sample moved 0.786 -> 0.773: one topic's early lump, see
# docs/benchmarks/clustering.md). The engine is deterministic, so the ~0.015 margin is not for noise: it
# lets a principled change that moves one early article (about 0.01 of pairwise F1 at these sizes)
# through, and stops anything larger.
# Round 3: dateline mismatch penalty and lead-name bonus (ECB+ sample 0.773 -> 0.851, full set 0.841 ->
# 0.876), then gray-zone joins of short undated texts (EngineConfig.recent_join_margin) and
# time_penalty_per_day 0.08 (AllSides sample 0.838 -> 0.900, full set 0.817 -> 0.880). All of round 3 together
# (no gray-zone rescue against a dateline mismatch, wider dateline spellings): ECB+ sample 0.851, full set
# 0.883; AllSides sample 0.897, full set 0.877.
# Round 4: figure_weight 1.5 -> 3.0: ECB+ sample 0.851 -> 0.864 (full set 0.883 -> 0.888), AllSides sample
# 0.897 -> 0.904 (full set 0.877 -> 0.882).
ECB_PAIRWISE_F1_FLOOR = 0.85
ALLSIDES_PAIRWISE_F1_FLOOR = 0.90  # was 0.89: raised in issue 15 item 2, below
# Round 5 (event signatures of dated local news, follow-up window): gva sample (its first 800 articles in
# file = date order) 0.783 (full set 0.492 -> 0.753); ECB+ sample 0.864 unchanged, AllSides sample 0.904 ->
# 0.900 (full set 0.882 -> 0.891).
GVA_ARTICLES = 800
GVA_PAIRWISE_F1_FLOOR = 0.77
# Issue 15 item 2 (a dated article against an undated story reads the arrival clock; the gray zone also for
# dated pairs published within recent_join_hours): AllSides sample 0.900 -> 0.913 (full set 0.891 -> 0.910),
# so its floor 0.89 -> 0.90; ECB+ sample 0.864 unchanged, gva sample 0.783 -> 0.785 (full set 0.753 -> 0.757).


def _load(name: str) -> list[dict[str, object]]:
    path = DATA / name
    if not path.is_file():
        pytest.skip(f"evaluation data not found at {path}")
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def pairwise_f1(gold: list[str], predicted: list[str]) -> float:
    def pairs(counts: Counter[object]) -> int:
        return sum(c * (c - 1) // 2 for c in counts.values())

    both = pairs(Counter(zip(gold, predicted, strict=True)))
    precision = both / max(pairs(Counter(predicted)), 1)
    recall = both / max(pairs(Counter(gold)), 1)
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def _score(records: list[dict[str, object]]) -> float:
    gold = [str(r["cluster"]) for r in records]
    predicted = [story for _, story in cluster_records(records)]
    return pairwise_f1(gold, predicted)


def ecb_sample() -> list[dict[str, object]]:
    records = _load("ecbplus-dev.jsonl")
    topics = list(dict.fromkeys(str(r["cluster"]).split("_")[0] for r in records))[:ECB_TOPICS]
    return [r for r in records if str(r["cluster"]).split("_")[0] in topics]


def allsides_sample() -> list[dict[str, object]]:
    records = _load("allsides-dev.jsonl")
    stories = list(dict.fromkeys(str(r["cluster"]) for r in records))[:ALLSIDES_STORIES]
    keep = set(stories)
    return [r for r in records if r["cluster"] in keep]


def test_ecbplus_sample_pairwise_f1_floor() -> None:
    assert _score(ecb_sample()) >= ECB_PAIRWISE_F1_FLOOR


def test_allsides_sample_pairwise_f1_floor() -> None:
    assert _score(allsides_sample()) >= ALLSIDES_PAIRWISE_F1_FLOOR


def test_gva_sample_pairwise_f1_floor() -> None:
    assert _score(_load("gva-dev.jsonl")[:GVA_ARTICLES]) >= GVA_PAIRWISE_F1_FLOOR


def test_seed_pair_forms_one_story_that_no_dev_article_joins(seeds_dir: Path) -> None:
    seeds = [ClusterDoc(id=p.name, title=None, text=p.read_text(encoding="utf-8")) for p in sorted(seeds_dir.glob("0*.txt"))]
    assert len(seeds) == 2
    docs = records_to_docs(_load("ecbplus-dev.jsonl") + allsides_sample())
    order = stream_positions(docs)
    engine = StoryEngine()
    placed: dict[str, str] = {}
    for count, position in enumerate(order):
        placed[docs[position].id] = engine.add(docs[position]).story_id
        if count == len(order) // 2:  # the seeds arrive amid the stream, dev articles follow them
            for seed in seeds:
                placed[seed.id] = engine.add(seed).story_id
    final = {doc_id: engine.resolve(story) for doc_id, story in placed.items()}
    seed_story = final[seeds[0].id]
    assert final[seeds[1].id] == seed_story
    assert [doc_id for doc_id, story in final.items() if story == seed_story] == [s.id for s in seeds]
    assert engine.story(seed_story).article_count == 2
