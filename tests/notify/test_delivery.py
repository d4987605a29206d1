"""Delivery on the wire: signed webhooks to loopback receivers that succeed, fail and hang; e-mail and digests
to a real SMTP server (aiosmtpd) on loopback; SMTP refusing, timing out, and malformed addresses."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newsloom.errors import DeliveryError, InputError
from newsloom.notify.deliver import GIVE_UP_AFTER, retry_delay
from newsloom.notify.digest import unsubscribe_user
from newsloom.notify.mail import check_address, new_message, send_message
from newsloom.notify.webhook import verify_signature
from newsloom.notify_service import NotifyService
from newsloom.settings import Settings
from newsloom.storage.notify_base import NewEvent
from newsloom.web.app import build_reader
from tests.notify.newsfixtures import first_report, second_outlet
from tests.notify.receivers import MailSink, WebhookReceiver

T0 = datetime.now(UTC).replace(microsecond=0)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def mail() -> Iterator[MailSink]:
    sink = MailSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver().start()
    yield server
    server.stop()


def make_notes(tmp_path: Path, clock: Clock, **overrides: object) -> NotifyService:
    values: dict[str, object] = {
        "data_dir": str(tmp_path), "allow_private_networks": True, "public_url": "https://news.example.org",
        "smtp_host": "127.0.0.1", "smtp_port": 25, "smtp_tls": "none", "mail_from": "news@example.org",
        "webhook_timeout_s": 10.0, "smtp_timeout_s": 10.0,  # generous: the test machine is shared
    }  # fmt: skip
    values.update(overrides)
    return NotifyService(build_reader(Settings(**values), clock=clock))  # type: ignore[arg-type]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def notes(tmp_path: Path, clock: Clock, mail: MailSink) -> Iterator[NotifyService]:
    service = make_notes(tmp_path, clock, smtp_port=mail.port)
    yield service
    service.reader.service.close()


def fresh(article):  # type: ignore[no-untyped-def]
    return replace(article, published=T0 - timedelta(minutes=30))


def followed_story_with_events(notes: NotifyService, channel: str) -> int:
    """A reader following a story by ``channel``; a second outlet then brings three events."""
    user = notes.reader.accounts.add_user("rita", "h", now=T0)
    intake = notes.reader.service.intake
    first = intake.accept(fresh(first_report()), now=T0)
    assert first.story_id is not None
    notes.reader.accounts.follow(user.id, "story", first.story_id, now=T0, channel=channel)  # type: ignore[arg-type]
    intake.accept(fresh(second_outlet()), now=T0)
    return user.id


def test_signed_webhook_reaches_a_receiver_once(notes: NotifyService, receiver: WebhookReceiver) -> None:
    user_id = followed_story_with_events(notes, "webhook")
    user = notes.reader.accounts.get_user(user_id)
    settings = notes.update_settings(user, webhook_url=receiver.url)
    # the events were stored before the webhook was set up: set it and store one more event
    notes.store.record_event(user_id, NewEvent("k1", "new_outlet", "s1", "T", "B", '{"a": 1}'), [("webhook", receiver.url)], now=T0)
    report = notes.deliver()
    assert report.sent == 1 and report.errors == []
    (got,) = receiver.received
    assert settings.webhook_secret is not None
    sent_at = T0.timestamp()  # deliveries are signed at the service clock's time, not the wall clock's
    event_id = verify_signature(settings.webhook_secret, got.headers, got.body, now=sent_at)
    payload = json.loads(got.body)
    assert payload["id"] == event_id and payload["type"] == "new_outlet" and payload["data"] == {"a": 1}
    assert payload["url"] == "https://news.example.org/story/s1"
    assert notes.deliver().sent == 0  # sent once: nothing left
    # replays and forgeries are refused by the receiving side's check
    with pytest.raises(DeliveryError, match="replay"):
        verify_signature(settings.webhook_secret, got.headers, got.body, now=sent_at + 3600)
    with pytest.raises(DeliveryError, match="does not match"):
        verify_signature(settings.webhook_secret, got.headers, got.body.replace(b"T", b"X"), now=sent_at)
    with pytest.raises(DeliveryError, match="unsigned"):
        verify_signature(settings.webhook_secret, {}, got.body, now=sent_at)


def test_webhook_events_of_a_followed_story_and_the_test_button(notes: NotifyService, receiver: WebhookReceiver) -> None:
    user = notes.reader.accounts.add_user("sam", "h", now=T0)
    notes.update_settings(user, webhook_url=receiver.url)
    intake = notes.reader.service.intake
    first = intake.accept(fresh(first_report()), now=T0)
    assert first.story_id is not None
    notes.reader.accounts.follow(user.id, "story", first.story_id, now=T0, channel="webhook")
    intake.accept(fresh(second_outlet()), now=T0)
    assert [line.channel for line in notes.dry_run()] == ["webhook"] * 3  # the dry run sends nothing
    assert receiver.received == []
    assert notes.deliver().sent == 3
    assert sorted(json.loads(r.body)["type"] for r in receiver.received) == ["figure_differs", "new_claim", "new_outlet"]
    assert notes.send_test_event(user).sent == 1
    assert json.loads(receiver.received[-1].body)["type"] == "test"


def test_failing_webhook_backs_off_for_a_day_then_fails(notes: NotifyService, clock: Clock, receiver: WebhookReceiver) -> None:
    receiver.mode = "fail"
    user = notes.reader.accounts.add_user("tom", "h", now=T0)
    notes.update_settings(user, webhook_url=receiver.url)
    notes.store.record_event(user.id, NewEvent("k", "new_outlet", "s1", "T", "B", "{}"), [("webhook", receiver.url)], now=T0)
    report = notes.deliver()
    assert report.retrying == 1 and "HTTP 500" in report.errors[0]
    (pending,) = notes.store.pending_deliveries(now=T0 + timedelta(seconds=retry_delay(1)))
    assert pending.attempts == 1 and pending.next_attempt_at == T0 + timedelta(seconds=30)
    assert notes.deliver().sent == 0  # not due yet
    tries = 1
    while notes.store.list_deliveries(user.id)[0].status == "pending":
        clock.now = notes.store.list_deliveries(user.id)[0].next_attempt_at
        notes.deliver()
        tries += 1
        assert tries < 40
    (failed,) = notes.failed_deliveries(user)
    assert failed.status == "failed" and "HTTP 500" in (failed.last_error or "")
    assert 10 <= tries <= 20 and clock.now - T0 <= GIVE_UP_AFTER
    assert len(receiver.received) == tries


def test_hanging_webhook_times_out(notes: NotifyService, receiver: WebhookReceiver) -> None:
    receiver.mode, receiver.hang_s = "hang", 10.0
    notes.settings = replace(notes.settings, webhook_timeout_s=1.0)
    user = notes.reader.accounts.add_user("una", "h", now=T0)
    notes.update_settings(user, webhook_url=receiver.url)
    notes.store.record_event(user.id, NewEvent("k", "test", None, "T", "B", "{}"), [("webhook", receiver.url)], now=T0)
    started = time.monotonic()
    report = notes.deliver()
    assert time.monotonic() - started < 7  # well under the 10 s hang: the 1 s timeout ended it
    assert report.retrying == 1 and "no answer within 1 s" in report.errors[0]


def test_private_webhook_addresses_are_refused(tmp_path: Path, clock: Clock, receiver: WebhookReceiver) -> None:
    notes = make_notes(tmp_path, clock, allow_private_networks=False)
    try:
        user = notes.reader.accounts.add_user("vic", "h", now=T0)
        with pytest.raises(InputError, match="webhook URL refused"):
            notes.update_settings(user, webhook_url=receiver.url)
        with pytest.raises(InputError, match="refused"):
            notes.update_settings(user, webhook_url="file:///etc/passwd")
        # a URL stored while allowed (or a name resolving to a private address) is refused at send time
        notes.store.update_notify_settings(user.id, webhook_url=receiver.url, webhook_secret="s")
        notes.store.record_event(user.id, NewEvent("k", "test", None, "T", "B", "{}"), [("webhook", receiver.url)], now=T0)
        report = notes.deliver()
        assert report.retrying == 1 and "loopback" in report.errors[0] and receiver.received == []
    finally:
        notes.reader.service.close()


def test_email_notifications_and_digest_arrive(notes: NotifyService, mail: MailSink) -> None:
    user_id = followed_story_with_events(notes, "email")
    user = notes.reader.accounts.get_user(user_id)
    assert notes.dry_run() == []  # no address yet: in-app only
    notes.update_settings(user, email="rita@example.org", digest="daily")
    notes.store.record_event(user_id, NewEvent("k", "new_outlet", "s1", "Outlet covers it", "Body", "{}"),
                             [("email", "rita@example.org")], now=T0)  # fmt: skip
    assert notes.deliver().sent == 1
    (note,) = mail.messages
    assert note["To"] == "rita@example.org" and note["Subject"] == "Outlet covers it"
    assert note["Message-ID"].startswith("<nl-")
    assert [s.user_id for s in notes.due_digests()] == [user_id]
    assert notes.send_due_digests().sent == 1
    assert notes.due_digests() == []  # not again within the day
    digest = mail.messages[-1]
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = "".join(digest["List-Unsubscribe"].split()).strip("<>")
    assert link.startswith("https://news.example.org/unsubscribe/")
    text = digest.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = digest.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "Top stories" in text and "Harbourside" in text and "now covers" in text
    assert "<script" not in html and "Harbourside" in html and 'href="https://news.example.org/story/' in html
    assert notes.unsubscribe(link.rsplit("/", 1)[1])
    assert notes.notify_settings(user).digest == "off"
    assert unsubscribe_user(notes.reader.secret_key, f"{user_id}.forged") is None


def test_a_refused_digest_is_retried_on_the_next_run(notes: NotifyService, mail: MailSink) -> None:
    """The claim taken before sending is given back when the send fails."""
    user = notes.reader.accounts.add_user("sol", "h", now=T0)
    notes.update_settings(user, email="sol@example.org", digest="hourly")
    mail.refuse = True
    failed = notes.send_due_digests()
    assert failed.sent == 0 and failed.retrying == 1 and "refused the recipient" in failed.errors[0]
    assert notes.notify_settings(user).last_digest_at is None and [s.user_id for s in notes.due_digests()] == [user.id]
    mail.refuse = False
    assert notes.send_due_digests().sent == 1 and notes.send_due_digests().sent == 0
    assert [m["To"] for m in mail.messages] == ["sol@example.org"]
    assert notes.notify_settings(user).last_digest_at == T0


def test_digest_now_to_an_address(notes: NotifyService, mail: MailSink) -> None:
    notes.reader.service.intake.accept(fresh(first_report()), now=T0)
    digest = notes.send_digest_now("ops@example.org")
    (got,) = mail.messages
    assert got["To"] == "ops@example.org" and got["Subject"] == digest.subject and "Harbourside" in digest.subject


def test_hostile_headline_is_escaped_in_the_digest(notes: NotifyService) -> None:
    from newsloom.notify.digest import DigestStory, build_digest

    evil = '<script>alert(1)</script><img src=x onerror=alert(2)>'
    out = build_digest(reader_name="<b>me</b>", period="daily", stories=[DigestStory("s1", evil, "why", "javascript:alert(3)")],
                       changes=[], now=T0, home_url=None, unsubscribe_url=None)  # fmt: skip
    assert "<script" not in out.html and "<img" not in out.html and "javascript:" not in out.html
    assert "&lt;script&gt;" in out.html and evil in out.text


def test_smtp_refusing_timing_out_and_bad_addresses(tmp_path: Path, mail: MailSink) -> None:
    settings = Settings(data_dir=str(tmp_path), smtp_host="127.0.0.1", smtp_port=mail.port, smtp_tls="none",
                        mail_from="news@example.org", smtp_timeout_s=1.0)  # fmt: skip
    message = new_message(settings, "a@example.org", "S", "T", now=T0)
    mail.refuse = True
    with pytest.raises(DeliveryError, match=r"refused the recipient .*550"):
        send_message(settings, message)
    for bad in ("not-an-address", "a@b", "x@example.org\r\nBcc: evil@example.org", "<a@example.org>", ""):
        with pytest.raises(InputError, match="not an e-mail address"):
            check_address(bad)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(silent.accept()[0]), daemon=True).start()
    try:
        started = time.monotonic()
        with pytest.raises(DeliveryError, match="did not answer within 1 s"):
            send_message(replace(settings, smtp_port=silent.getsockname()[1]), message)
        assert time.monotonic() - started < 8  # the 1 s timeout, not the silent server, ended it
    finally:
        for conn in accepted:
            conn.close()
        silent.close()
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    with pytest.raises(DeliveryError, match="ConnectionRefusedError"):
        send_message(replace(settings, smtp_port=port), message)


def test_openapi_documents_exactly_the_payload_sent() -> None:
    from newsloom.notify.webhook import WebhookEvent
    from newsloom.web.webhook_schema import WebhookPayload

    event = WebhookEvent("id", "new_outlet", T0, "s1", "t", "b", {"outlet": "X"}, None)
    sent = json.loads(event.json_body())
    assert set(sent) == set(WebhookPayload.model_fields)
    WebhookPayload.model_validate(sent)
