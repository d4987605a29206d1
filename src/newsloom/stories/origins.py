"""Who reported a story first and what each outlet added, from the comparison's timeline. Pure.

The comparison walks the story's articles in publication order and lists, per article, the claims no earlier
article made (``timeline[].new_claims``). Grouped by outlet, that says which outlet reported first and which
claims each later outlet added; with each article's originality label beside it, a reader sees at a glance
that three outlets ran the AP text and one went and found something new.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from newsloom.stories.originality import OriginalityLabel

# Claims listed per outlet: pages and the API show the first few of what an outlet added, counted in full.
ADDED_SHOWN = 5


@dataclass(frozen=True, slots=True)
class OutletOrigin:
    """One outlet's part in a story: when it first reported, how its articles are labelled, what it added."""

    outlet: str
    first_at: datetime | None
    articles: int
    labels: tuple[str, ...]  # "own", "wire (AP)", "rewrite", one per kind found, most common first
    added_count: int
    added: tuple[str, ...]  # the first ``ADDED_SHOWN`` claims it was first to make, in the text's words


@dataclass(frozen=True, slots=True)
class StoryOrigins:
    first_outlet: str | None
    first_at: datetime | None
    outlets: tuple[OutletOrigin, ...]  # in the order they first reported


@dataclass(frozen=True, slots=True)
class OriginArticle:
    """An article of the story as origins sees it: its outlet's display name, date and label (if any)."""

    outlet: str
    at: datetime | None
    label: OriginalityLabel | None


def label_text(label: OriginalityLabel | None) -> str:
    if label is None:
        return "not labelled"
    if label.kind == "wire":
        return f"wire ({label.wire})" if label.wire else "wire"
    if label.kind == "rewrite":
        return "rewrite"
    return "own"


def story_origins(articles: Sequence[OriginArticle], comparison: Mapping[str, Any] | None) -> StoryOrigins:
    """``articles`` in the comparison's article order (index i is the comparison's article i).

    Without a comparison (a story of one article) every outlet is listed with what it has, nothing added.
    """
    claims = {c["id"]: c for c in (comparison or {}).get("claims", [])}
    added: dict[str, list[str]] = {}
    for step in (comparison or {}).get("timeline", []):
        index = step.get("article")
        if not isinstance(index, int) or not 0 <= index < len(articles):
            continue
        outlet = articles[index].outlet
        for claim_id in step.get("new_claims", []):
            claim = claims.get(claim_id)
            if claim is None or claim.get("caption") or not claim.get("sentences"):
                continue
            sentence = next((s for s in claim["sentences"] if s.get("article") == index), claim["sentences"][0])
            added.setdefault(outlet, []).append(str(sentence["text"]))
    by_outlet: dict[str, list[OriginArticle]] = {}
    for article in articles:
        by_outlet.setdefault(article.outlet, []).append(article)
    rows = []
    for outlet, members in by_outlet.items():
        dates = [a.at for a in members if a.at is not None]
        counts: dict[str, int] = {}
        for a in members:
            counts[label_text(a.label)] = counts.get(label_text(a.label), 0) + 1
        labels = tuple(name for name, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0])))
        claims_added = added.get(outlet, [])
        rows.append(
            OutletOrigin(outlet, min(dates) if dates else None, len(members), labels, len(claims_added),
                         tuple(claims_added[:ADDED_SHOWN]))
        )  # fmt: skip
    rows.sort(key=lambda r: (r.first_at is None, r.first_at or datetime.max, r.outlet))
    first = rows[0] if rows else None
    return StoryOrigins(first.outlet if first else None, first.first_at if first else None, tuple(rows))
