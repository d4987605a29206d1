"""Feed discovery from a home page: link alternates, then feed-looking anchors, then well-known paths."""

from __future__ import annotations

from newsloom.ingest.discover import WELL_KNOWN_PATHS, discover_feeds

HOME = """<!doctype html>
<html><head>
  <title>Example News</title>
  <link rel="stylesheet" href="/style.css">
  <link rel="alternate" type="application/json" href="/wp-json/wp/v2/pages/2">
  <link rel="alternate" type="application/rss+xml" title="Comments Feed" href="/comments/feed/">
  <link rel="alternate" type="application/rss+xml" title="Example News" href="/feed/">
  <link rel="Alternate" type="application/atom+xml; charset=utf-8" href="https://example.com/atom.xml">
  <link rel="alternate" type="application/feed+json" href="feed.json">
  <link rel="alternate" hreflang="fr" href="/fr/">
</head><body>
  <a href="/about">About</a>
  <a href="/sections/world/rss.xml">World RSS</a>
  <a href="https://feeds.feedburner.com/example">Feedburner</a>
  <a href="/sitemap.xml">Sitemap</a>
  <a href="/feedback">Feedback</a>
  <a href="mailto:rss@example.com">Mail</a>
  <a href="https://other.example/feed">A friend's feed</a>
  <a href="/feed/">Duplicate of the alternate</a>
</body></html>"""


def test_order_and_resolution() -> None:
    found = discover_feeds(HOME, "https://example.com/news/index.html")
    assert found[:6] == [
        "https://example.com/feed/",
        "https://example.com/atom.xml",
        "https://example.com/news/feed.json",
        "https://example.com/wp-json/wp/v2/pages/2",  # generic JSON after the feed media types
        "https://example.com/comments/feed/",  # comment feeds after the main ones
        "https://example.com/sections/world/rss.xml",
    ]
    anchors = found[6:8]
    assert anchors == ["https://feeds.feedburner.com/example", "https://other.example/feed"]
    assert "https://example.com/about" not in found
    assert not any("sitemap" in u or "feedback" in u or u.startswith("mailto") for u in found)
    assert len(found) == len(set(found))


def test_well_known_paths_come_last() -> None:
    found = discover_feeds(b"<html><body>nothing</body></html>", "https://blog.example/")
    assert found == ["https://blog.example" + p for p in WELL_KNOWN_PATHS]


def test_well_known_paths_under_a_subdirectory_first() -> None:
    found = discover_feeds("", "https://example.com/blog/")
    assert found[0] == "https://example.com/blog/feed"
    assert "https://example.com/feed" in found
    assert found.index("https://example.com/blog/feeds/posts/default") < found.index(
        "https://example.com/feed"
    )


def test_base_href_is_honoured() -> None:
    html = '<head><base href="https://cdn.example/site/"><link rel="alternate" type="application/rss+xml" href="rss"></head>'
    assert discover_feeds(html, "https://example.com/")[0] == "https://cdn.example/site/rss"


def test_bytes_broken_markup_and_odd_hrefs() -> None:
    html = b'<link rel=alternate type=application/rss+xml href=/r.xml><a href="http://[::1">x</a><a href="javascript:feed()">f</a><div <<<'
    found = discover_feeds(html, "http://example.com")
    assert found[0] == "http://example.com/r.xml"
    assert all(u.startswith("http://example.com/") for u in found)
