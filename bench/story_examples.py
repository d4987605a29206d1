"""Multi-outlet incidents of a dated file as newsloom builds them, for judging by hand.

    .venv/bin/python bench/story_examples.py ../shared/data/clustering/gva-dev.jsonl [--stories 3] [--seed 5]

Clusters the whole file with ``cluster_records`` (default config), then picks ``--stories`` gold stories
covered by three or more outlets (seeded choice, so a seed gives the same ones) and prints for each: the
gold articles (date, outlet, title) with the newsloom story each landed in, the headline, summary, counts
and entities of the newsloom story holding the first report, and the claim-by-claim comparison of that
story's articles (``compare_articles``), trimmed. Gold labels are read by this script only.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from clustering import load
from newsloom.stories.cluster import StoryEngine, records_to_docs, stream_positions
from newsloom.stories.compare import compare_articles, render_comparison_text
from newsloom.stories.comparemodel import CompareInput

#: lines of the comparison report printed per story (the rest is counted)
REPORT_LINES = 40
MIN_OUTLETS = 3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", type=Path)
    parser.add_argument("--stories", type=int, default=3)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--wrong", type=int, default=1, help="also show this many incidents newsloom got wrong")
    args = parser.parse_args()
    records = load(args.file)
    gold = {str(r["id"]): str(r["cluster"]) for r in records}
    docs = records_to_docs([{k: v for k, v in r.items() if k != "cluster"} for r in records])
    engine = StoryEngine()
    placed = {docs[p].id: engine.add(docs[p]).story_id for p in stream_positions(docs)}
    story_of = {doc_id: engine.resolve(story) for doc_id, story in placed.items()}
    by_gold: dict[str, list[int]] = defaultdict(list)
    for index, doc in enumerate(docs):
        by_gold[gold[doc.id]].append(index)
    multi = [g for g, members in by_gold.items() if len({docs[i].source for i in members}) >= MIN_OUTLETS]
    members_of = {doc.id: gold[doc.id] for doc in docs}
    story_golds: dict[str, set[str]] = defaultdict(set)
    for doc_id, story in story_of.items():
        story_golds[story].add(members_of[doc_id])
    right = [
        g
        for g in multi
        if len({story_of[docs[i].id] for i in by_gold[g]}) == 1 and story_golds[story_of[docs[by_gold[g][0]].id]] == {g}
    ]
    print(
        f"{len(right)} of {len(multi)} incidents with {MIN_OUTLETS}+ outlets are exactly one newsloom story "
        "(all their reports, nothing else)\n"
    )
    rng = random.Random(args.seed)
    chosen = rng.sample(multi, min(args.stories, len(multi)))
    wrong = [g for g in multi if g not in right and g not in chosen]
    chosen += rng.sample(wrong, min(args.wrong, len(wrong)))
    for number, story_gold in enumerate(chosen, 1):
        members = sorted(by_gold[story_gold], key=lambda i: (docs[i].date or datetime.min.replace(tzinfo=UTC)))
        first = story_of[docs[members[0]].id]
        built = [i for i, doc in enumerate(docs) if story_of[doc.id] == first]
        print(f"### Incident {number} (gold {story_gold}): {len(members)} reports, "
              f"{len({docs[i].source for i in members})} outlets")
        print("| date | outlet | title | newsloom story |")
        print("|---|---|---|---|")
        for i in members:
            doc = docs[i]
            same = "first report's" if story_of[doc.id] == first else f"other ({story_of[doc.id][:8]})"
            when = doc.date.date().isoformat() if doc.date else "-"
            print(f"| {when} | {doc.source} | {(doc.title or '').replace('|', '/')[:90]} | {same} |")
        intruders = [i for i in built if gold[docs[i].id] != story_gold]
        story = engine.story(first)
        print(f"\nnewsloom story `{first[:8]}`: {story.article_count} articles, {story.outlet_count} outlets, "
              f"{len(intruders)} from other incidents")
        print(f"- headline: {story.headline}")
        print(f"- summary: {story.summary}")
        print(f"- entities: {', '.join(story.entities)}")
        for i in intruders:
            print(f"- intruder: {docs[i].date.date() if docs[i].date else '-'} {docs[i].source}: {docs[i].title}")
        comparison = compare_articles(
            [CompareInput(text=docs[i].text, title=docs[i].title, publisher=docs[i].source, published=docs[i].date)
             for i in built]
        )
        report = render_comparison_text(comparison).splitlines()
        print("\n```")
        print("\n".join(line[:160] for line in report[:REPORT_LINES]))
        if len(report) > REPORT_LINES:
            print(f"... {len(report) - REPORT_LINES} more lines")
        print("```\n")


if __name__ == "__main__":
    main()
