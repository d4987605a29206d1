"""Story engine cost per article as the archive grows: ms/article near 10k articles vs near N articles.

    .venv/bin/python bench/cluster_scale.py [--articles 300000] [--per-day 1000] [--seed 7]

The stream is synthetic, generated in batches of 1,000 articles between timed stretches (generation is
not timed), from one seeded numpy Generator, so a seed gives the same stream on every run:
  * a vocabulary of 50,000 distinct made-up words (2-4 consonant-vowel syllables) whose background
    frequencies follow Zipf's law (s = 1.1), plus capitalised names (made-up words) and figures;
  * events: each has 12 event words drawn uniformly from the vocabulary's middle and tail (ranks 500 and
    on), 3 names and 2 figures (10-99,999); a new event starts with probability 1/8 per article (so every
    ~8 articles on average, and always when none is live) and stays live for 2 days of stream time;
  * an article (500 words, title of 8 words from its event's words, names and figures) picks its event
    uniformly among the live ones (or is the first article of a new one); each of its words is, with
    probability 0.3, one of the event's 17 words, names and figures (uniformly), else a Zipf background
    word; sentences of 20 words, each capitalised and ending with a full stop;
  * dates advance by 86400 / per_day seconds per article, so the 7-day window holds a steady number of
    stories (about per_day * 7 / 8) once the stream is a week old; sources cycle over 50 outlets.
Timing: process CPU time of ``engine.add`` (the machines this runs on are shared; wall time drifts with
the neighbours), the mean ms/article over 5,000 articles ending at each checkpoint (10k, 30k, 100k, 300k,
1M, ... up to --articles) and the ratio of each to the 10k figure; the target is <= 1.5 at 1M. The engine
state is bounded by the window, so a run to 300k shows whether cost has flattened; generation takes
~0.1 ms per article. Keep other CPU work off the machine while it runs: CPU time still rises with
contention (shared caches), which shows up as a false growth between checkpoints.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from newsloom.stories.cluster import StoryEngine
from newsloom.stories.storymodel import ClusterDoc

VOCABULARY = 50_000
ZIPF_S = 1.1
#: event words are drawn from this rank on: the head of the Zipf curve is function-word-like background
EVENT_WORDS_FROM_RANK = 500
EVENT_WORDS, EVENT_NAMES, EVENT_FIGURES = 12, 3, 2
ARTICLE_WORDS = 500
TITLE_WORDS = 8
SENTENCE_WORDS = 20
EVENT_SHARE = 0.3
EVENT_LIFETIME_DAYS = 2.0
MEAN_ARTICLES_PER_EVENT = 8
OUTLETS = 50
BATCH = 1_000
WINDOW = 5_000

_CONSONANTS = np.array(list("bcdfghjklmnprstvwz"))
_VOWELS = np.array(list("aeiou"))


def make_words(rng: np.random.Generator, count: int) -> list[str]:
    """``count`` made-up words of 2-4 consonant-vowel syllables (repeats possible)."""
    syllables = rng.integers(2, 5, size=count)
    consonants = _CONSONANTS[rng.integers(0, len(_CONSONANTS), size=(count, 4))]
    vowels = _VOWELS[rng.integers(0, len(_VOWELS), size=(count, 4))]
    pairs = np.char.add(consonants, vowels)
    return ["".join(row[:length]) for row, length in zip(pairs.tolist(), syllables.tolist(), strict=True)]


@dataclass(frozen=True, slots=True)
class Event:
    start: datetime
    #: event words, then names, then figures
    words: tuple[str, ...]


class Stream:
    """The synthetic article stream described in the module docstring."""

    def __init__(self, seed: int, per_day: int) -> None:
        self.rng = np.random.default_rng(seed)
        words: dict[str, None] = {}
        while len(words) < VOCABULARY:
            words.update(dict.fromkeys(make_words(self.rng, VOCABULARY)))
        self.words = np.array(list(words)[:VOCABULARY], dtype=object)
        weights = 1.0 / np.arange(1, VOCABULARY + 1) ** ZIPF_S
        self.probabilities = weights / weights.sum()
        self.step = timedelta(seconds=86_400 / per_day)
        self.now = datetime(2024, 1, 1, tzinfo=UTC)
        self.events: list[Event] = []
        self.count = 0

    def _new_event(self) -> Event:
        rng = self.rng
        topic = self.words[rng.integers(EVENT_WORDS_FROM_RANK, VOCABULARY, size=EVENT_WORDS)].tolist()
        names = [name.capitalize() for name in make_words(rng, EVENT_NAMES)]
        figures = [str(figure) for figure in rng.integers(10, 100_000, size=EVENT_FIGURES).tolist()]
        event = Event(self.now, tuple(topic + names + figures))
        self.events.append(event)
        return event

    def _event(self) -> Event:
        """The event of the next article (the clock has moved to its date)."""
        cutoff = self.now - timedelta(days=EVENT_LIFETIME_DAYS)
        self.events = [event for event in self.events if event.start >= cutoff]
        if not self.events or self.rng.random() < 1.0 / MEAN_ARTICLES_PER_EVENT:
            return self._new_event()
        return self.events[int(self.rng.integers(len(self.events)))]

    def batch(self, size: int) -> list[ClusterDoc]:
        """The next ``size`` articles."""
        rng = self.rng
        background = self.words[rng.choice(VOCABULARY, size=(size, ARTICLE_WORDS), p=self.probabilities)]
        from_event = rng.random((size, ARTICLE_WORDS)) < EVENT_SHARE
        event_word = rng.integers(0, EVENT_WORDS + EVENT_NAMES + EVENT_FIGURES, size=(size, ARTICLE_WORDS))
        title_word = rng.integers(0, EVENT_WORDS + EVENT_NAMES + EVENT_FIGURES, size=(size, TITLE_WORDS))
        docs: list[ClusterDoc] = []
        for row in range(size):
            self.now += self.step
            self.count += 1
            vocabulary = np.array(self._event().words, dtype=object)
            body = np.where(from_event[row], vocabulary[event_word[row]], background[row]).tolist()
            sentences = (" ".join(body[i : i + SENTENCE_WORDS]) for i in range(0, ARTICLE_WORDS, SENTENCE_WORDS))
            text = " ".join(sentence[0].upper() + sentence[1:] + "." for sentence in sentences)
            title = " ".join(vocabulary[title_word[row]].tolist())
            docs.append(
                ClusterDoc(
                    id=f"a{self.count}", title=title, text=text, date=self.now, source=f"outlet{self.count % OUTLETS}"
                )
            )
        return docs

    def __iter__(self) -> Iterator[ClusterDoc]:
        while True:
            yield from self.batch(BATCH)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=300_000)
    parser.add_argument("--per-day", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    checkpoints = [n for n in (10_000, 30_000, 100_000, 300_000, 1_000_000, 3_000_000) if n <= args.articles]
    engine = StoryEngine()
    elapsed_window = 0.0
    reference: float | None = None
    for number, doc in enumerate(Stream(args.seed, args.per_day), start=1):
        if number > args.articles:
            break
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
