from __future__ import annotations

from newsloom.ingest.pagekind import PageSignals, classify_page

ARTICLE = " ".join(["The minister announced the plan on Monday and said it would take effect in May."] * 20)


def test_article_is_article_even_with_wall_words() -> None:
    assert classify_page(PageSignals(title="Plan", text=ARTICLE + " Subscribe to continue reading, she joked.")) is None


def test_short_texts_with_tell_tale_phrases() -> None:
    assert classify_page(PageSignals(title="Attention Required! | Cloudflare", text="")) == "bot-challenge"
    assert classify_page(PageSignals(title="Story", text="Lead paragraph.", accessible_for_free=False)) == "paywall"
    assert classify_page(PageSignals(title="Page not found", text="Sorry.")) == "error-page"
    assert classify_page(PageSignals(title="x", text="", http_status=410)) == "error-page"
    assert classify_page(PageSignals(title="Before you continue to Google", text="We use cookies. Reject all.")) == "consent"
    assert classify_page(PageSignals(title="Hello", text="Too short.")) == "empty"


def test_index_page_from_link_share() -> None:
    signals = PageSignals(title="News", text=" ".join(["word"] * 60), link_share=0.8, page_words=3000)
    assert classify_page(signals) == "index-page"
    declared = PageSignals(title="News", text=" ".join(["word"] * 60), link_share=0.8, page_words=3000, schema_type="NewsArticle")
    assert classify_page(declared) is None
