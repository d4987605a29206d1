"""Where the story engine's time per article goes: process-time microseconds per stage, on the articles of
``bench/cluster_scale.py`` after a warm-up, so that a cut can be measured stage by stage.

    .venv/bin/python bench/engine_stages.py [--warm 3000] [--articles 1000] [--seed 7]

Stages: ``text_parts`` (sentences, tokens, names, figures), ``term_counts`` (the vocabulary look-ups),
``weigh`` (term_counts plus TF-IDF), ``signature`` (event signature of a dated article) and the whole
``StoryEngine.add``; each is run over the same articles, the stages on the engine's state after the warm-up.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from cluster_scale import Stream
from newsloom.stories.cluster import StoryEngine
from newsloom.stories.text import text_parts
from newsloom.stories.vectorize import term_counts, weigh_arrays

T = TypeVar("T")


def microseconds(run: Callable[[T], object], items: Sequence[T]) -> float:
    start = time.process_time()
    for item in items:
        run(item)
    return 1e6 * (time.process_time() - start) / len(items)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warm", type=int, default=3_000)
    parser.add_argument("--articles", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    stream = iter(Stream(args.seed, 1_000))
    docs = [next(stream) for _ in range(args.warm + args.articles)]
    engine = StoryEngine()
    for doc in docs[: args.warm]:
        engine.add(doc)
    measured = docs[args.warm :]
    config, vocabulary = engine.config, engine._vocabulary
    parts = [text_parts(doc.title, doc.text, lead_sentences=config.lead_sentences) for doc in measured]
    stages: dict[str, float] = {
        "text_parts": microseconds(lambda doc: text_parts(doc.title, doc.text, lead_sentences=config.lead_sentences), measured),
        "term_counts": microseconds(lambda part: term_counts(part, vocabulary, config), parts),
        "weigh": microseconds(lambda part: weigh_arrays(term_counts(part, vocabulary, config), vocabulary, config), parts),
        "signature": microseconds(lambda pair: engine._signature(*pair), list(zip(measured, parts, strict=True))),
        "add": microseconds(engine.add, measured),
    }
    for name, value in stages.items():
        print(f"{name:12s} {value:8.1f} us/article")


if __name__ == "__main__":
    main()
