"""Labels each new article's originality from what earlier articles were: the ingest side of ``originality``.

The near-duplicate index says which earlier articles a text copies or reuses; this index remembers, for each
of them, its outlet and the wire it carries (the agency itself, or the wire it reprinted), so a copy of a copy
of AP copy is still AP copy. In memory, rebuilt from the story window at start like the other indexes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from newsloom.stories.dedupe import MIN_WORDS, NearDuplicateIndex, narrative_words, normalize_text
from newsloom.stories.originality import (
    REWRITE_CONTAINMENT,
    EarlierArticle,
    OriginalityLabel,
    article_wire,
    credited_wire,
    label_article,
    wire_of_outlet,
)

# Short texts (under dedupe.MIN_WORDS narrative words) are never near-duplicates by shingles: one changed word
# moves their score too much. A wire brief reprinted or cut short still opens with the agency's words, so a
# short text whose first OPENING_WORDS words (after any dateline) are an earlier article's first words is a
# copy of it. 15 words: stock openings of independent local reports ("Police are investigating a shooting
# that left one man dead") run to 8-12 words; bench/originality.py found no false match at 15.
OPENING_WORDS = 15
_DATELINE_HEAD = re.compile(r"^[^\n]{0,120}?\([^)\n]{1,40}\)\s*(?:--|[-—–:])\s*")
_WORD = re.compile(r"\w+")


def opening_key(text: str) -> str | None:
    """Hash of the first ``OPENING_WORDS`` words after a dateline, or None for a shorter text."""
    body = _DATELINE_HEAD.sub("", text.lstrip(), count=1)
    words = _WORD.findall(normalize_text(body[: OPENING_WORDS * 20]))[:OPENING_WORDS]
    if len(words) < OPENING_WORDS:
        return None
    return hashlib.blake2b(" ".join(words).encode(), digest_size=12).hexdigest()


@dataclass(frozen=True, slots=True)
class Opening:
    """What the index reads of a text's opening (``opening_of``): computable anywhere, ahead of time."""

    #: the text has at least ``MIN_WORDS`` narrative words (shingles find its copies, openings are not used)
    long: bool
    #: ``opening_key(text)``
    key: str | None


def opening_of(text: str) -> Opening:
    return Opening(len(narrative_words(text)) >= MIN_WORDS, opening_key(text))


class OriginalityIndex:
    """Outlet and carried wire of every indexed article, by key (article id as a string). Not thread-safe."""

    def __init__(self) -> None:
        self._known: dict[str, tuple[str | None, str | None]] = {}
        self._openings: dict[str, str] = {}  # opening_key -> the first key that opened so

    def __len__(self) -> int:
        return len(self._known)

    def remember(self, key: str, outlet: str | None, wire: str | None) -> None:
        self._known[key] = (outlet, wire)

    def forget(self, key: str) -> None:
        self._known.pop(key, None)

    def remember_opening(self, key: str, text: str, opening: Opening | None = None) -> None:
        """``opening``: ``opening_of(text)`` when computed already."""
        found = opening.key if opening is not None else opening_key(text)
        if found is not None:
            self._openings.setdefault(found, key)

    def same_opening(self, text: str, opening: Opening | None = None) -> str | None:
        """The first article that opened with the same words as ``text``, for short texts only."""
        if opening is None:
            if len(narrative_words(text)) >= MIN_WORDS:
                return None
            found = opening_key(text)
        elif opening.long:
            return None
        else:
            found = opening.key
        return self._openings.get(found) if found is not None else None

    def earlier(self, key: str, containment: float) -> EarlierArticle | None:
        known = self._known.get(key)
        if known is None or not key.isdigit():
            return None
        return EarlierArticle(int(key), known[0], known[1], containment)

    def label(
        self,
        key: str,
        *,
        text: str,
        author: str | None,
        publisher: str | None,
        host: str | None,
        outlet: str | None,
        original_key: str | None,
        similar: Sequence[tuple[str, float]] = (),
    ) -> OriginalityLabel:
        """Label the article and remember it (so later copies of it inherit its wire)."""
        own_wire = wire_of_outlet(publisher, host)
        copy_of = self.earlier(original_key, 1.0) if original_key is not None and original_key != key else None
        earlier = [e for k, score in similar if k != key and (e := self.earlier(k, score)) is not None]
        label = label_article(
            outlet=outlet, own_wire=own_wire, credit=credited_wire(text, author), copy_of=copy_of, similar=earlier
        )
        self.remember(key, outlet, article_wire(label, own_wire))
        return label


def label_next(
    near_duplicates: NearDuplicateIndex,
    index: OriginalityIndex,
    key: str,
    *,
    text: str,
    published: datetime | None,
    author: str | None,
    publisher: str | None,
    host: str | None,
    outlet: str | None,
    opening: Opening | None = None,
) -> tuple[str | None, OriginalityLabel]:
    """One arriving article, as ingest sees it: its original (if a copy), its label; then it is indexed.

    Returns the key of the earliest near-duplicate it copies (None for an original; ingest links it as a
    syndicated copy) and its label (which also knows short copies, by their opening). The ingest
    intake and ``bench/originality.py`` both go through here, so the bench measures what ingest does.
    ``opening``: ``opening_of(text)`` when computed already (in a poll's worker process); the text's
    near-duplicate sketch can be handed over the same way (``NearDuplicateIndex.prime``).
    """
    original = near_duplicates.find_original(text, published)
    if original == key:
        original = None
    copied = original if original is not None else index.same_opening(text, opening)
    if copied == key:
        copied = None
    # text reused below the copy threshold (rewrites), looked up before the article indexes itself
    similar = near_duplicates.similar(text, REWRITE_CONTAINMENT)
    label = index.label(
        key, text=text, author=author, publisher=publisher, host=host, outlet=outlet, original_key=copied,
        similar=similar,
    )
    near_duplicates.add(key, text, published)
    index.remember_opening(key, text, opening)
    return original, label
