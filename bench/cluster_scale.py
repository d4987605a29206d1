"""Story engine cost per article as the archive grows: ms/article near 10k articles vs near N articles.

    .venv/bin/python bench/cluster_scale.py [--articles 300000] [--per-day 1000] [--seed 7]

The stream is synthetic, generated on the fly (generation is not timed):
  * a vocabulary of 50,000 made-up words whose background frequencies follow Zipf's law (s = 1.1), plus
    capitalised names and figures;
  * events: each has 12 event words drawn from the vocabulary's middle and tail, 3 names and 2 figures;
    a new event starts every ~8 articles on average and stays live for 2 days of stream time;
  * an article (500 words, title of 8 words) picks a live event, writes ~30% of its words from the
    event's words and names and ~70% from the Zipf background, in sentences of ~20 words;
  * dates advance by 86400 / per_day seconds per article, so the 7-day window holds a steady number of
    stories (about per_day * 7 / 8) once the stream is a week old.
Timing: process CPU time (the machines this runs on are shared; wall time drifts with the neighbours), the
mean ms/article over 5,000 articles ending at each checkpoint (10k, 30k, 100k, 300k, ... up to
--articles) and the ratio of each to the 10k figure; the target is <= 1.5 at 1M. The engine state is
bounded by the window, so a run to 300k shows whether cost has flattened; 1M takes ~50 min on this box
(generation included). Keep other CPU work off the machine while it runs: CPU time still rises with
contention (shared caches), which shows up as a false growth between checkpoints.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from newsloom.stories.cluster import StoryEngine
from newsloom.stories.storymodel import ClusterDoc

VOCABULARY = 50_000
ZIPF_S = 1.1
ARTICLE_WORDS = 500
EVENT_SHARE = 0.3
EVENT_LIFETIME_DAYS = 2.0
MEAN_ARTICLES_PER_EVENT = 8
WINDOW = 5_000


def make_word(rng: random.Random) -> str:
    consonants, vowels = "bcdfghjklmnprstvwz", "aeiou"
    return "".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(rng.randint(2, 4)))


class Stream:
    def __init__(self, seed: int, per_day: int) -> None:
        self.rng = random.Random(seed)
        words = list(dict.fromkeys(make_word(self.rng) for _ in range(VOCABULARY * 2)))[:VOCABULARY]
        self.words = words
        self.cumulative = list(accumulate(1.0 / (rank + 1) ** ZIPF_S for rank in range(len(words))))
        self.step = timedelta(seconds=86_400 / per_day)
        self.now = datetime(2024, 1, 1, tzinfo=UTC)
        self.events: list[tuple[datetime, list[str]]] = []
        self.count = 0

    def _new_event(self) -> tuple[datetime, list[str]]:
        rng = self.rng
        topic = [self.words[rng.randint(500, VOCABULARY - 1)] for _ in range(12)]
        names = [make_word(rng).capitalize() for _ in range(3)]
        figures = [str(rng.randint(10, 99_999)) for _ in range(2)]
        event = (self.now, topic + names + figures)
        self.events.append(event)
        return event

    def next(self) -> ClusterDoc:
        rng = self.rng
        self.now += self.step
        self.count += 1
        cutoff = self.now - timedelta(days=EVENT_LIFETIME_DAYS)
        self.events = [e for e in self.events if e[0] >= cutoff]
        if not self.events or rng.random() < 1.0 / MEAN_ARTICLES_PER_EVENT:
            event = self._new_event()
        else:
            event = rng.choice(self.events)
        vocabulary = event[1]
        background = rng.choices(self.words, cum_weights=self.cumulative, k=ARTICLE_WORDS)
        body = [rng.choice(vocabulary) if rng.random() < EVENT_SHARE else word for word in background]
        sentences = [" ".join(body[i : i + 20]) + "." for i in range(0, len(body), 20)]
        text = " ".join(s[0].upper() + s[1:] for s in sentences)
        title = " ".join(rng.choice(vocabulary) for _ in range(8))
        return ClusterDoc(id=f"a{self.count}", title=title, text=text, date=self.now, source=f"outlet{self.count % 50}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=300_000)
    parser.add_argument("--per-day", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    checkpoints = [n for n in (10_000, 30_000, 100_000, 300_000, 1_000_000, 3_000_000) if n <= args.articles]
    stream = Stream(args.seed, args.per_day)
    engine = StoryEngine()
    elapsed_window = 0.0
    reference: float | None = None
    for number in range(1, args.articles + 1):
        doc = stream.next()
        start = time.process_time()
        engine.add(doc)
        spent = time.process_time() - start
        if number > max((c for c in checkpoints if c < number), default=0) and number > (
            min((c for c in checkpoints if c >= number), default=0) - WINDOW
        ):
            elapsed_window += spent
        if number in checkpoints:
            ms = 1000 * elapsed_window / WINDOW
            reference = reference or ms
            open_stories = sum(1 for s in engine._stories.values() if s.open)
            postings = len(engine._postings)
            print(
                f"{number:>9,} articles: {ms:6.3f} ms/article ({1000 / ms:,.0f} articles/s) "
                f"ratio vs 10k x{ms / reference:.2f} | open stories {open_stories:,} | "
                f"stories {len(engine.story_ids()):,} | index terms {postings:,}",
                flush=True,
            )
            elapsed_window = 0.0


if __name__ == "__main__":
    main()
