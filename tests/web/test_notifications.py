"""Notifications in the reader: follow a story with a channel, the unread badge, the list, settings, the test
event button (to a loopback receiver), one-click unsubscribe; hostile event text stays inert."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from newsloom.notify.digest import unsubscribe_token
from newsloom.reader_service import ReaderService
from newsloom.storage.notify_base import NewEvent
from newsloom.web.app import create_app
from tests.notify.receivers import WebhookReceiver
from tests.web.conftest import NOW, PASSWORD, make_reader, post, sign_up, text_of


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver().start()
    yield server
    server.stop()


def notes_of(client: TestClient):  # type: ignore[no-untyped-def]
    return client.app.state.notify  # type: ignore[attr-defined]


def test_follow_a_story_and_see_its_events(client: TestClient, stocked: ReaderService) -> None:
    sign_up(client, "nora")
    page = client.get("/story/s-big").text
    assert 'name="kind" value="story"' in page
    assert post(client, "/follow", {"kind": "story", "value": "s-big", "next": "/story/s-big"}).status_code == 303
    user = stocked.accounts.find_user("nora")
    assert user is not None
    following = client.get("/following").text
    assert "Floods hit Valencia" in following and 'action="/follow/channel"' in following
    assert post(client, "/follow/channel", {"kind": "story", "value": "s-big", "channel": "webhook"}).status_code == 303
    assert stocked.accounts.list_follows(user.id)[0].channel == "webhook"
    notes = notes_of(client)
    hostile = '<script>alert("x")</script>'
    notes.store.record_event(user.id, NewEvent("k1", "new_outlet", "s-big", f"Reuters now covers {hostile}", "b", "{}"), [], now=NOW)
    notes.store.record_event(user.id, NewEvent("k2", "new_claim", "s-big", "New claim", "A bridge fell.", "{}"), [], now=NOW)
    top = client.get("/").text
    assert 'id="unread-badge">2' in top and 'data-unread="2"' in top
    listing = client.get("/notifications")
    assert listing.status_code == 200
    assert "A bridge fell." in listing.text and hostile not in listing.text and "&lt;script&gt;" in listing.text
    assert text_of(listing.text).count(" new ") >= 2
    assert 'id="unread-badge"' not in client.get("/").text  # seen: the badge clears


@pytest.fixture
def open_client(tmp_path: Path) -> Iterator[tuple[TestClient, ReaderService]]:
    """A reader that may post to loopback webhooks (the tests' receiver), like a test deployment."""
    reader = make_reader(tmp_path / "open", allow_private_networks=True)
    try:
        with TestClient(create_app(reader)) as c:
            yield c, reader
    finally:
        reader.service.close()


def test_private_webhook_urls_are_refused_by_default(client: TestClient, receiver: WebhookReceiver) -> None:
    sign_up(client, "max")
    refused = post(client, "/notifications/settings", {"email": "", "digest": "off", "webhook_url": receiver.url})
    assert "loopback" in refused.headers["location"]


def test_settings_test_event_and_failures(open_client: tuple[TestClient, ReaderService], receiver: WebhookReceiver) -> None:
    client, stocked = open_client
    sign_up(client, "olga")
    bad = post(client, "/notifications/settings", {"email": "nope", "digest": "off", "webhook_url": ""})
    assert "not%20an%20e-mail" in bad.headers["location"]
    assert "not an e-mail address" in client.get(bad.headers["location"]).text
    saved = post(client, "/notifications/settings", {"email": "olga@example.org", "digest": "daily", "webhook_url": receiver.url})
    assert saved.headers["location"] == "/notifications?notice=saved"
    page = client.get("/notifications").text
    assert 'id="send-test"' in page and receiver.url in page
    sent = post(client, "/notifications/test")
    assert sent.headers["location"] == "/notifications?notice=test-sent"
    (got,) = receiver.received
    assert json.loads(got.body)["type"] == "test" and "X-Newsloom-Signature" in got.headers
    receiver.mode = "fail"
    failed = post(client, "/notifications/test")
    assert "HTTP%20500" in failed.headers["location"]
    user = stocked.accounts.find_user("olga")
    assert user is not None
    notes = notes_of(client)
    (pending,) = notes.store.pending_deliveries(now=NOW + timedelta(days=2))
    notes.store.delivery_failed(pending.id, "webhook answered HTTP 500", retry_at=None)
    assert "Deliveries that failed" in client.get("/notifications").text


def test_one_click_unsubscribe(client: TestClient, stocked: ReaderService) -> None:
    sign_up(client, "pia")
    post(client, "/notifications/settings", {"email": "pia@example.org", "digest": "daily", "webhook_url": ""})
    user = stocked.accounts.find_user("pia")
    assert user is not None
    token = unsubscribe_token(stocked.secret_key, user.id)
    anonymous = TestClient(create_app(stocked))
    assert "Stop the e-mail digest" in anonymous.get(f"/unsubscribe/{token}").text
    # what a mail client sends for RFC 8058 one-click: no cookie, no CSRF token
    done = anonymous.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "no more digests" in done.text
    assert notes_of(client).notify_settings(user).digest == "off"
    assert anonymous.post(f"/unsubscribe/{user.id}.forged", data={"List-Unsubscribe": "One-Click"}).status_code == 404
    assert PASSWORD  # the signed-in client was not needed
