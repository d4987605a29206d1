"""Generated news feeds on the loopback server: many outlets covering the same events at the same moment.

Each event has a pool of sentences; an outlet's article on it takes some of them and adds sentences of its own,
so the articles of one event are similar but never identical (every article is stored, none is a duplicate by
content hash). Items carry their full text in <content:encoded>, except every ``teaser_every``-th one, which
has a short teaser and an article page on the server (a page fetch). Deterministic for a given seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape

from newsloom.types import OpmlOutline
from tests.loopback import LoopbackServer

SYLLABLES = ["ka", "lo", "mer", "tan", "vi", "sor", "del", "pa", "ru", "nek", "bra", "ol", "zen", "fi", "gar", "tu"]
VERBS = ["approves", "rejects", "announces", "delays", "opens", "closes", "expands", "investigates"]
NOUNS = ["bridge", "budget", "treaty", "factory", "railway", "election", "reform", "harbour", "tariff", "vaccine"]
FILLER = ["officials", "said", "the", "plan", "would", "cost", "about", "million", "according", "to", "reports",
          "residents", "expected", "decision", "next", "week", "after", "months", "of", "debate", "council"]


def _name(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()


@dataclass
class Event:
    headline: str
    sentences: list[str]


@dataclass
class NewsFeeds:
    """The served feeds: ``feed_urls`` to subscribe, ``article_urls`` every item's link (all distinct)."""

    feed_urls: list[str] = field(default_factory=list)
    article_urls: list[str] = field(default_factory=list)
    page_urls: list[str] = field(default_factory=list)  # items whose text comes from a page fetch

    def outlines(self) -> list[OpmlOutline]:
        return [OpmlOutline(xml_url=url, title=f"Outlet {i}") for i, url in enumerate(self.feed_urls)]


def make_events(rng: random.Random, count: int) -> list[Event]:
    events = []
    for _ in range(count):
        a, b, place = _name(rng), _name(rng), _name(rng)
        noun, verb = rng.choice(NOUNS), rng.choice(VERBS)
        figure = rng.randint(12, 990)
        sentences = [
            f"{a} {verb} the {noun} in {place} on Tuesday, a decision worth {figure} million that {b} had opposed.",
            f"The {noun} in {place} has divided {a} and {b} for months, and {figure} million is at stake.",
            f"{b} said the {noun} would hurt {place}, while {a} argued it was the only way forward.",
            f"Residents of {place} gathered outside as {a} presented the {noun} plan to reporters.",
            f"Analysts expect the {noun} to reach {place} within two years if {a} keeps its majority.",
            f"{a} first proposed the {noun} for {place} in spring; {b} called a vote against it.",
            f"The vote on the {noun} in {place} ended {figure} to {figure // 3}, officials from {a} said.",
            f"Critics in {place} warned that {a} had underestimated the cost of the {noun} by far.",
        ]
        events.append(Event(f"{a} {verb} {place} {noun}", sentences))
    return events


def _own_sentence(rng: random.Random, outlet: int, serial: int) -> str:
    words = " ".join(rng.choice(FILLER) for _ in range(18))
    return f"Outlet {outlet} report {serial}: {words}."


def serve_news(
    server: LoopbackServer,
    *,
    feeds: int,
    items_per_feed: int,
    events: int,
    teaser_every: int = 10,
    seed: int = 6,
) -> NewsFeeds:
    rng = random.Random(seed)
    pool = make_events(rng, events)
    result = NewsFeeds()
    for outlet in range(feeds):
        entries = []
        for j in range(items_per_feed):
            event = pool[(outlet + j * feeds) % events]
            serial = outlet * items_per_feed + j
            body = rng.sample(event.sentences, 6) + [_own_sentence(rng, outlet, serial) for _ in range(5)]
            rng.shuffle(body)
            paragraphs = "".join(f"<p>{escape(s)}</p>" for s in body)
            path = f"/o{outlet}/news/{serial}"
            link = server.url(path)
            result.article_urls.append(link)
            title = escape(f"{event.headline} ({outlet})")
            minute = (j * 7 + outlet) % 60
            published = format_datetime(_when(j, minute), usegmt=True)
            if teaser_every and serial % teaser_every == teaser_every - 1:
                server.add(path, _page(title, paragraphs, outlet), headers={"Content-Type": "text/html; charset=utf-8"})
                result.page_urls.append(link)
                content = f"<description>{escape(body[0][:80])}</description>"
            else:
                content = f"<description>{escape(body[0])}</description><content:encoded><![CDATA[{paragraphs}]]></content:encoded>"
            entries.append(f"<item><title>{title}</title><link>{link}</link><guid>{link}</guid><pubDate>{published}</pubDate>{content}</item>")
        xml = (
            "<?xml version='1.0' encoding='utf-8'?><rss version='2.0' xmlns:content='http://purl.org/rss/1.0/modules/content/'>"
            f"<channel><title>Outlet {outlet}</title><link>{server.url(f'/o{outlet}/')}</link><description>News</description>"
            + "".join(entries)
            + "</channel></rss>"
        )
        result.feed_urls.append(server.add(f"/o{outlet}/feed.xml", xml, headers={"Content-Type": "application/rss+xml"}))
    return result


def _when(j: int, minute: int) -> datetime:
    """Items of one feed an hour apart, all within the last day (inside every story window)."""
    return datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=j, minutes=minute)


def _page(title: str, paragraphs: str, outlet: int) -> str:
    return (
        f"<html><head><title>{title}</title><meta property='og:site_name' content='Outlet {outlet}'></head>"
        f"<body><nav><a href='/'>Home</a></nav><article><h1>{title}</h1>{paragraphs}</article>"
        "<footer>Subscribe to our newsletter</footer></body></html>"
    )
