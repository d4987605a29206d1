"""HTML extraction: charset, metadata (JSON-LD, OpenGraph), chrome, captions, sanitized HTML, errors."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from newsloom.errors import ExtractionError, InputError
from newsloom.ingest.extract import article_to_json, extract_file, extract_html
from tests.loopback import LoopbackServer

PAGES = Path(__file__).resolve().parent.parent / "fixtures" / "pages"
PARAGRAPH = (
    "The regional parliament approved the budget on Wednesday after a debate that lasted late into the night, "
    "with the governing coalition holding together despite disagreements over road spending."
)


def _page(body: str, head: str = "") -> str:
    return f"<!DOCTYPE html><html><head><title>T</title>{head}</head><body>{body}</body></html>"


def test_cp1252_page_metadata_chrome_and_captions() -> None:
    article = extract_file(PAGES / "article_cp1252.html")
    assert article.title == "La rivière déborde après trois jours de pluie"
    assert article.author == "Claire Dumas"
    assert article.publisher == "Le Courrier du Lac"
    assert article.published is not None and article.published.isoformat() == "2024-10-17T06:30:00+00:00"
    assert article.language == "fr"
    assert article.captions == ("Le quai Saint-Jean sous l'eau jeudi matin.",)
    paragraphs = article.text.split("\n\n")
    assert len(paragraphs) == 4 and paragraphs[0].startswith("Après trois jours")
    for chrome in ("Also read", "Téléchargez", "Partager", "newsletter", "Related", "Une autre", "©", "Par Claire", "Accueil"):
        assert chrome not in article.text, chrome
    assert "Also read" not in article.html and "<script" not in article.html
    assert article.html.startswith("<p>Après")


def test_given_encoding_wins_over_missing_declaration_and_bad_bytes_do_not_crash() -> None:
    html = _page(f"<article><p>{PARAGRAPH} Café prices rose.</p><p>{PARAGRAPH}</p></article>")
    assert "Café" in extract_html(html.encode("cp1252"), encoding="cp1252").text
    assert "Caf\ufffd" in extract_html(html.encode("cp1252")).text  # undeclared: UTF-8 with replacement
    assert "Café" in extract_html(html.encode("utf-8")).text


def test_json_ld_article_body_used_when_visible_and_more_complete() -> None:
    paragraphs = [f"Paragraph {i}: {PARAGRAPH}" for i in range(6)]
    ld = {"@type": "NewsArticle", "headline": "Budget passes", "articleBody": "\n".join(paragraphs),
          "datePublished": "2025-01-02T03:04:05Z", "author": {"name": "Ana Ruiz"}}
    # the page shows all six paragraphs, but in a layout where the first three sit in a teaser box
    body = (
        "<div class='teaser'><span>" + "</span><br><span>".join(paragraphs[:3]) + "</span></div>"
        + "<article>" + "".join(f"<p>{p}</p>" for p in paragraphs[3:]) + "</article>"
    )
    head = f'<script type="application/ld+json">{json.dumps(ld)}</script>'
    article = extract_html(_page(body, head))
    assert article.title == "Budget passes" and article.author == "Ana Ruiz"
    assert article.published is not None and article.published.isoformat() == "2025-01-02T03:04:05+00:00"
    for paragraph in paragraphs[3:]:
        assert paragraph in article.text


def test_hidden_json_ld_body_is_not_used() -> None:
    ld = {"@type": "NewsArticle", "headline": "H", "articleBody": "Secret subscriber text " * 80}
    head = f'<script type="application/ld+json">{json.dumps(ld)}</script>'
    article = extract_html(_page(f"<article><p>{PARAGRAPH}</p><p>{PARAGRAPH} Again.</p></article>", head))
    assert "Secret" not in article.text


@pytest.mark.parametrize(
    ("body", "title", "reason"),
    [
        ("<h1>Just a moment...</h1><p>Checking your browser before accessing the site.</p>", "Just a moment...", "bot-challenge"),
        ("<h1>Page not found</h1><p>The page you are looking for could not be found.</p>", "404 Not Found", "error-page"),
        (f"<article><p>{PARAGRAPH}</p><p>Subscribe now to continue reading. Already a subscriber? Log in.</p></article>", "Budget", "paywall"),
        ("<div><h2>We value your privacy</h2><p>We and our partners use cookies. Accept all or manage your choices.</p></div>", "Consent", "consent"),
        ("<div></div>", "Empty", "empty"),
    ],
)
def test_not_article_pages(body: str, title: str, reason: str) -> None:
    article = extract_html(f"<html><head><title>{title}</title></head><body>{body}</body></html>")
    assert not article.is_article
    assert article.not_article_reason == reason


def test_index_page_of_links() -> None:
    items = "".join(f"<li><a href='/story/{i}'>Headline number {i} about something that happened today</a></li>" for i in range(60))
    article = extract_html(_page(f"<nav><ul>{items}</ul></nav><p>Welcome to our front page.</p>"))
    assert not article.is_article and article.not_article_reason in {"index-page", "empty"}


def test_real_article_mentioning_cookies_and_404_is_an_article() -> None:
    text = "The error page showed 404 and asked visitors to accept cookies, the report said."
    paragraphs = "".join(f"<p>Point {i}. {PARAGRAPH} {text}</p>" for i in range(4))
    article = extract_html(_page(f"<article>{paragraphs}</article>"))
    assert article.is_article and article.not_article_reason is None


def test_errors_are_newsloom_errors(tmp_path: Path) -> None:
    with pytest.raises(ExtractionError):
        extract_html(b"")
    with pytest.raises(ExtractionError):
        extract_html("just words, no markup")
    with pytest.raises(InputError):
        extract_file(tmp_path / "missing.html")
    (tmp_path / "a.pdf").write_bytes(b"%PDF")
    with pytest.raises(InputError):
        extract_file(tmp_path / "a.pdf")
    extract_html(b"\x00\xff<html><body><p>\x00\x01 broken</p>")  # garbage does not raise raw lxml errors


def test_article_to_json_keys() -> None:
    article = extract_file(PAGES / "article_cp1252.html")
    data = article_to_json(article)
    assert set(data) == {"path", "title", "author", "publisher", "published", "language", "text", "is_article",
                         "not_article_reason", "captions", "image_url", "description"}
    assert data["published"] == "2024-10-17T06:30:00+00:00"
    json.dumps(data)
    assert "url" in article_to_json(extract_html(_page(f"<p>{PARAGRAPH}</p>"), url="https://x.example/a"))


def test_page_fetched_over_http_with_header_charset(loopback: LoopbackServer) -> None:
    raw = (PAGES / "article_cp1252.html").read_bytes().replace(b'<meta charset="windows-1252">', b"")
    url = loopback.add("/article", raw, headers={"Content-Type": "text/html; charset=windows-1252"})
    response = httpx.get(url)
    article = extract_html(response.content, url=url, encoding=response.charset_encoding)
    assert article.title == "La rivière déborde après trois jours de pluie"
    assert article.image_url == loopback.url("/img/riviere.jpg")
    assert article.url == url
