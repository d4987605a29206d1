"""Notifications in real headless Chromium: follow a story, see the unread badge, open the list; a hostile
event title is shown as text and never runs."""

from __future__ import annotations

from typing import Any

import pytest

from newsloom.notify_service import NotifyService
from newsloom.reader_service import ReaderService
from newsloom.storage.notify_base import NewEvent
from tests.web.test_browser import CHROMIUM, NO_CHROMIUM, browser, page, server, shot, sign_up  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM)]

HOSTILE = "<img src=x onerror=\"window.__xss='note'\"> Reuters now covers <script>window.__xss='s'</script>"


def test_badge_and_notifications_page(server: tuple[str, ReaderService], page: Any) -> None:  # noqa: F811
    base, reader = server
    sign_up(page, base, "nina")
    page.goto(f"{base}/story/s-big")
    page.locator("form.follow-form:has(input[value='story']) button").click()
    # htmx posts the form and swaps the button in place: wait for the swap, not for the page already loaded
    page.wait_for_selector("form.follow-form:has(input[value='story']) button[aria-pressed='true']")
    page.goto(f"{base}/following")
    assert "Floods hit Valencia" in page.locator("ul.follows").inner_text()
    user = reader.accounts.find_user("nina")
    assert user is not None
    notes = NotifyService(reader)
    notes.store.record_event(user.id, NewEvent("b1", "new_outlet", "s-big", HOSTILE, "BBC joins.", "{}"), [], now=reader.now())
    notes.store.record_event(user.id, NewEvent("b2", "new_claim", "s-big", "New claim", "A bridge fell.", "{}"), [], now=reader.now())
    page.goto(f"{base}/")
    assert page.locator("#unread-badge").inner_text().startswith("2")
    page.click("#nav-notifications")
    page.wait_for_url(f"{base}/notifications")
    items = page.locator("ol.notifications li")
    assert items.count() == 2
    assert "Reuters now covers" in items.last.inner_text() and "<script>" in items.last.inner_text()  # newest first
    assert page.evaluate("window.__xss") is None and page.dialogs == []
    assert page.locator("#unread-badge").count() == 0  # seen: the badge is gone
    shot(page, "notifications")
    page.locator("ol.notifications li a").last.click()
    page.wait_for_url(f"{base}/story/s-big")
