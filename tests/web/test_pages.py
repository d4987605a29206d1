"""Pages through the ASGI client: top stories, story, article, search, sources, security headers."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from newsloom.reader_service import ReaderService
from tests.web.conftest import add_story, text_of


def test_top_stories_ranked_with_why_line(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    page = text_of(response.text)
    assert page.index("Floods hit Valencia") < page.index("Local council votes") < page.index("Valencia rebuilds")
    assert "4 outlets in 5 hours, 1 in the last hour" in page
    assert "1 outlet, 12 minutes ago" in page


def test_security_headers_and_csrf_cookie(client: TestClient) -> None:
    response = client.get("/")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "object-src 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    # The front page carries no form for an anonymous visitor, hence no token and no cookie (it stays cacheable);
    # the sign-in page does.
    assert "set-cookie" not in response.headers
    response = client.get("/signin")
    cookie = response.headers["set-cookie"]
    assert "nl_csrf=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("samesite", "SameSite")


def test_story_page_shows_coverage_chart_comparison_and_related(client: TestClient) -> None:
    response = client.get("/story/s-big")
    assert response.status_code == 200
    html = response.text
    for outlet in ("Reuters", "AP", "BBC", "El País"):
        assert outlet in html
    assert "<svg" in html and 'class="bar"' in html
    assert "How the coverage compares" in html
    assert "Agree" in html and "Only here" in html and "Differs" in html
    assert 'href="/story/s-old"' in html and "also about Valencia" in html


def test_missing_story_is_a_404_page(client: TestClient) -> None:
    response = client.get("/story/nope")
    assert response.status_code == 404
    assert "no story" in response.text


def test_article_view_links_to_original(client: TestClient, stocked: ReaderService) -> None:
    article = stocked.service.story_articles("s-big")[0]
    response = client.get(f"/article/{article.id}")
    assert response.status_code == 200
    assert f'href="{article.url}"' in response.text
    assert 'rel="noopener noreferrer nofollow"' in response.text


def test_hostile_article_html_is_sanitized(client: TestClient, stocked: ReaderService) -> None:
    hostile = (
        '<p>Hello <script>window.__xss=1</script><img src=x onerror="alert(1)">'
        '<a href="javascript:alert(1)">click</a><svg onload="alert(1)"></svg>'
        '<iframe src="https://evil.example"></iframe></p>'
    )
    [article_id] = add_story(stocked, "s-xss", "<script>alert(1)</script> headline", [("Evil", 1)], html=hostile)
    html = client.get(f"/article/{article_id}").text
    body = html.split('<div class="body">')[1].split("</div>")[0]
    assert "<script" not in body and "onerror" not in body and "javascript:" not in body
    assert "<svg" not in body and "<iframe" not in body
    assert "Hello" in body
    assert "<script>alert(1)</script> headline" not in html  # the title is escaped
    assert "&lt;script&gt;alert(1)&lt;/script&gt; headline" in html


def test_search_finds_articles_and_stories_with_filters(client: TestClient) -> None:
    page = client.get("/search", params={"q": "floods"}).text
    assert "Floods hit Valencia" in page
    assert re.search(r'href="/story/s-big"', page)
    none = client.get("/search", params={"q": "floods", "until": "2020-01-01"}).text
    assert "No articles match" in none
    by_entity = client.get("/search", params={"entity": "Springfield"}).text
    assert "Local council votes" in by_entity and "Floods hit" not in by_entity


def test_bad_date_in_search_is_a_readable_400(client: TestClient) -> None:
    response = client.get("/search", params={"q": "x", "since": "yesterday"})
    assert response.status_code == 400
    assert "not a date" in response.text


def test_sources_page_and_opml_export(client: TestClient, stocked: ReaderService) -> None:
    stocked.service.storage.add_source("https://feeds.example/rss", title="Example Feed", now=stocked.now())
    page = client.get("/sources").text
    assert "Example Feed" in page and "not polled yet" in page
    opml = client.get("/sources.opml")
    assert opml.status_code == 200
    assert b'xmlUrl="https://feeds.example/rss"' in opml.content


def test_pwa_manifest_and_service_worker(client: TestClient) -> None:
    manifest = client.get("/manifest.webmanifest").json()
    assert manifest["start_url"] == "/" and manifest["display"] == "standalone"
    worker = client.get("/sw.js")
    assert worker.headers["service-worker-allowed"] == "/"
    assert "caches" in worker.text
    assert client.get("/static/htmx.min.js").status_code == 200
    assert client.get("/healthz").json() == {"status": "ok"}


def test_pages_work_without_javascript(client: TestClient) -> None:
    html = client.get("/story/s-big").text
    # Every interaction is a real link or form: no javascript: links and no inline handlers.
    assert "javascript:" not in html
    assert not re.search(r"\son[a-z]+=", html)
