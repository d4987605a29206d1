"""parse_feed, sniff_format and carries_full_text on small fixtures, over real HTTP, and on the real-world corpus."""

from __future__ import annotations

import contextlib
import csv
import gzip
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsloom.errors import FeedParseError
from newsloom.ingest.feeds import FULL_TEXT_MIN_CHARS, carries_full_text, parse_feed, sniff_format
from newsloom.types import FeedItem
from tests.conftest import SHARED

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "feeds"
CORPUS = SHARED / "data" / "feeds"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


# ---------------------------------------------------------------------------------------------- formats


def test_rss20_maps_every_field() -> None:
    feed = parse_feed(fixture("rss20.xml"), url="https://news.example/feeds/all.xml")
    assert (feed.format, feed.title, feed.site_url, feed.language) == (
        "rss",
        "Example Daily",
        "https://news.example/",
        "en-gb",
    )
    assert feed.warning is None
    budget, storm, bare = feed.items
    assert budget.guid == "budget-2024"
    assert budget.url == "https://news.example/2024/05/01/budget"  # relative link resolved
    assert budget.title == "Council approves budget & new bridge"
    assert budget.author == "Jane Reporter"
    assert budget.published == datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
    assert budget.categories == ("Politics", "Local")  # duplicates dropped, order kept
    assert budget.image_url == "https://img.example/bridge.jpg"
    assert budget.content_html is not None and "pedestrian bridge" in budget.content_html
    assert 'href="https://news.example/related"' in budget.content_html  # relative URIs in content resolved
    assert budget.summary is not None and budget.summary.startswith("The council approved")
    assert storm.image_url == "https://img.example/storm.png"  # image enclosure
    assert storm.published is not None and storm.published.tzinfo is UTC
    assert bare.url is None and bare.published is None and bare.guid is None


def test_rss091_with_netscape_doctype_and_latin1() -> None:
    feed = parse_feed(fixture("rss091.xml"), url="https://feeds.relay.example/gazette.xml")
    assert feed.format == "rss" and feed.language == "fr"
    assert [i.title for i in feed.items] == ["Premier article", "Deuxième article"]
    assert feed.items[0].summary == "Un résumé court."
    assert feed.items[1].url == "https://gazette.example/articles/2"  # relative links mean the site's pages
    assert feed.warning is None  # a DOCTYPE without entity declarations is removed silently


def test_rss10_rdf() -> None:
    feed = parse_feed(fixture("rss10.rdf"))
    assert (feed.format, feed.language) == ("rdf", "en")
    first = feed.items[0]
    assert first.url == "https://rdf.example/a" and first.author == "Ada Lovelace"
    assert first.published == datetime(2024, 3, 1, 8, 0, tzinfo=UTC)  # +02:00 -> UTC


def test_atom_with_xml_base_html_title_and_updated_only() -> None:
    feed = parse_feed(fixture("atom.xml"), url="https://blog.example/feed.atom")
    assert (feed.format, feed.title, feed.language, feed.site_url) == (
        "atom",
        "Das Beispiel Blog",
        "de",
        "https://blog.example/",
    )
    first, second = feed.items
    assert first.url == "https://blog.example/de/posts/erster"  # xml:base
    assert first.published == first.updated == datetime(2024, 2, 10, 17, 30, 2, tzinfo=UTC)
    assert first.author == "Max Mustermann" and first.categories == ("Technik",)
    assert first.content_html is not None and 'href="https://blog.example/de/bild.png"' in first.content_html
    assert second.published == datetime(2024, 2, 11, 9, 0, tzinfo=UTC)
    assert second.updated == datetime(2024, 2, 12, 9, 0, tzinfo=UTC)
    assert second.content_html == "<p>Nur Text, ohne Markup.</p>"  # type="text" is escaped into HTML


def test_empty_but_valid_feed_has_no_items() -> None:
    feed = parse_feed(fixture("empty_channel.xml"))
    assert feed.items == () and feed.title == "Quiet" and feed.warning is None


def test_an_empty_item_still_comes_out() -> None:
    feed = parse_feed(
        b"<rss version='2.0'><channel><title>t</title><item/><item><title>x</title></item></channel></rss>"
    )
    assert (
        len(feed.items) == 2
    )  # counts stay those of the feed; the pipeline decides what an empty item is worth
    assert feed.items[0] == FeedItem(None, None, None, None, None, None, None, None)


def test_json_feed_goes_through_parse_feed() -> None:
    feed = parse_feed(
        fixture("jsonfeed11.json"), url="https://json.example/feed.json", content_type="application/feed+json"
    )
    assert feed.format == "jsonfeed" and len(feed.items) == 2


# ---------------------------------------------------------------------------------------------- bytes and charsets


def test_windows1251_declared_only_in_xml_declaration() -> None:
    # text/xml without a charset: RFC 3023 would say US-ASCII; the declaration must win
    feed = parse_feed(fixture("windows1251_decl.xml"), content_type="text/xml")
    assert feed.title == "Новости Примера"
    assert feed.items[0].title == "Главная новость дня"
    assert feed.items[0].published == datetime(2024, 5, 6, 6, 15, tzinfo=UTC)


