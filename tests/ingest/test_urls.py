from __future__ import annotations

import pytest

from newsloom.errors import InputError
from newsloom.ingest.urls import TRACKING_PARAMS, canonical_url, url_host

CANONICAL_CASES = [
    # scheme, host case, default ports, fragments
    ("HTTPS://Example.COM/News/Story", "https://example.com/News/Story"),
    ("http://example.com:80/a", "http://example.com/a"),
    ("https://example.com:443/a", "https://example.com/a"),
    ("https://example.com:8443/a", "https://example.com:8443/a"),
    ("http://example.com:443/a", "http://example.com:443/a"),
    ("https://example.com/a#comments", "https://example.com/a"),
    ("https://example.com./a", "https://example.com/a"),
    ("  https://example.com/a  ", "https://example.com/a"),
    ("https://user:secret@example.com/a", "https://example.com/a"),
    # root and trailing slashes
    ("https://example.com", "https://example.com/"),
    ("https://example.com/", "https://example.com/"),
    ("https://example.com/world/", "https://example.com/world"),
    ("https://example.com/world//", "https://example.com/world"),
    ("https://example.com/?id=3", "https://example.com/?id=3"),
    # tracking parameters
    ("https://example.com/a?utm_source=rss&utm_medium=feed&utm_campaign=x", "https://example.com/a"),
    ("https://example.com/a?UTM_Source=rss", "https://example.com/a"),
    ("https://example.com/a?fbclid=IwAR0abc", "https://example.com/a"),
    ("https://example.com/a?gclid=1&mc_cid=2&mc_eid=3&igshid=4", "https://example.com/a"),
    ("https://www.msn.com/en-us/news/world/x/ar-AA1?ocid=msedgntp&cvid=9", "https://msn.com/en-us/news/world/x/ar-AA1?cvid=9"),
    ("https://example.com/a?cmpid=rss&_ga=2.1.1&ref=hn&smid=tw-share", "https://example.com/a"),
    ("https://www.theguardian.com/world/2025/x?CMP=share_btn_tw", "https://theguardian.com/world/2025/x"),
    ("https://example.com/a?id=7&utm_source=x", "https://example.com/a?id=7"),
    ("https://example.com/a?pk_campaign=x&mtm_source=y", "https://example.com/a"),
    # remaining parameters sorted, values kept as written, blank values kept
    ("https://example.com/a?b=2&a=1", "https://example.com/a?a=1&b=2"),
    ("https://example.com/a?q=a+b&p=1", "https://example.com/a?p=1&q=a+b"),
    ("https://example.com/a?z&a=", "https://example.com/a?a=&z"),
    ("https://example.com/a?id=2&id=1", "https://example.com/a?id=1&id=2"),
    ("https://example.com/a?&&id=1&", "https://example.com/a?id=1"),
    # percent-escapes: unreserved decoded, the rest upper-cased
    ("https://example.com/%7Euser/a%2fb", "https://example.com/~user/a%2Fb"),
    ("https://example.com/caf%c3%a9", "https://example.com/caf%C3%A9"),
    # www / mobile / amp hosts
    ("https://www.example.com/a", "https://example.com/a"),
    ("https://m.example.com/a", "https://example.com/a"),
    ("https://mobile.example.com/a", "https://example.com/a"),
    ("https://amp.example.com/a", "https://example.com/a"),
    ("https://www.m.example.co.uk/a", "https://example.co.uk/a"),
    ("https://amp.dev/about", "https://amp.dev/about"),
    ("https://m.com/", "https://m.com/"),
    ("https://mail.example.com/a", "https://mail.example.com/a"),
    ("https://news.example.com/a", "https://news.example.com/a"),
    # AMP paths and parameters
    ("https://example.com/amp/world/story-1", "https://example.com/world/story-1"),
    ("https://example.com/world/story-1/amp", "https://example.com/world/story-1"),
    ("https://example.com/world/story-1/amp/", "https://example.com/world/story-1"),
    ("https://example.com/world/story-1.amp.html", "https://example.com/world/story-1.html"),
    ("https://example.com/world/story-1.amp", "https://example.com/world/story-1"),
    ("https://example.com/world/story-1?amp", "https://example.com/world/story-1"),
    ("https://example.com/world/story-1?amp=1", "https://example.com/world/story-1"),
    ("https://edition.cnn.com/2025/x?outputType=amp", "https://edition.cnn.com/2025/x"),
    ("https://example.com/x?output=amp&id=2", "https://example.com/x?id=2"),
    ("https://example.com/x?output=json", "https://example.com/x?output=json"),
    ("https://timesofindia.indiatimes.com/x/amp_articleshow/1.cms", "https://timesofindia.indiatimes.com/x/articleshow/1.cms"),
    ("https://example.com/ampere/examples", "https://example.com/ampere/examples"),
    ("https://example.com/camp.html", "https://example.com/camp.html"),
    # IP addresses
    ("http://127.0.0.1:8080/feed", "http://127.0.0.1:8080/feed"),
    ("http://[::1]:8080/feed", "http://[::1]:8080/feed"),
    ("http://[::1]:80/feed", "http://[::1]/feed"),
]


@pytest.mark.parametrize(("url", "expected"), CANONICAL_CASES)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize(("url", "expected"), CANONICAL_CASES)
def test_canonical_url_is_idempotent(url: str, expected: str) -> None:
    assert canonical_url(canonical_url(url)) == canonical_url(url)


def test_variants_of_one_article_share_one_canonical_url() -> None:
    variants = [
        "https://www.example.com/world/2025/03/21/kim-shoigu/",
        "http://example.com/world/2025/03/21/kim-shoigu".replace("http:", "https:"),
        "https://m.example.com/world/2025/03/21/kim-shoigu?utm_source=twitter#top",
        "https://amp.example.com/world/2025/03/21/kim-shoigu/amp/",
        "https://example.com/amp/world/2025/03/21/kim-shoigu?amp=1&fbclid=xyz",
        "HTTPS://EXAMPLE.COM:443/world/2025/03/21/kim-shoigu",
    ]
    assert len({canonical_url(u) for u in variants}) == 1


def test_every_named_tracking_parameter_is_dropped() -> None:
    for name in TRACKING_PARAMS:
        assert canonical_url(f"https://example.com/a?{name}=1&id=5") == "https://example.com/a?id=5", name


@pytest.mark.parametrize(
    "url",
    [
        "",
        "example.com/a",
        "/relative/path",
        "ftp://example.com/file",
        "javascript:alert(1)",
        "mailto:news@example.com",
        "file:///etc/passwd",
        "https://",
        "https:///path-only",
        "http://example.com:99999/a",
        "http://example.com:port/a",
        "http://[::1/a",
    ],
)
def test_non_web_urls_are_input_errors(url: str) -> None:
    with pytest.raises(InputError):
        canonical_url(url)
    with pytest.raises(InputError):
        url_host(url)


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://www.Example.com/a", "example.com"),
        ("https://m.bbc.co.uk/news", "bbc.co.uk"),
        ("http://127.0.0.1:8080/feed", "127.0.0.1"),
        ("https://news.example.com:8443/x", "news.example.com"),
        ("https://amp.dev/", "amp.dev"),
    ],
)
def test_url_host(url: str, host: str) -> None:
    assert url_host(url) == host
