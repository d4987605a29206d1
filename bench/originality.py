"""Originality benchmark: precision and recall of the "wire copy" label on streams with known wire copies.

Usage::

    .venv/bin/python bench/originality.py ../shared/data/clustering/gva-dev.jsonl [--wire-share 0.25] [--seed 1]

The stream is built from a dated news corpus (JSON Lines with ``id``, ``text``, ``date``, ``source``, ``cluster``;
the GVA dev file is one). Every record stays as its outlet's own report. Then, for a share of the incidents
(``--wire-share``), the first report is made a wire agency's story (AP, Reuters, AFP, UPI, dpa: published
under the agency's name and host, a dateline credit on most) and one to three other outlets of the corpus
reprint it later:

- ``reprint``: verbatim, credit kept or stripped, the outlet's chrome appended;
- ``trimmed``: the first 35-70% of its paragraphs;
- ``edited``: lightly edited: an intro line, 3% of words replaced, one sentence dropped, new headline.

As hard negatives, a few other local reports are reprinted by another outlet too (a copy of a local paper's
story is a reprint, not wire copy), and the corpus keeps its real independent reports of one incident by
several outlets. Records whose own text already credits a wire (real wire copy in the corpus, e.g.
"NEW ORLEANS (AP) —") are left out of the scored stream, since their truth is what the label is made from;
how many there were and how they are labelled is printed apart.

Every article goes through ``originality_index.label_next``, the call ingest makes, in publication order.
The reference measured in the same run: crediting only (a wire named in dateline, byline or closing line),
i.e. what a reader sees without comparing texts.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from newsloom.stories.dedupe import NearDuplicateIndex
from newsloom.stories.originality import credited_wire, label_article, wire_of_outlet
from newsloom.stories.originality_index import OriginalityIndex, label_next

WIRES = [("AP", "Associated Press", "apnews.com"), ("Reuters", "Reuters", "reuters.com"),
         ("AFP", "AFP", "afp.com"), ("UPI", "UPI", "upi.com"), ("dpa", "dpa", "dpa-international.com")]  # fmt: skip
CITIES = ["CHICAGO", "HOUSTON", "MEMPHIS, Tenn.", "PHILADELPHIA", "DETROIT", "NEW ORLEANS", "ATLANTA", "DALLAS"]
INTRO = "This story was provided by a wire service and is republished with permission."
CHROME = "Sign up for our newsletter.\nMost read\nFollow us on Facebook.\n© 2016 Local Media Group. All rights reserved."
TARGET = 0.95


@dataclass
class Item:
    key: str
    text: str
    date: datetime
    publisher: str | None
    host: str | None
    gold: str  # "own" | "wire" | "rewrite"
    gold_wire: str | None = None
    variant: str = "original"
    name: str = ""  # the record it was made from, for --show


def load(path: Path) -> list[dict[str, object]]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                rows.append(json.loads(line))
    return rows


def parse_date(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def editors(vocabulary: Sequence[str], rng: random.Random) -> dict[str, Callable[[str], str]]:
    def strip_credit(text: str) -> str:
        head, sep, rest = text.partition(" — ")
        return rest if sep and "(" in head and len(head) < 60 else text

    def reprint(text: str) -> str:
        body = text if rng.random() < 0.5 else strip_credit(text)
        return body + "\n\n" + CHROME

    def trimmed(text: str) -> str:
        body = text if rng.random() < 0.5 else strip_credit(text)
        paragraphs = [p for p in body.split("\n") if p.strip()]
        keep = max(2, round(len(paragraphs) * rng.uniform(0.35, 0.7)))
        return "\n\n".join(paragraphs[:keep])

    def edited(text: str) -> str:
        body = text if rng.random() < 0.3 else strip_credit(text)
        paragraphs = [p for p in body.split("\n") if p.strip()]
        if len(paragraphs) > 3:
            paragraphs.pop(rng.randrange(1, len(paragraphs)))
        tokens = "\n\n".join(paragraphs).split(" ")
        for i in rng.sample(range(len(tokens)), max(1, int(len(tokens) * 0.03))):
            tokens[i] = rng.choice(vocabulary)
        return INTRO + "\n\n" + " ".join(tokens)

    return {"reprint": reprint, "trimmed": trimmed, "edited": edited}


def build_stream(rows: list[dict[str, object]], wire_share: float, rng: random.Random) -> tuple[list[Item], list[Item]]:
    """The scored stream and, apart, the corpus records that already credit a wire."""
    usable = [r for r in rows if isinstance(r.get("text"), str) and str(r["text"]).strip() and parse_date(r.get("date"))]
    total = len(usable)
    # Page chrome saved as a record (sign-up walls, "get email notifications on <author>") repeats under
    # unrelated incidents: it is no report, and a "wire story" made of it would be "copied" by every other
    # such page. Two incidents never share a report, so a near-duplicate across incidents marks chrome.
    index, cluster_of, chrome = NearDuplicateIndex(), {}, set()
    for n, r in enumerate(usable):
        key, text = str(n), str(r["text"])
        cluster_of[key] = str(r.get("cluster"))
        for other in index.duplicates(text):
            if cluster_of[other] != cluster_of[key]:
                chrome.update((other, key))
        index.add(key, text, None)
    usable = [r for n, r in enumerate(usable) if str(n) not in chrome]
    credited = [r for r in usable if credited_wire(str(r["text"])) is not None]
    clean = [r for r in usable if credited_wire(str(r["text"])) is None]
    # outlets that reprint: the corpus's local hosts (not an agency's own site, such as bigstory.ap.org)
    hosts = sorted({str(r["source"]) for r in clean if r.get("source") and wire_of_outlet(None, str(r["source"])) is None})
    vocabulary = [w for r in clean[:300] for w in str(r["text"]).split() if w.isalpha()]
    edit = editors(vocabulary, rng)
    by_incident: dict[str, list[dict[str, object]]] = {}
    for r in clean:
        by_incident.setdefault(str(r.get("cluster")), []).append(r)
    incidents = sorted(by_incident)
    wired = set(rng.sample(incidents, round(len(incidents) * wire_share)))
    items: list[Item] = []
    for incident in incidents:
        members = sorted(by_incident[incident], key=lambda r: (parse_date(r["date"]) or datetime.min.replace(tzinfo=UTC), str(r["id"])))
        for n, r in enumerate(members):
            date = parse_date(r["date"])
            assert date is not None
            text, host = str(r["text"]), str(r.get("source") or "") or None
            if n == 0 and incident in wired:
                wire, name, wire_host = rng.choice(WIRES)
                if rng.random() < 0.7:
                    text = f"{rng.choice(CITIES)} ({wire}) — {text}"
                items.append(Item(f"w{r['id']}", text, date, name, wire_host, "own", None, "wire original"))
                for copy_number in range(rng.randint(1, 3)):
                    variant = rng.choice(sorted(edit))
                    outlet = rng.choice(hosts)
                    later = date + timedelta(minutes=rng.randint(10, 12 * 60))
                    items.append(Item(f"c{r['id']}-{copy_number}", edit[variant](text), later, None, outlet, "wire", wire, variant))
                continue
            items.append(Item(str(r["id"]), text, date, None, host, "own"))
            if rng.random() < 0.04:  # a local report reprinted by another outlet: a reprint, not wire copy
                outlet = rng.choice([h for h in hosts if h != host])
                later = date + timedelta(minutes=rng.randint(10, 12 * 60))
                items.append(Item(f"r{r['id']}", edit["reprint"](text), later, None, outlet, "rewrite", None, "local reprint"))
    print(f"corpus: {len(rows)} records, {total} with text and date, {total - len(usable)} page-chrome records (near-duplicates across incidents) left out")
    items.sort(key=lambda i: (i.date, i.key))
    for number, item in enumerate(items, 1):  # ingest keys are article ids: numbers, in arrival order
        item.name, item.key = item.key, str(number)
    natural = [Item(str(n), str(r["text"]), parse_date(r["date"]) or datetime.min.replace(tzinfo=UTC), None,
                    str(r.get("source") or "") or None, "wire", credited_wire(str(r["text"]))) for n, r in enumerate(credited, 1)]  # fmt: skip
    return items, natural


def run_stream(items: Sequence[Item]) -> tuple[dict[str, tuple[str, str | None]], float]:
    dedupe, index = NearDuplicateIndex(), OriginalityIndex()
    predicted: dict[str, tuple[str, str | None]] = {}
    start = time.perf_counter()
    for item in items:
        outlet = item.publisher or (f"host:{item.host}" if item.host else None)
        _, label = label_next(dedupe, index, item.key, text=item.text, published=item.date, author=None,
                              publisher=item.publisher, host=item.host, outlet=outlet)  # fmt: skip
        predicted[item.key] = (label.kind, label.wire)
    return predicted, time.perf_counter() - start


def credit_only(item: Item) -> tuple[str, str | None]:
    """The reference: what the article says of itself, without comparing it with earlier articles."""
    own_wire = wire_of_outlet(item.publisher, item.host)
    label = label_article(outlet=item.publisher or item.host, own_wire=own_wire, credit=credited_wire(item.text), copy_of=None)
    return label.kind, label.wire


def dedupe_only_seconds(items: Sequence[Item]) -> float:
    dedupe = NearDuplicateIndex()
    start = time.perf_counter()
    for item in items:
        dedupe.find_original(item.text, item.date)
        dedupe.add(item.key, item.text, item.date)
    return time.perf_counter() - start


def scores(items: Sequence[Item], predicted: dict[str, tuple[str, str | None]]) -> tuple[float, float, int, int, int]:
    tp = sum(1 for i in items if i.gold == "wire" and predicted[i.key][0] == "wire")
    fp = sum(1 for i in items if i.gold != "wire" and predicted[i.key][0] == "wire")
    fn = sum(1 for i in items if i.gold == "wire" and predicted[i.key][0] != "wire")
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall, tp, fp, fn


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path, help="dated JSON Lines corpus (e.g. ../shared/data/clustering/gva-dev.jsonl)")
    parser.add_argument("--wire-share", type=float, default=0.25, help="share of incidents whose first report is wire copy")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--show", type=int, default=0, help="print this many errors to read")
    args = parser.parse_args(argv)
    if not args.corpus.is_file():
        print(f"error: {args.corpus} is not a file", file=sys.stderr)
        return 2
    if not 0 < args.wire_share < 1:
        print("error: --wire-share must be between 0 and 1", file=sys.stderr)
        return 2
    rng = random.Random(args.seed)
    items, natural = build_stream(load(args.corpus), args.wire_share, rng)
    gold = Counter(i.gold for i in items)
    print(f"stream: {len(items)} articles ({gold['own']} own, {gold['wire']} wire copies, {gold['rewrite']} local reprints)")

    predicted, seconds = run_stream(items)
    reference = {i.key: credit_only(i) for i in items}
    baseline_seconds = dedupe_only_seconds(items)
    p, r, tp, fp, fn = scores(items, predicted)
    bp, br, *_ = scores(items, reference)
    named = sum(1 for i in items if i.gold == "wire" and predicted[i.key] == ("wire", i.gold_wire))
    print(f"newsloom   wire copy: precision {p:.3f}  recall {r:.3f}  (tp {tp}, fp {fp}, fn {fn}); wire named right {named}/{tp}")
    print(f"credit-only reference: precision {bp:.3f}  recall {br:.3f}; recall ratio newsloom/reference {r / br if br else float('inf'):.2f}")
    print(f"target >= {TARGET}: precision {'met' if p >= TARGET else 'NOT met'}, recall {'met' if r >= TARGET else 'NOT met'}")
    by_variant: dict[str, Counter[str]] = {}
    for item in items:
        by_variant.setdefault(item.variant, Counter())[predicted[item.key][0]] += 1
    for variant, counts in sorted(by_variant.items()):
        total = sum(counts.values())
        print(f"  {variant:14} {total:5}  " + "  ".join(f"{k} {counts[k] / total:.3f}" for k in ("own", "wire", "rewrite")))
    natural_predicted, _ = run_stream(natural)
    hits = sum(1 for i in natural if natural_predicted[i.key] == ("wire", i.gold_wire))
    print(f"corpus records already crediting a wire (left out above): {len(natural)}, labelled wire with that wire: {hits}")
    per_article = seconds / len(items) * 1e3
    print(f"labelling {per_article:.2f} ms/article; ratio to near-duplicate look-up alone {seconds / baseline_seconds:.2f}")
    if args.show:
        errors = [i for i in items if i.gold != "wire" and predicted[i.key][0] == "wire"]
        errors += [i for i in items if i.gold == "wire" and predicted[i.key][0] != "wire"]
        for item in errors[: args.show]:
            print(f"--- {item.name} gold {item.gold} ({item.variant}) predicted {predicted[item.key]} words {len(item.text.split())}\n{item.text[:300]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
