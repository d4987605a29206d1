"""Whose reporting an article is: the outlet's own, a wire agency's copy reprinted, or rewritten from another outlet.

Pure: every label is a function of the article and what the caller says about earlier articles (no I/O).

Evidence, strongest first:

1. the article credits a wire where wire copy is credited: the dateline ("NEW ORLEANS (AP) —"), the byline
   or author field ("By The Associated Press", "Jane Doe, Reuters"), or a closing credit line ("Copyright 2025
   The Associated Press", "(Reporting by ...; Editing by ...)", "© AFP"). A wire named in running text
   ("Reuters reported that ...") is attribution, not a credit, and does not count;
2. it is a near-duplicate of an earlier article (``dedupe.NearDuplicateIndex``, containment >= 0.65): a copy
   of a wire agency's article (or of one that credits a wire) is wire copy; a copy of another outlet's
   article is a reprint of that outlet's work (``rewrite``); a copy of its own outlet's article is its own;
3. it shares a large part of its narrative with an earlier article of another outlet
   (``REWRITE_CONTAINMENT``) without being a copy: rewritten from that article;
4. otherwise it is the outlet's own reporting.

A wire agency's own articles (publisher "Reuters", host reuters.com) are that agency's own reporting.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

OriginalityKind = Literal["own", "wire", "rewrite"]
KINDS: tuple[OriginalityKind, ...] = ("own", "wire", "rewrite")

# Share of an article's narrative 5-gram shingles found in one earlier article of another outlet, at or above
# which it is "rewritten from" that article. dedupe.py measured independent reports of one event at <= 0.30
# (AllSides leads, the seed pair 0.13) and outlets' own rewrites of one wire text at 0.40-0.60; 0.40 keeps
# the independent reports out.
REWRITE_CONTAINMENT = 0.40

# name -> (credit spellings as written in datelines and bylines, web hosts of the agency).
# Spellings are matched as whole words, case-sensitively for the short acronyms ("AP", "PA"), so "ap" in
# running text or "Pa." (Pennsylvania) are not credits.
WIRES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "AP": (("AP", "Associated Press", "The Associated Press"), ("apnews.com", "ap.org", "bigstory.ap.org")),
    "Reuters": (("Reuters", "REUTERS", "Thomson Reuters"), ("reuters.com",)),
    "AFP": (("AFP", "Agence France-Presse", "Agence France Presse"), ("afp.com",)),
    "dpa": (("dpa", "DPA", "Deutsche Presse-Agentur"), ("dpa.com", "dpa-international.com")),
    "Yonhap": (("Yonhap", "YONHAP", "Yonhap News Agency"), ("yna.co.kr", "en.yna.co.kr")),
    "PA": (("PA", "PA Media", "Press Association", "PA Wire"), ("pamediagroup.com",)),
    "ANI": (("ANI", "Asian News International"), ("aninews.in",)),
    "Xinhua": (("Xinhua", "XINHUA", "Xinhua News Agency"), ("xinhuanet.com", "news.cn")),
    "Kyodo": (("Kyodo", "KYODO", "Kyodo News"), ("kyodonews.net",)),
    "EFE": (("EFE", "Agencia EFE"), ("efe.com",)),
    "ANSA": (("ANSA",), ("ansa.it",)),
    "AAP": (("AAP", "Australian Associated Press"), ("aap.com.au",)),
    "PTI": (("PTI", "Press Trust of India"), ("ptinews.com",)),
    "IANS": (("IANS",), ("ians.in",)),
    "UPI": (("UPI", "United Press International"), ("upi.com",)),
    "Anadolu": (("Anadolu", "Anadolu Agency", "AA"), ("aa.com.tr",)),
    "Canadian Press": (("CP", "The Canadian Press", "Canadian Press"), ("thecanadianpress.com",)),
    "Bloomberg": (("Bloomberg", "Bloomberg News"), ("bloomberg.com",)),
    "KCNA": (("KCNA", "Korean Central News Agency"), ("kcna.kp",)),
    "TASS": (("TASS", "Tass"), ("tass.com", "tass.ru")),
}

_SPELLING_TO_WIRE = {spelling: name for name, (spellings, _) in WIRES.items() for spelling in spellings}
_HOST_TO_WIRE = {host: name for name, (_, hosts) in WIRES.items() for host in hosts}
_ALTERNATION = "|".join(re.escape(s) for s in sorted(_SPELLING_TO_WIRE, key=len, reverse=True))
# A dateline credit opening a paragraph: "NEW ORLEANS (AP) —", "Killingly (AP) —", "SEOUL, March 21 (Yonhap)
# --", "(Reuters) -". Only in the opening characters: a dateline opens the story (after at most an editor's
# note or a republishing line above it).
_DATELINE = re.compile(rf"^[^\n]{{0,120}}?\((?:{_ALTERNATION})(?:/[^)]{{1,30}})?\)\s*(?:[-—–:]|--)", re.MULTILINE)
# A byline line opening the text: "By The Associated Press", "By REUTERS", "BY AFP".
_OPENING_BYLINE = re.compile(rf"^\s*(?:By|BY|by)\s+(?:{_ALTERNATION})\s*$", re.MULTILINE)
# Closing credits in the last lines of the text.
_CLOSING = re.compile(
    rf"(?:Copyright|©|\(c\))\s*(?:\d{{4}}\s*)?(?:{_ALTERNATION})\b"
    rf"|^\s*[-—–]+\s*(?:{_ALTERNATION})\s*$"
    rf"|^\s*\((?:{_ALTERNATION})\)\s*$",
    re.MULTILINE,
)
# Reuters' closing line names no agency: "(Reporting by Hyonhee Shin; Editing by Ed Davies)".
_REUTERS_TRAILER = re.compile(r"\((?:Reporting|Additional reporting|Writing) by [^)]{2,200}(?:Editing|editing) by [^)]{2,120}\)")
_AUTHOR_WIRE = re.compile(rf"(?<![\w-])(?:{_ALTERNATION})(?![\w-])")

OPENING_CHARS = 400
CLOSING_CHARS = 400


@dataclass(frozen=True, slots=True)
class OriginalityLabel:
    """How original one article is. ``wire`` names the agency for wire copy (or a rewrite of it);
    ``copied_from`` is the earlier article it was reprinted or rewritten from, when one is known."""

    kind: OriginalityKind
    wire: str | None = None
    copied_from: int | None = None


@dataclass(frozen=True, slots=True)
class EarlierArticle:
    """An earlier article this one matched: its id, outlet (``outlets.outlet_key``), wire and containment."""

    id: int
    outlet: str | None
    wire: str | None
    containment: float


def wire_of_outlet(publisher: str | None, host: str | None) -> str | None:
    """The agency an outlet is, when it is one ("Reuters", reuters.com); None for every other outlet."""
    name = publisher.strip() if publisher else ""
    if name in _SPELLING_TO_WIRE:
        return _SPELLING_TO_WIRE[name]
    if host:
        for candidate, wire in _HOST_TO_WIRE.items():
            if host == candidate or host.endswith("." + candidate):
                return wire
    return None


def credited_wire(text: str, author: str | None = None) -> str | None:
    """The wire agency the article credits (dateline, byline or closing credit), or None."""
    if author:
        found = _AUTHOR_WIRE.search(author)
        if found:
            return _SPELLING_TO_WIRE[found.group(0)]
    opening = text[:OPENING_CHARS].lstrip()
    found = _DATELINE.search(opening)
    if found:
        return _wire_in(found.group(0))
    found = _OPENING_BYLINE.search(opening)
    if found:
        return _wire_in(found.group(0))
    closing = text[-CLOSING_CHARS:]
    found = _CLOSING.search(closing)
    if found:
        return _wire_in(found.group(0))
    if _REUTERS_TRAILER.search(closing):
        return "Reuters"
    return None


def _wire_in(credit: str) -> str | None:
    found = _AUTHOR_WIRE.search(credit)
    return _SPELLING_TO_WIRE[found.group(0)] if found else None


def label_article(
    *,
    outlet: str | None,
    own_wire: str | None,
    credit: str | None,
    copy_of: EarlierArticle | None,
    similar: Sequence[EarlierArticle] = (),
) -> OriginalityLabel:
    """The label of one article (see the module docstring for the order of evidence).

    ``own_wire``: the agency the article's outlet is (``wire_of_outlet``); ``credit``: the wire it credits
    (``credited_wire``); ``copy_of``: the earliest article it is a near-duplicate of; ``similar``: earlier
    articles sharing part of its narrative, any order.
    """
    if own_wire is not None:
        return OriginalityLabel("own")
    if credit is not None:
        source = copy_of if copy_of is not None and copy_of.outlet != outlet else None
        return OriginalityLabel("wire", wire=credit, copied_from=source.id if source else None)
    if copy_of is not None and (copy_of.outlet is None or copy_of.outlet != outlet):
        if copy_of.wire is not None:
            return OriginalityLabel("wire", wire=copy_of.wire, copied_from=copy_of.id)
        return OriginalityLabel("rewrite", copied_from=copy_of.id)
    if copy_of is not None:
        return OriginalityLabel("own")
    others = [s for s in similar if s.containment >= REWRITE_CONTAINMENT and (s.outlet is None or s.outlet != outlet)]
    if others:
        best = max(others, key=lambda s: (s.containment, -s.id))
        return OriginalityLabel("rewrite", wire=best.wire, copied_from=best.id)
    return OriginalityLabel("own")


def article_wire(label: OriginalityLabel, own_wire: str | None) -> str | None:
    """The wire an article carries for articles copied from it later: the agency itself, or the wire it reprinted."""
    return own_wire if own_wire is not None else (label.wire if label.kind == "wire" else None)


@dataclass(frozen=True, slots=True)
class OutletShare:
    """One outlet's articles over a window by label, with the wires it reprinted (most first)."""

    outlet: str
    total: int
    own: int
    wire: int
    rewrite: int
    wires: tuple[tuple[str, int], ...] = ()

    def share(self, kind: OriginalityKind) -> float:
        return getattr(self, kind) / self.total if self.total else 0.0


