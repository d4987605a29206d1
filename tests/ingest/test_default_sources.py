"""The bundled default source list: parses, big and varied enough, every feed https and unique."""

from __future__ import annotations

from importlib.resources import files
from urllib.parse import urlsplit

import defusedxml.ElementTree as DefusedET

from newsloom.ingest.opml import DEFAULT_SOURCES_RESOURCE, build_opml, default_sources, parse_opml

REQUIRED_TOPICS = {"World", "Politics", "Business", "Technology", "Science", "Health", "Sport"}
REQUIRED_OUTLETS = [
    "bbc",
    "theguardian.com",
    "npr.org",
    "aljazeera.com",
    "dw.com",
    "france24.com",
    "nytimes.com",
    "washingtonpost.com",
    "cnbc.com",
    "abc.net.au",
    "cbc.ca",
    "timesofindia",
    "thehindu.com",
    "lemonde.fr",
    "spiegel.de",
    "elpais.com",
    "ansa.it",
    "nhk.or.jp",
    "japantimes.co.jp",
    "scmp.com",
    "arstechnica.com",
    "theverge.com",
    "wired.com",
    "nature.com",
    "science.org",
    "nasa.gov",
    "who.int",
    "espn.com",
]


def test_default_sources_parse_and_are_many_unique_https_feeds() -> None:
    sources = default_sources()
    urls = [s.xml_url for s in sources]
    assert len(set(urls)) >= 150
    assert all(urlsplit(u).scheme == "https" and urlsplit(u).netloc for u in urls)
    assert all(s.title and s.html_url and s.html_url.startswith("https://") for s in sources)
    assert all(s.category for s in sources)


def test_default_sources_cover_topics_and_outlets() -> None:
    sources = default_sources()
    topics = {s.category.split("/")[0] for s in sources if s.category}
    assert topics >= REQUIRED_TOPICS
    regions = {s.category for s in sources if s.category and s.category.startswith("World/")}
    assert len(regions) >= 4
    urls = " ".join(s.xml_url for s in sources)
    missing = [outlet for outlet in REQUIRED_OUTLETS if outlet not in urls]
    assert not missing


def test_default_sources_span_languages() -> None:
    raw = files("newsloom").joinpath(DEFAULT_SOURCES_RESOURCE).read_bytes()
    root = DefusedET.fromstring(raw)
    feeds = [o for o in root.iter("outline") if o.get("xmlUrl")]
    assert all(o.get("text") and o.get("title") for o in feeds)
    languages = {o.get("language", "").split("-")[0] for o in feeds} - {""}
    assert len(languages) >= 5
    assert {"en", "fr", "de", "es", "it", "ja"} <= languages


def test_default_sources_round_trip() -> None:
    sources = default_sources()
    assert parse_opml(build_opml(sources)) == sources