def test_charset_only_in_content_type() -> None:
    feed = parse_feed(fixture("latin1_no_decl.xml"), content_type="application/rss+xml; charset=ISO-8859-1")
    assert feed.title == "Café Noticias"
    assert feed.items[0].title == "Año nuevo en España"


def test_undeclared_western_text_is_read_as_windows_1252() -> None:
    feed = parse_feed(fixture("latin1_no_decl.xml"))
    assert feed.items[0].title == "Año nuevo en España"


def test_utf8_body_wins_over_a_wrong_header_charset() -> None:
    feed = parse_feed(fixture("rss20.xml"), content_type="text/xml; charset=iso-8859-1")
    assert feed.items[0].content_html is not None and "€" not in feed.items[0].content_html
    assert feed.items[0].summary is not None and feed.items[0].summary.endswith("Wednesday…")


def test_utf16_document() -> None:
    text = fixture("rss20.xml").decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
    feed = parse_feed(text.encode("utf-16"))
    assert feed.items[0].summary is not None and feed.items[0].summary.endswith("Wednesday…")


def test_gzip_body_saved_as_xml_is_decompressed() -> None:
    assert sniff_format(fixture("gzipped_rss.xml")) == "rss"
    feed = parse_feed(fixture("gzipped_rss.xml"), content_type="application/xml")
    assert len(feed.items) == 3


def test_gzip_bomb_is_refused() -> None:
    bomb = gzip.compress(b"<rss>" + b" " * 12_000_000 + b"</rss>")
    with pytest.raises(FeedParseError, match="expands beyond"):
        parse_feed(bomb)


def test_corrupt_gzip_is_a_feed_parse_error() -> None:
    with pytest.raises(FeedParseError, match="gzip"):
        parse_feed(b"\x1f\x8b\x08\x00garbage")


# ---------------------------------------------------------------------------------------------- safety


@pytest.mark.timeout(10)
def test_billion_laughs_is_never_expanded() -> None:
    feed = parse_feed(fixture("billion_laughs.xml"))
    assert feed.warning is not None and "entities" in feed.warning
    item = feed.items[0]
    assert "lollol" not in (item.title or "") + (item.summary or "")


def test_external_entities_are_never_resolved() -> None:
    feed = parse_feed(fixture("xxe.xml"))
    text = (feed.items[0].title or "") + (feed.items[0].summary or "")
    assert "root:" not in text
    assert feed.warning is not None and "entities" in feed.warning


def test_entities_after_leading_junk_are_never_expanded() -> None:
    content = b"Warning: something\n" + fixture("billion_laughs.xml")
    feed = parse_feed(content)
    assert feed.warning is not None and "entities" in feed.warning
    assert "lollol" not in (feed.items[0].title or "") + (feed.items[0].summary or "")


def test_a_body_that_names_a_local_file_is_not_read(tmp_path: Path) -> None:
    local = tmp_path / "secret.xml"
    local.write_bytes(fixture("rss20.xml"))
    with pytest.raises(FeedParseError):
        parse_feed(str(local).encode())


def test_unterminated_doctype_is_refused() -> None:
    with pytest.raises(FeedParseError, match="DOCTYPE"):
        parse_feed(b'<?xml version="1.0"?><!DOCTYPE rss [ <!ENTITY a "b"> <rss></rss>')


# ---------------------------------------------------------------------------------------------- failures


def test_malformed_but_recoverable_keeps_items_and_warns() -> None:
    feed = parse_feed(fixture("malformed.xml"))
    assert [i.url for i in feed.items] == ["https://broken.example/1", "https://broken.example/2"]
    assert feed.warning


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"   \n ", "empty"),
        (fixture("garbage.bin"), "not a feed"),
        (fixture("page.html"), "HTML page"),
        (b"<opml version='2.0'><body/></opml>", "OPML"),
        (b"{not json", "invalid JSON"),
        (b'{"title": "no items"}', "JSON Feed"),
        (b"<rss version='2.0'><channel><title>cut off", "no usable items"),
        (b"<?xml version='1.0'?><note>hello</note>", "not a feed"),
    ],
)
def test_unusable_documents_raise_feed_parse_error(content: bytes, message: str) -> None:
    with pytest.raises(FeedParseError, match=message):
        parse_feed(content)


@settings(max_examples=60, deadline=None)
@given(
    st.one_of(st.binary(max_size=300), st.text(max_size=300).map(lambda t: ("<rss><channel>" + t).encode()))
)
def test_any_bytes_give_a_feed_or_feed_parse_error(content: bytes) -> None:
    with contextlib.suppress(FeedParseError):
        parse_feed(content)


