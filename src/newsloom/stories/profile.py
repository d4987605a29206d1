"""A story's event profile: the tally of its articles' event-signature keys (``stories.signature``), and
the index of open stories by their strong keys, so that a follow-up finds its story by the street or the
victim's name even when it shares few words with it.

Pure data structures over ``StoryState``; the engine calls them when an article joins, a story closes or
two stories merge.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from newsloom.stories.signature import STRONG_KINDS, EventSignature
from newsloom.stories.state import StoryState

#: a story's key tally is pruned to its most frequent keys past this size
PROFILE_LIMIT = 96
#: event days within this many days of each other are one day (late-night events, time zones, "Friday
#: night" reported as "early Saturday")
EVENT_DAY_SLACK = 1
#: the signature index remembers how many stories held each key for this many keys at most (~100 MB)
SEEN_LIMIT = 1_000_000


def tally(story: StoryState, signature: EventSignature) -> None:
    """Count the article's keys into the story's profile (once per article)."""
    profile = story.profile
    for key in signature.all_keys():
        profile[key] = profile.get(key, 0) + 1
    if len(profile) > PROFILE_LIMIT:
        top = sorted(profile.items(), key=lambda item: -item[1])[: PROFILE_LIMIT // 2]
        story.profile = dict(top)


def merge(older: StoryState, younger: StoryState) -> None:
    for key, count in younger.profile.items():
        older.profile[key] = older.profile.get(key, 0) + count


@dataclass(frozen=True, slots=True)
class Evidence:
    """What an article's signature says about one candidate story."""

    #: the article's rare strong keys (street, full name) that the story's profile holds
    shared_keys: int = 0
    #: the article's supporting keys (place, ages) that the story's profile holds
    shared_support: int = 0
    #: the article's event day is one of the story's (within ``EVENT_DAY_SLACK``)
    day_match: bool = False
    #: the article's event day is none of the story's, and the story gave some
    day_conflict: bool = False


NO_EVIDENCE = Evidence()


def evidence(story: StoryState, signature: EventSignature, rare_keys: Iterable[str]) -> Evidence:
    """Compare an article's signature (``rare_keys``: its strong keys that are rare among open stories)
    with a story's profile."""
    held = story.profile
    if not held or not signature.all_keys():
        return NO_EVIDENCE
    shared = sum(1 for key in rare_keys if key in held)
    support = sum(1 for key in signature.supporting if key in held and not key.startswith("ev:"))
    match = conflict = False
    if signature.event_day is not None:
        days = [int(key[3:]) for key in held if key.startswith("ev:")]
        match = any(abs(day - signature.event_day) <= EVENT_DAY_SLACK for day in days)
        conflict = bool(days) and not match
    return Evidence(shared, support, match, conflict)


class SignatureIndex:
    """Open stories by strong signature key, and how many stories ever held each key.

    A key held by more than ``rare_stories`` stories, open now or ever, says nothing about which incident:
    a town written like a name ("San Antonio"), a police spokesman, a reporter's byline, page chrome
    ("Privacy Policy"). Those are learned from the stream, so no list of them is needed.
    """

    def __init__(self, rare_stories: int) -> None:
        self.rare_stories = rare_stories
        self._postings: dict[str, dict[str, None]] = {}
        #: stories ever posted under each key; pruned of single-story keys past ``SEEN_LIMIT`` entries
        self._seen: dict[str, int] = {}

    def rare(self, signature: EventSignature) -> tuple[str, ...]:
        """The article's strong keys that some open story holds and at most ``rare_stories`` stories ever did."""
        postings, seen, cap = self._postings, self._seen, self.rare_stories
        return tuple(key for key in signature.strong if key in postings and seen.get(key, 0) <= cap)

    def stories(self, keys: Iterable[str], limit: int) -> dict[str, None]:
        """Ids of the open stories holding most of ``keys``, at most ``limit`` (ties: the newest posting
        first). Bounded: each rare key is in at most ``rare_stories`` open stories."""
        found: dict[str, int] = {}
        for key in keys:
            for story_id in reversed(self._postings.get(key, {})):
                found[story_id] = found.get(story_id, 0) + 1
        ranked = sorted(found.items(), key=lambda item: -item[1])[:limit]  # sorted is stable: order of finding
        return dict.fromkeys(story_id for story_id, _ in ranked)

    def post(self, story: StoryState, signature: EventSignature) -> None:
        held = set(story.posted_keys)
        added = [key for key in signature.strong if key not in held]
        seen = self._seen
        for key in added:
            self._postings.setdefault(key, {})[story.id] = None
            seen[key] = seen.get(key, 0) + 1
        if len(seen) > SEEN_LIMIT:
            # the keys of one story only are the many (names, streets); what they forget is a story's worth
            self._seen = {key: count for key, count in seen.items() if count > 1}
        if added:
            story.posted_keys = story.posted_keys + tuple(added)

    def unpost(self, story: StoryState) -> None:
        for key in story.posted_keys:
            posting = self._postings.get(key)
            if posting is None:
                continue
            posting.pop(story.id, None)
            if not posting:
                del self._postings[key]
        story.posted_keys = ()

    def repost(self, story: StoryState) -> None:
        """Post a story under every strong key of its profile (after a merge)."""
        for key in story.posted_keys:  # the merged story is one story: its keys are not counted again
            self._seen[key] = self._seen.get(key, 1) - 1
        self.unpost(story)
        strong = tuple(key for key in story.profile if key.startswith(STRONG_KINDS))
        self.post(story, EventSignature(strong=strong))
