"""A story's main entities from its name tally: name parts folded into the full name, bare common nouns dropped.

The story engine counts every name and multi-word name once per article, as written. Read raw, that tally
lists "Kim", "Jong" and "Kim Jong Un" as three entities, and "Council" (the head word of "Security Council")
as one. A reader wants each real-world entity once, under its full name, so:

1. a name that is two names of the tally run together ("North Korea Kim Jong Un", from "... of North Korea
   Kim Jong Un said") is split into them;
2. an adjective of a place in the tally ("North Korean", "Russian", "Ukrainian") counts as that place;
3. an acronym of a name in the tally (KCNA) counts as that name;
4. a name whose words appear, in order, inside a longer name of the tally is a part of it ("Kim", "Jong",
   "Central News Agency") and is folded into that full name (the most mentioned one when several contain it),
   unless the part is used much more often on its own (``PART_ALONE_RATIO``: "Trump" in a story that
   mentions "Trump Tower" once stays "Trump");
5. a name made only of common nouns capitalised as a name's head or title ("Council", "Agency",
   "Supreme Leader", "Street") or of months and days is dropped: on its own it names nothing.

Pure: a function of the tally and the story's size.
"""

from __future__ import annotations

from collections.abc import Mapping

from newsloom.stories.entities import (
    _ACRONYM,
    _CONNECTORS,
    _MONTHS_DAYS,
    _NOT_NAMES,
    EVENT_HEADS,
    FACILITY_HEADS,
    ORG_HEADS,
    TITLES,
)

# A part stays its own entity when it is mentioned in more than this many times the articles of the longest
# name containing it: "Kim" in 2 articles and "Kim Jong Un" in 2 fold; "Trump" in 9 and "Trump Tower" in 1 do
# not. 3 keeps a surname used alone after one full mention per article folded (counts are per article, so a
# surname repeated inside one article counts once).
PART_ALONE_RATIO = 3

COMMON_NOUNS = ORG_HEADS | EVENT_HEADS | FACILITY_HEADS | TITLES | _NOT_NAMES | _MONTHS_DAYS


def _contains(words: tuple[str, ...], part: tuple[str, ...]) -> bool:
    """``part`` occurs in ``words`` as consecutive words."""
    n = len(part)
    return n < len(words) and any(words[i : i + n] == part for i in range(len(words) - n + 1))


def is_common_noun(name: str) -> bool:
    """Capitalised common words that name nothing on their own ("Council", "President", "Supreme Leader")."""
    words = name.lower().split()
    return bool(words) and all(word in COMMON_NOUNS for word in words)


def fold_acronyms(tally: Mapping[str, int]) -> dict[str, int]:
    """An acronym folded into the name it abbreviates when the tally has it: KCNA -> Korean Central News Agency."""
    out = dict(tally)
    initials: dict[str, str] = {}
    for name in sorted(tally, key=lambda n: (-tally[n], n)):
        words = [w for w in name.split() if w.lower() not in _CONNECTORS]
        if len(words) >= 2:
            initials.setdefault("".join(w[0] for w in words).upper(), name)
    for name in tally:
        full = initials.get(name) if _ACRONYM.match(name) else None
        if full is not None and name in out:
            out[full] = max(out[full], out.pop(name))
    return out


def split_run_together(tally: Mapping[str, int]) -> dict[str, int]:
    """Names that are two other names of the tally side by side, replaced by those two (counts by max)."""
    out = dict(tally)
    for name in sorted(tally, key=lambda n: -len(n.split())):
        words = name.split()
        for cut in range(1, len(words)):
            left, right = " ".join(words[:cut]), " ".join(words[cut:])
            if left in out and right in out and (cut > 1 or len(words) - cut > 1):
                count = out.pop(name)
                out[left] = max(out[left], count)
                out[right] = max(out[right], count)
                break
    return out


def _place_of(adjective: str, names: Mapping[str, int]) -> str | None:
    """The place a demonym adjective is made from, when the tally has it: Korean -> Korea, Ukrainian -> Ukraine."""
    for strip, add in (("n", ""), ("ian", "e"), ("ese", ""), ("ese", "a")):
        if adjective.endswith(strip) and len(adjective) > len(strip) + 2:
            place = adjective[: -len(strip)] + add
            if place != adjective and place in names:
                return place
    return None


def fold_adjectives(tally: Mapping[str, int]) -> dict[str, int]:
    """Place adjectives folded into their place: "North Korean" -> "North Korea", "Russian" -> "Russia"."""
    out = dict(tally)
    for name in sorted(tally):
        place = _place_of(name, out)
        if place is not None and name in out:
            out[place] = max(out[place], out.pop(name))
    return out


def fold_name_parts(tally: Mapping[str, int]) -> dict[str, int]:
    """Names with their parts folded in: each full name counts the articles of its most mentioned part.

    Counts are per article, so a full name's count becomes the largest of its own and its parts' counts (an
    article that says "Kim" surely names Kim Jong Un too), never a sum, which would count an article twice.
    """
    names = {name: tuple(name.split()) for name in tally if name.strip()}
    folded: dict[str, int] = {name: tally[name] for name in names}
    # Longest names first: a part folds into the longest name containing it, and "Jong Un" and "Jong" both
    # go to "Kim Jong Un" rather than one into the other.
    by_length = sorted(names, key=lambda n: (-len(names[n]), -tally[n], n))
    for part in sorted(names, key=lambda n: (len(names[n]), n)):
        words = names[part]
        hosts = [full for full in by_length if _contains(names[full], words) and full in folded]
        if not hosts:
            continue
        longest = max(len(names[h]) for h in hosts)
        host = max((h for h in hosts if len(names[h]) == longest), key=lambda h: (folded[h], h))
        if tally[part] > PART_ALONE_RATIO * tally[host]:
            continue
        folded[host] = max(folded[host], folded.pop(part))
    return folded


def main_entities(tally: Mapping[str, int], article_count: int, limit: int) -> tuple[str, ...]:
    """The story's main entities, most mentioned first, full names only, no bare common nouns.

    A name needs two articles in a story of more than two, so one outlet's aside is not a main entity.
    Ties prefer the longer (more specific) name, then alphabetical order, so the list is deterministic.
    """
    floor = 2 if article_count > 2 else 1
    names = {name: count for name, count in tally.items() if not is_common_noun(name)}
    folded = fold_name_parts(fold_acronyms(fold_adjectives(split_run_together(names))))
    ranked = sorted(folded.items(), key=lambda item: (-item[1], -len(item[0].split()), item[0]))
    return tuple(name for name, count in ranked if count >= floor)[:limit]
