"""robots.txt: the pure parser/matcher, and the Fetcher honouring it for article pages."""

from __future__ import annotations

import asyncio

import pytest

from newsloom.errors import RobotsDisallowedError
from newsloom.ingest.fetch import Fetcher
from newsloom.ingest.robots import parse_robots, product_token
from tests.ingest.test_fetch import make_settings, run
from tests.loopback import LoopbackServer

NEWS_SITE = """\ufeff# typical news site
User-agent: *
Disallow: /search
Disallow: /*?utm_
Disallow: /*.pdf$
Allow: /search/about
Disallow: /private/

User-agent: GPTBot
User-agent: newsloom
Disallow: /live/
Allow: /live/blog$

User-agent: BadBot
Disallow: /
"""


@pytest.mark.parametrize(
    ("agent", "path", "allowed"),
    [
        ("otherbot", "/world/story-1", True),
        ("otherbot", "/search?q=x", False),
        ("otherbot", "/search/about", True),  # longer Allow beats shorter Disallow
        ("otherbot", "/world/story?utm_source=rss", False),  # * wildcard
        ("otherbot", "/report.pdf", False),
        ("otherbot", "/report.pdf?download=1", True),  # $ anchors the end
        ("otherbot", "/private/x", False),
        ("otherbot", "/private", True),
        ("newsloom", "/search?q=x", True),  # a specific group replaces the * group entirely
        ("newsloom", "/live/today", False),
        ("newsloom", "/live/blog", True),
        ("NewsLoom", "/live/today", False),  # agent names are case-insensitive
        ("gptbot", "/live/x", False),  # several user-agent lines share one group
        ("badbot", "/anything", False),
        ("badbot", "/robots.txt", True),  # robots.txt itself is always allowed
    ],
)
def test_matching(agent: str, path: str, allowed: bool) -> None:
    assert parse_robots(NEWS_SITE).allows(agent, path) is allowed


def test_edge_cases() -> None:
    assert parse_robots("").allows("newsloom", "/x")
    assert parse_robots("User-agent: *\nDisallow:\n").allows("newsloom", "/x")  # empty Disallow allows all
    assert not parse_robots(b"user-agent: *\ndisallow: /\n").allows("newsloom", "http://h.example/a?b")
    tie = parse_robots("User-agent: *\nDisallow: /page\nAllow: /page\n")
    assert tie.allows("newsloom", "/page")  # equal length: Allow wins (RFC 9309)
    encoded = parse_robots("User-agent: *\nDisallow: /caf%C3%A9\n")
    assert not encoded.allows("newsloom", "/café")
    assert not encoded.allows("newsloom", "http://h.example/caf%c3%a9/menu")
    orphan = parse_robots("Disallow: /\nUser-agent: *\nAllow: /\n")  # rules before any group are ignored
    assert orphan.allows("newsloom", "/x")
    merged = parse_robots("User-agent: a\nDisallow: /one\n\nUser-agent: b\nDisallow: /two\n\nUser-agent: a\nDisallow: /three\n")
    assert not merged.allows("a", "/one") and not merged.allows("a", "/three") and merged.allows("a", "/two")


def test_product_token() -> None:
    assert product_token("newsloom/0.1 (+https://github.com/newsloom/newsloom)") == "newsloom"
    assert product_token("Mozilla/5.0 compatible") == "mozilla"


# --- through the Fetcher ---------------------------------------------------------------------------------------


def fetch_pages(urls: list[str], robots: bool = True) -> list[object]:
    """Fetch pages in order with one Fetcher; returns each FetchResult or the exception raised."""

    async def main() -> list[object]:
        out: list[object] = []
        async with Fetcher(make_settings()) as fetcher:
            for url in urls:
                try:
                    out.append(await fetcher.fetch(url, robots=robots))
                except Exception as exc:
                    out.append(exc)
        return out

    return run(main())


def test_disallowed_page_is_not_fetched_and_robots_is_cached(loopback: LoopbackServer) -> None:
    loopback.add("/robots.txt", "User-agent: newsloom\nDisallow: /members/\n", headers={"Content-Type": "text/plain"})
    ok = loopback.add("/news/1", "story")
    ok2 = loopback.add("/news/2", "story two")
    blocked = loopback.add("/members/1", "secret")

    first, second, refused = fetch_pages([ok, ok2, blocked])

    assert getattr(first, "content", None) == b"story" and getattr(second, "content", None) == b"story two"
    assert isinstance(refused, RobotsDisallowedError) and refused.reason == "robots.txt disallows this page"
    assert loopback.hits("/members/1") == []
    assert len(loopback.hits("/robots.txt")) == 1  # fetched once per host
    assert loopback.hits("/robots.txt")[0].headers["user-agent"].startswith("newsloom")


def test_robots_is_ignored_when_not_asked(loopback: LoopbackServer) -> None:
    loopback.add("/robots.txt", "User-agent: *\nDisallow: /\n")
    feed = loopback.add("/feed.xml", "<rss/>")

    (result,) = fetch_pages([feed], robots=False)

    assert getattr(result, "content", None) == b"<rss/>"
    assert loopback.hits("/robots.txt") == []


def test_missing_robots_allows_everything(loopback: LoopbackServer) -> None:
    page = loopback.add("/news/1", "story")  # /robots.txt is a 404 on the loopback server
    (result,) = fetch_pages([page])
    assert getattr(result, "content", None) == b"story"


@pytest.mark.parametrize("status", [500, 503, 429])
def test_failing_robots_disallows_for_now(loopback: LoopbackServer, status: int) -> None:
    loopback.add("/robots.txt", "oops", status=status)
    page = loopback.add("/news/1", "story")

    (result,) = fetch_pages([page])

    assert isinstance(result, RobotsDisallowedError)
    assert loopback.hits("/news/1") == []


def test_redirect_into_disallowed_path_is_refused(loopback: LoopbackServer) -> None:
    loopback.add("/robots.txt", "User-agent: *\nDisallow: /private/\n")
    loopback.add("/short", status=302, headers={"Location": "/private/page"})
    loopback.add("/private/page", "secret")

    (result,) = fetch_pages([loopback.url("/short")])

    assert isinstance(result, RobotsDisallowedError)
    assert loopback.hits("/private/page") == []


def test_concurrent_pages_share_one_robots_request(loopback: LoopbackServer) -> None:
    loopback.add("/robots.txt", "User-agent: *\nAllow: /\n")
    urls = [loopback.add(f"/news/{i}", f"story {i}") for i in range(5)]

    async def main() -> None:
        async with Fetcher(make_settings(per_host_concurrency=5)) as fetcher:
            await asyncio.gather(*(fetcher.fetch(u, robots=True) for u in urls))

    run(main())
    assert len(loopback.hits("/robots.txt")) == 1
    assert all(len(loopback.hits(f"/news/{i}")) == 1 for i in range(5))