def outlet_share(outlet: str, rows: Iterable[tuple[OriginalityKind, str | None, int]]) -> OutletShare:
    """Fold ``(kind, wire, count)`` rows into one outlet's shares."""
    counts = dict.fromkeys(KINDS, 0)
    wires: dict[str, int] = {}
    for kind, wire, count in rows:
        counts[kind] = counts.get(kind, 0) + count
        if kind == "wire" and wire:
            wires[wire] = wires.get(wire, 0) + count
    ranked = tuple(sorted(wires.items(), key=lambda item: (-item[1], item[0])))
    return OutletShare(outlet, sum(counts.values()), counts["own"], counts["wire"], counts["rewrite"], ranked)


def share_text(share: OutletShare) -> str:
    """``62% own, 30% wire (AP 20, Reuters 4), 8% rewritten`` for pages and the CLI."""
    if not share.total:
        return "no labelled articles"
    parts = [f"{round(100 * share.share('own'))}% own"]
    if share.wire:
        named = ", ".join(f"{name} {count}" for name, count in share.wires[:3])
        parts.append(f"{round(100 * share.share('wire'))}% wire" + (f" ({named})" if named else ""))
    if share.rewrite:
        parts.append(f"{round(100 * share.share('rewrite'))}% rewritten")
    return ", ".join(parts)