# ---------------------------------------------------------------------------------------------- sniffing


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("rss20.xml", "rss"),
        ("rss091.xml", "rss"),
        ("rss10.rdf", "rdf"),
        ("atom.xml", "atom"),
        ("jsonfeed11.json", "jsonfeed"),
        ("jsonfeed10.json", "jsonfeed"),
        ("page.html", "html"),
        ("garbage.bin", "unknown"),
        ("billion_laughs.xml", "rss"),
        ("gzipped_rss.xml", "rss"),
    ],
)
def test_sniff_format_fixtures(name: str, expected: str) -> None:
    assert sniff_format(fixture(name)) == expected


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            b"\xef\xbb\xbf  <?xml version='1.0'?>\n<!-- hi --><feed xmlns='http://www.w3.org/2005/Atom'/>",
            "atom",
        ),
        (b"<?xml version='1.0'?><opml version='1.0'><body/></opml>", "opml"),
        (b"<html><body>x</body></html>", "html"),
        (b"<!doctype html><title>x</title>", "html"),
        (b"Warning: PHP notice\n<rss version='2.0'><channel/></rss>", "rss"),
        (b'{"foo": 1}', "unknown"),
        (b"<meta charset='utf-8'><section>hi</section><body>x</body>", "html"),
        (b"Some text before <HTML><BODY>x</BODY></HTML>", "html"),
        (b"just words", "unknown"),
        (b"", "unknown"),
        ("<?xml version='1.0' encoding='utf-16'?><rss/>".encode("utf-16"), "rss"),
    ],
)
def test_sniff_format_edge_cases(content: bytes, expected: str) -> None:
    assert sniff_format(content) == expected


# ---------------------------------------------------------------------------------------------- full text or teaser


def item(content_html: str | None = None, summary: str | None = None) -> FeedItem:
    return FeedItem(None, None, None, None, None, None, summary=summary, content_html=content_html)


def test_full_text_decisions() -> None:
    paragraph = "<p>" + "The minister said the plan would cost more than expected. " * 10 + "</p>"
    article = paragraph * 3
    assert len(article) > FULL_TEXT_MIN_CHARS
    assert carries_full_text(item(content_html=article, summary="Short teaser."))
    assert carries_full_text(item(summary=article))  # RSS that puts the article in <description>
    assert not carries_full_text(item(summary="One sentence teaser about the news."))
    assert not carries_full_text(item())
    assert not carries_full_text(item(content_html=article + "<p>Continue reading…</p>"))
    wordpress_excerpt = (
        article + " [&#8230;]</p><p>The post <a href='/x'>Budget</a> appeared first on <a>Example</a>.</p>"
    )
    assert not carries_full_text(item(content_html=wordpress_excerpt))
    wordpress_full = article + "<p>The post <a href='/x'>Budget</a> appeared first on <a>Example</a>.</p>"
    assert carries_full_text(item(content_html=wordpress_full))
    assert not carries_full_text(item(content_html="<p>" + "x " * 100 + "</p>" + "<img src='a.png'>" * 200))


def test_full_text_counts_cjk_characters_as_words() -> None:
    # 380 characters: a short article
    chinese = "<p>" + "国务院今天发布了关于经济发展的新政策。" * 20 + "</p>"
    assert carries_full_text(item(content_html=chinese))


def test_full_text_on_fixture() -> None:
    budget, storm, _bare = parse_feed(fixture("rss20.xml")).items
    assert carries_full_text(budget)
    assert not carries_full_text(storm)


# ---------------------------------------------------------------------------------------------- over real HTTP


def test_charset_header_over_http(loopback) -> None:
    url = loopback.add(
        "/latin.xml",
        fixture("latin1_no_decl.xml"),
        headers={"Content-Type": "application/xml; charset=iso-8859-1"},
    )
    response = httpx.get(url)
    feed = parse_feed(
        response.content, url=str(response.url), content_type=response.headers.get("content-type")
    )
    assert feed.items[0].title == "Año nuevo en España"


def _manifest() -> list[dict[str, str]]:
    with (CORPUS / "MANIFEST.tsv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


#: Content types real servers send for each extension; .xml goes out as text/xml without a charset, the
#: RFC 3023 trap (US-ASCII) that feedparser would otherwise fall into.
CORPUS_CONTENT_TYPES = {".rss": "application/rss+xml", ".atom": "application/atom+xml", ".xml": "text/xml"}


@pytest.mark.skipif(not (CORPUS / "MANIFEST.tsv").is_file(), reason=f"feed corpus not found at {CORPUS}")
def test_real_world_corpus_over_http(loopback) -> None:
    rows = _manifest()
    for row in rows:
        path = CORPUS / row["file"]
        loopback.add(
            "/" + row["file"], path.read_bytes(), headers={"Content-Type": CORPUS_CONTENT_TYPES[path.suffix]}
        )
    mismatches: list[str] = []
    failures: list[str] = []
    with httpx.Client() as client:
        for row in rows:
            response = client.get(loopback.url("/" + row["file"]))
            assert response.status_code == 200
            try:
                feed = parse_feed(
                    response.content, url=str(response.url), content_type=response.headers["content-type"]
                )
            except FeedParseError as exc:
                failures.append(f"{row['file']}: {exc}")
                continue
            if len(feed.items) != int(row["items_or_entries"]):
                mismatches.append(
                    f"{row['file']}: {len(feed.items)} items, manifest says {row['items_or_entries']}"
                )
            for entry in feed.items:
                for moment in (entry.published, entry.updated):
                    assert moment is None or moment.utcoffset() is not None
    assert not mismatches, mismatches
    assert not failures, failures
