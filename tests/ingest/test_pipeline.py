"""Polling end to end: loopback feeds -> fetch -> parse -> extract -> store, through the service layer."""

from __future__ import annotations

import csv
import hashlib
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from newsloom.service import Service
from newsloom.settings import load_settings
from tests.conftest import SHARED
from tests.loopback import LoopbackServer

PARAGRAPH = (
    "The city council voted on Tuesday to approve the new harbour bridge after a debate that lasted "
    "more than six hours, with members of both parties raising questions about cost and timing. "
)


def page(title: str, body: str) -> str:
    paragraphs = "".join(f"<p>{body} {i}. {PARAGRAPH}</p>" for i in range(5))
    return (
        f"<html><head><title>{title}</title><meta property='og:site_name' content='Harbour Times'></head>"
        f"<body><nav><a href='/'>Home</a> <a href='/world'>World</a></nav><article><h1>{title}</h1>{paragraphs}"
        "</article><footer>Subscribe to our newsletter</footer></body></html>"
    )


def rss(base: str, items: list[tuple[str, str, str | None]]) -> str:
    entries = "".join(
        f"<item><title>{title}</title><link>{base}{path}</link><guid>{base}{path}</guid>"
        f"<pubDate>Tue, 18 Mar 2025 1{i}:00:00 GMT</pubDate>"
        + (f"<description><![CDATA[{content}]]></description>" if content else "<description>Short teaser.</description>")
        + "</item>"
        for i, (title, path, content) in enumerate(items)
    )
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>Harbour Times</title>"
        f"<link>{base}/</link><description>News</description>{entries}</channel></rss>"
    )


def conditional(body: bytes, content_type: str) -> object:
    """A handler that answers If-None-Match / If-Modified-Since with 304, like a well-behaved feed server."""
    etag = '"' + hashlib.sha1(body).hexdigest()[:12] + '"'
    modified = formatdate(1742300000, usegmt=True)

    def handler(req: BaseHTTPRequestHandler) -> None:
        if req.headers.get("If-None-Match") == etag or req.headers.get("If-Modified-Since") == modified:
            req.send_response(304)
            req.send_header("ETag", etag)
            req.send_header("Content-Length", "0")
            req.end_headers()
            return
        req.send_response(200)
        req.send_header("Content-Type", content_type)
        req.send_header("ETag", etag)
        req.send_header("Last-Modified", modified)
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        req.wfile.write(body)

    return handler


@pytest.fixture
def svc(tmp_path: Path) -> Service:
    settings = load_settings(
        env={}, data_dir=str(tmp_path), allow_private_networks=True, per_host_delay_s=0.0,
        per_host_concurrency=8, respect_robots=True,
    )
    service = Service(settings)
    yield service
    service.close()


def test_poll_stores_items_then_answers_304(svc: Service, loopback: LoopbackServer) -> None:
    base = loopback.base_url
    full = "<p>" + ("Full text of the feed item about the harbour bridge vote. " * 25) + "</p>"
    feed = rss(base, [("Bridge approved", "/a/bridge", full), ("Tunnel delayed", "/a/tunnel", None)]).encode()
    loopback.add_raw("/feed.xml", conditional(feed, "application/rss+xml"))  # type: ignore[arg-type]
    loopback.add("/a/tunnel", page("Tunnel delayed", "The tunnel project was delayed again"), headers={"Content-Type": "text/html"})
    loopback.add("/robots.txt", "User-agent: *\nAllow: /\n", headers={"Content-Type": "text/plain"})
    svc.subscribe([__import__("newsloom").OpmlOutline(xml_url=loopback.url("/feed.xml"))])

    first = svc.update(all_sources=True)
    assert [o.status for o in first] == ["ok"], first
    assert first[0].new_articles == 2
    stored = {a.title: a for a in svc.articles()}
    assert set(stored) == {"Bridge approved", "Tunnel delayed"}
    assert "Full text of the feed item" in stored["Bridge approved"].text
    assert "tunnel project was delayed again" in stored["Tunnel delayed"].text  # summary-only item: page fetched
    assert len(loopback.hits("/a/bridge")) == 0  # full-content item: no page fetch
    source = svc.sources()[0]
    assert source.etag and source.last_success_at and source.error_count == 0 and source.next_poll_at

    second = svc.update(all_sources=True)
    assert [o.status for o in second] == ["not-modified"]
    assert loopback.hits("/feed.xml")[-1].headers.get("if-none-match") == source.etag
    assert len(svc.articles()) == 2


