"""End-to-end tests in real headless Chromium (Debian's /usr/bin/chromium driven by Playwright; never a
browser download): sign-up, following an entity, a story and its comparison, saving, search, keyboard
navigation, offline reading, and hostile content that must never execute. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from newsloom.reader_service import ReaderService
from newsloom.web.app import create_app
from tests.web.conftest import PASSWORD, add_story, make_reader

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip

NO_CHROMIUM = "browser tests need Debian chromium at /usr/bin/chromium (run: bash scripts/install-browser.sh)"
pytestmark = [pytest.mark.browser, pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM)]

# Each payload would set window.__xss or open a dialog if it ever ran.
HOSTILE_HTML = (
    "<p>Calm text before the payloads.</p>"
    "<script>window.__xss = 'script'</script>"
    '<img src="x" onerror="window.__xss = \'onerror\'; alert(1)">'
    '<a id="js-link" href="javascript:window.__xss=\'href\';alert(1)">a javascript: link</a>'
    '<svg><script>window.__xss = "svg-script"</script><circle onload="alert(1)"/></svg>'
    '<svg onload="window.__xss=\'svg\'"></svg>'
    '<iframe srcdoc="<script>parent.__xss=1</script>"></iframe>'
    '<form action="javascript:alert(1)"><button id="js-button">go</button></form>'
    '<p style="background:url(javascript:alert(1))" onclick="alert(1)">Calm text after the payloads.</p>'
    # Unclosed mutation-XSS payload last: the sanitizer drops <math> with everything after it.
    '<math><mtext><table><mglyph><style><img src=x onerror="window.__xss=\'mxss\'">'
)
HOSTILE_TITLE = "<img src=x onerror=\"window.__xss='title'\"> Storm <script>alert(1)</script>"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, ReaderService]]:
    import uvicorn

    reader = make_reader(tmp_path_factory.mktemp("browser") / "data")
    add_story(reader, "s-big", "Floods hit Valencia", [("Reuters", 6), ("AP", 5), ("BBC", 3), ("El País", 0.5)],
              entities=("Valencia", "Spain"),
              text="Heavy rain flooded Valencia on Tuesday. At least 40 people died, officials said. "
                   "The regional government declared an emergency.\n\nRescue teams searched homes.")  # fmt: skip
    add_story(reader, "s-small", "Local council votes on budget", [("Gazette", 0.2)], entities=("Springfield",))
    add_story(reader, "s-hostile", HOSTILE_TITLE, [("<script>alert(1)</script>", 1), ("Evil Times", 2)],
              entities=('"><svg onload=alert(1)>',), html=HOSTILE_HTML)  # fmt: skip
    reader.service.storage.add_source(
        "https://evil.example/feed", title="<script>window.__xss='source'</script>Evil feed", now=reader.now()
    )
    port = free_port()
    config = uvicorn.Config(create_app(reader), host="127.0.0.1", port=port, log_level="warning")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", reader
    finally:
        uv.should_exit = True
        thread.join(timeout=10)
        reader.service.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    tab = context.new_page()
    tab.dialogs = []  # every alert/confirm/prompt that opens is recorded (and dismissed)

    def on_dialog(dialog: Any) -> None:
        tab.dialogs.append(dialog.message)
        dialog.dismiss()

    tab.on("dialog", on_dialog)
    tab.set_default_timeout(10_000)
    try:
        yield tab
    finally:
        context.close()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_up(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/signup")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("form.narrow button[type=submit]")
    page.wait_for_url(f"{base}/following?welcome=1")


def test_reader_journey(server: tuple[str, ReaderService], page: Any) -> None:
    base, _ = server
    page.goto(base + "/")
    assert page.locator(".story-card").first.locator("h2").inner_text() == "Floods hit Valencia"
    assert "4 outlets in 5 hours, 1 in the last hour" in page.locator(".story-card .why").first.inner_text()
    shot(page, "top-stories")

    sign_up(page, base, "alice")
    shot(page, "following")

    # A story, its coverage and its comparison.
    page.goto(f"{base}/story/s-big")
    assert page.locator("h1").inner_text() == "Floods hit Valencia"
    assert page.locator("#compare-h").is_visible()
    assert page.locator(".articles .article-row").count() == 4
    assert page.locator("figure.chart svg rect.bar").count() >= 1

    # Follow an entity with htmx (the button swaps in place).
    valencia = page.locator(".chips li", has_text="Valencia")
    valencia.get_by_role("button", name="Follow Valencia").click()
    page.wait_for_selector(".chips li:has-text('Valencia') button[aria-pressed=true]")
    shot(page, "story")

    # Save an article (htmx), then find it under Saved.
    first = page.locator(".articles .article-row").first
    title = first.locator("a[data-open]").inner_text()
    first.locator("button[data-save]").click()
    page.wait_for_selector(".articles .article-row >> nth=0 >> button[aria-pressed=true]")
    page.goto(f"{base}/saved")
    assert title in page.locator("main").inner_text()
    shot(page, "saved")

    page.goto(f"{base}/for-you")
    assert "Because you follow Valencia" in page.locator("main").inner_text()
    shot(page, "for-you")

    # Read an article in the reader view.
    page.goto(f"{base}/saved")
    page.click(f"text={title}")
    page.wait_for_selector("article.reader-view")
    assert page.locator("a.original").get_attribute("href", timeout=5000).startswith("https://")
    shot(page, "article")

    # Search from the header.
    page.fill("#site-search", "flooded")
    page.press("#site-search", "Enter")
    page.wait_for_url("**/search?q=flooded")
    assert "Floods hit Valencia" in page.locator("main").inner_text()
    shot(page, "search")
    assert page.dialogs == []


def test_keyboard_navigation(server: tuple[str, ReaderService], page: Any) -> None:
    base, _ = server
    sign_up(page, base, "bob")
    page.goto(base + "/")
    page.keyboard.press("j")
    items = page.locator("[data-item]")
    assert "selected" in (items.nth(0).get_attribute("class") or "")
    page.keyboard.press("j")
    assert "selected" in (items.nth(1).get_attribute("class") or "")
    page.keyboard.press("k")
    assert "selected" in (items.nth(0).get_attribute("class") or "")
    page.keyboard.press("?")
    assert page.locator("#help").is_visible()
    page.keyboard.press("Escape")
    page.keyboard.press("o")
    page.wait_for_url(f"{base}/story/s-big")
    # On a story page j selects an article and s saves it.
    page.keyboard.press("j")
    page.keyboard.press("s")
    page.wait_for_selector(".articles .article-row.selected button[aria-pressed=true]")
    page.goto(f"{base}/saved")
    assert page.locator(".article-row").count() == 1


def test_theme_follows_system_and_toggle(server: tuple[str, ReaderService], browser: Any) -> None:
    base, _ = server
    context = browser.new_context(color_scheme="dark")
    try:
        tab = context.new_page()
        tab.goto(base + "/")
        background = "getComputedStyle(document.body).backgroundColor"
        dark = tab.evaluate(background)
        tab.click("#theme-toggle")
        light = tab.evaluate(background)
        assert dark != light and light == "rgb(255, 255, 255)"
        tab.reload()
        assert tab.evaluate(background) == light  # the choice is remembered
        tab.click("#theme-toggle")
        shot(tab, "top-stories-dark")
    finally:
        context.close()


def xss_flag(page: Any, url: str) -> Any:
    """`window.__xss` on the page at `url`, once any navigation a click started has settled.

    A click may start a navigation that a loaded machine begins only after the click returned; reading the
    flag while the page is being replaced fails with "Execution context was destroyed", so read it again
    on the settled page (a flag set by a script before the navigation would have run in this same page)."""
    for _ in range(5):
        try:
            page.wait_for_load_state("load")
            if page.url != url:
                page.goto(url)
                page.wait_for_load_state("load")
            return page.evaluate("window.__xss")
        except Exception as error:  # playwright's Error: only a navigation racing the read is retried
            if "context was destroyed" not in str(error) and "navigation" not in str(error).lower():
                raise
            page.wait_for_timeout(200)
    raise AssertionError(f"{url} kept navigating")


def test_hostile_content_never_executes(server: tuple[str, ReaderService], page: Any) -> None:
    base, reader = server
    hostile_ids = [a.id for a in reader.service.story_articles("s-hostile")]
    sign_up(page, base, "carol")
    visited = ["/", "/story/s-hostile", "/sources", "/search?q=calm", "/entity/%22%3E%3Csvg%20onload%3Dalert(1)%3E"]
    visited += [f"/article/{i}" for i in hostile_ids]
    for path in visited:
        page.goto(base + path)
        page.wait_for_load_state("load")
        for selector in ("#js-link", "#js-button", "a.original"):
            if page.locator(selector).count():
                page.locator(selector).first.click(no_wait_after=True)
                page.wait_for_timeout(100)
                assert xss_flag(page, base + path) is None, (path, selector)
        assert xss_flag(page, base + path) is None, path
    assert page.dialogs == []
    page.goto(f"{base}/article/{hostile_ids[0]}")
    body = page.locator("article.reader-view .body").inner_text()
    assert "Calm text before the payloads." in body and "Calm text after the payloads." in body
    assert "Storm" in page.locator("h1").inner_text()  # the title is shown as text
    shot(page, "hostile-article")


def test_recently_read_pages_open_offline(server: tuple[str, ReaderService], page: Any) -> None:
    base, _ = server
    page.goto(base + "/")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_function("navigator.serviceWorker.controller !== null || true")
    page.goto(f"{base}/story/s-small")  # controlled by the worker now: kept for offline reading
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    page.reload()
    page.context.set_offline(True)
    try:
        page.goto(f"{base}/story/s-small")
        assert page.locator("h1").inner_text() == "Local council votes on budget"
        page.goto(f"{base}/story/s-big")  # never read: the offline page
        assert "offline" in page.locator("h1").inner_text().lower()
    finally:
        page.context.set_offline(False)
