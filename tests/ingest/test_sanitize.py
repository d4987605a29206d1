from __future__ import annotations

from newsloom.ingest.sanitize import sanitize_html


def test_scripts_styles_handlers_and_javascript_urls_go() -> None:
    dirty = (
        '<p onclick="steal()">Hello <script>alert(1)</script><style>p{}</style>'
        '<a href="javascript:alert(1)">x</a> <a href="JaVaScRiPt&#58;alert(1)">y</a>'
        '<img src="x.jpg" onerror="alert(1)"><iframe src="https://evil.example"></iframe></p>'
    )
    clean = sanitize_html(dirty)
    lowered = clean.lower()
    for bad in ("script", "style", "onclick", "onerror", "javascript", "iframe", "alert"):
        assert bad not in lowered, bad
    assert clean.startswith("<p>Hello")


def test_links_get_rel_and_absolute_urls() -> None:
    clean = sanitize_html('<p><a href="/story/2" target="_blank">next</a><img src="pic.jpg" alt="a"></p>', base_url="https://news.example/a/b.html")
    assert 'href="https://news.example/story/2"' in clean
    assert 'rel="noopener noreferrer nofollow"' in clean
    assert 'src="https://news.example/a/pic.jpg"' in clean
    assert "target" not in clean


def test_article_markup_survives_and_layout_attributes_do_not() -> None:
    clean = sanitize_html('<div class="x" style="color:red"><h2>Sub</h2><blockquote>Q</blockquote><ul><li>i</li></ul><form><input></form></div>')
    assert clean == "<div><h2>Sub</h2><blockquote>Q</blockquote><ul><li>i</li></ul></div>"
    assert sanitize_html("") == ""