def test_failures_are_recorded_per_source_and_never_stop_others(svc: Service, loopback: LoopbackServer) -> None:
    from newsloom import OpmlOutline

    good = rss(loopback.base_url, [("Bridge approved", "/a/bridge", "<p>" + PARAGRAPH * 3 + "</p>")])
    loopback.add("/good.xml", good, headers={"Content-Type": "application/rss+xml"})
    loopback.add("/broken.xml", "<rss><channel><title>x</title><item><title>", headers={"Content-Type": "application/rss+xml"})
    loopback.add("/gone.xml", "gone", status=500)
    loopback.add("/html.xml", "<html><body>Not a feed at all</body></html>", headers={"Content-Type": "text/html"})
    svc.subscribe(OpmlOutline(xml_url=loopback.url(p)) for p in ("/good.xml", "/broken.xml", "/gone.xml", "/html.xml"))

    outcomes = {o.source.url.rsplit("/", 1)[-1]: o for o in svc.update(all_sources=True)}
    assert outcomes["good.xml"].status == "ok" and outcomes["good.xml"].new_articles == 1
    assert outcomes["gone.xml"].status == "error" and "500" in (outcomes["gone.xml"].error or "")
    assert outcomes["html.xml"].status == "error"
    health = {s.url.rsplit("/", 1)[-1]: s for s in svc.sources()}
    assert health["gone.xml"].error_count == 1 and health["gone.xml"].last_error
    assert health["gone.xml"].next_poll_at is not None
    assert health["good.xml"].error_count == 0
    # a second failure backs off further
    svc.update(all_sources=True)
    assert svc.resolve_source(loopback.url("/gone.xml")).error_count == 2


def manifest() -> list[dict[str, str]]:
    path = SHARED / "data" / "feeds" / "MANIFEST.tsv"
    if not path.is_file():
        pytest.skip(f"real-world feeds not found at {path.parent}")
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def test_real_world_feeds_served_over_loopback(svc: Service, loopback: LoopbackServer) -> None:
    """Every real feed in ../shared/data/feeds: handled, nothing crashes, a second poll gets 304s."""
    from newsloom import OpmlOutline

    rows = manifest()
    svc.settings = load_settings(
        env={}, data_dir=svc.settings.data_dir, allow_private_networks=True, per_host_delay_s=0.0,
        per_host_concurrency=8, fetch_article_pages=False,
    )
    for row in rows:
        body = (SHARED / "data" / "feeds" / row["file"]).read_bytes()
        loopback.add_raw("/" + row["file"], conditional(body, "application/xml"))  # type: ignore[arg-type]
    svc.subscribe(OpmlOutline(xml_url=loopback.url("/" + row["file"])) for row in rows)

    first = svc.update(all_sources=True)
    assert len(first) == len(rows)
    by_file = {o.source.url.split(loopback.base_url + "/", 1)[1]: o for o in first}
    for row in rows:
        outcome = by_file[row["file"]]
        if outcome.status == "ok":
            assert outcome.items == int(row["items_or_entries"]), row["file"]
        else:
            assert outcome.error, row["file"]
    assert sum(o.status == "ok" for o in first) >= len(rows) - 3
    second = svc.update(all_sources=True)
    assert all(o.status in {"not-modified", "error"} for o in second)
    assert sum(o.status == "not-modified" for o in second) == sum(o.status == "ok" for o in first)
