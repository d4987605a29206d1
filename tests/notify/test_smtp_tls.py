"""SMTP with STARTTLS and with TLS from the first byte, against a real aiosmtpd server on loopback whose
certificate comes from a CA made at test time: verified by default, trusted only through ``smtp_ca_file``;
SMTP AUTH over the encrypted connection."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsloom.errors import ConfigError, DeliveryError
from newsloom.notify.mail import new_message, send_message
from newsloom.notify_service import NotifyService
from newsloom.settings import Settings
from newsloom.storage.notify_base import NewEvent
from newsloom.web.app import build_reader
from tests.notify.certs import LoopbackCA, make_test_ca
from tests.notify.receivers import MailSink

# aiosmtpd warns when AUTH is allowed without STARTTLS, which is what the "tls" sink does on purpose.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
MODES = ["starttls", "tls"]
LOGINS = {"ann": "s3cret pass"}


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> LoopbackCA:
    return make_test_ca(tmp_path_factory.mktemp("ca"))


@pytest.fixture(params=MODES)
def sink(request: pytest.FixtureRequest, ca: LoopbackCA) -> Iterator[MailSink]:
    server = MailSink(tls=request.param, ca=ca, logins=LOGINS).start()
    server.mode = request.param  # type: ignore[attr-defined]
    yield server
    server.stop()


def mail_settings(tmp_path: Path, sink: MailSink, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": str(tmp_path), "smtp_host": "127.0.0.1", "smtp_port": sink.port,
        "smtp_tls": sink.mode, "mail_from": "news@example.org", "smtp_user": "ann",  # type: ignore[attr-defined]
        "smtp_password": LOGINS["ann"], "smtp_timeout_s": 10.0,
    }  # fmt: skip
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def message(settings: Settings):  # type: ignore[no-untyped-def]
    return new_message(settings, "rita@example.org", "Hello", "Body text", now=datetime.now(UTC))


def test_trusted_certificate_and_login_deliver(tmp_path: Path, sink: MailSink, ca: LoopbackCA) -> None:
    settings = mail_settings(tmp_path, sink, smtp_ca_file=str(ca.ca_file))
    send_message(settings, message(settings))
    (got,) = sink.messages
    assert got["To"] == "rita@example.org" and got["Subject"] == "Hello"
    assert sink.logged_in == ["ann"]


def test_wrong_password_is_a_clear_error(tmp_path: Path, sink: MailSink, ca: LoopbackCA) -> None:
    settings = mail_settings(tmp_path, sink, smtp_ca_file=str(ca.ca_file), smtp_password="wrong")
    with pytest.raises(DeliveryError, match=r"refused the login of 'ann': 535"):
        send_message(settings, message(settings))
    assert sink.messages == [] and sink.logged_in == []


def test_without_login_the_server_refuses(tmp_path: Path, sink: MailSink, ca: LoopbackCA) -> None:
    settings = mail_settings(tmp_path, sink, smtp_ca_file=str(ca.ca_file), smtp_user="", smtp_password="")
    with pytest.raises(DeliveryError, match=r"refused: 530"):
        send_message(settings, message(settings))
    assert sink.messages == []


def test_untrusted_certificate_is_refused_and_nothing_is_marked_sent(tmp_path: Path, sink: MailSink) -> None:
    """No smtp_ca_file: the system CAs do not know the test CA, so the certificate is not trusted."""
    notes = NotifyService(build_reader(mail_settings(tmp_path, sink)))
    try:
        user = notes.reader.accounts.add_user("rita", "h", now=datetime.now(UTC))
        notes.update_settings(user, email="rita@example.org")
        notes.store.record_event(user.id, NewEvent("k", "new_outlet", "s1", "Outlet covers it", "b", "{}"),
                                 [("email", "rita@example.org")], now=datetime.now(UTC))  # fmt: skip
        report = notes.deliver()
        (delivery,) = notes.store.list_deliveries(user.id)
    finally:
        notes.reader.service.close()
    assert report.sent == 0 and report.retrying == 1
    assert delivery.status != "sent" and delivery.sent_at is None
    assert delivery.last_error is not None and "certificate is not trusted" in delivery.last_error
    assert "smtp_ca_file" in delivery.last_error and "\n" not in delivery.last_error
    assert sink.messages == [] and sink.logged_in == []  # the password never left the client


def test_a_trusted_certificate_for_another_host_is_refused(tmp_path: Path) -> None:
    """Trusting the CA is not enough: the certificate must name the host connected to."""
    elsewhere = make_test_ca(tmp_path / "ca", names="DNS:mail.example.org")
    for mode in MODES:
        sink = MailSink(tls=mode, ca=elsewhere, logins=LOGINS).start()
        sink.mode = mode  # type: ignore[attr-defined]
        try:
            settings = mail_settings(tmp_path, sink, smtp_ca_file=str(elsewhere.ca_file))
            with pytest.raises(DeliveryError, match=r"certificate is not trusted \(IP address mismatch"):
                send_message(settings, message(settings))
            assert sink.messages == [] and sink.logged_in == []
        finally:
            sink.stop()


def test_a_missing_ca_file_is_a_config_error(tmp_path: Path, sink: MailSink) -> None:
    settings = mail_settings(tmp_path, sink, smtp_ca_file=str(tmp_path / "nope.pem"))
    with pytest.raises(ConfigError, match=r"smtp_ca_file .*nope.pem.* cannot be used"):
        send_message(settings, message(settings))


def run_digest(tmp_path: Path, sink: MailSink, **extra: str) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ, NEWSLOOM_DATA_DIR=str(tmp_path), NEWSLOOM_SMTP_HOST="127.0.0.1", NEWSLOOM_SMTP_PORT=str(sink.port),
        NEWSLOOM_SMTP_TLS=sink.mode, NEWSLOOM_MAIL_FROM="news@example.org", NEWSLOOM_SMTP_USER="ann",  # type: ignore[attr-defined]
        NEWSLOOM_SMTP_PASSWORD=LOGINS["ann"], NEWSLOOM_SMTP_TIMEOUT_S="10",
        COLUMNS="400", **extra,  # rich wraps at the terminal's width: keep the error's one line whole
    )  # fmt: skip
    for name in ("NEWSLOOM_DATABASE_URL", "NEWSLOOM_QUEUE_URL", "NEWSLOOM_SMTP_CA_FILE"):
        if name not in extra:
            env.pop(name, None)
    command = [sys.executable, "-m", "newsloom.cli", "digest", "--to", "ops@example.org", "--now"]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def test_digest_command_verifies_the_certificate(tmp_path: Path, sink: MailSink, ca: LoopbackCA) -> None:
    refused = run_digest(tmp_path, sink)
    assert refused.returncode == 4, refused.stderr
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1, refused.stderr  # one line, no traceback
    line = lines[0]
    assert "certificate is not trusted" in line and "NEWSLOOM_SMTP_CA_FILE" in line
    assert sink.messages == []
    trusted = run_digest(tmp_path, sink, NEWSLOOM_SMTP_CA_FILE=str(ca.ca_file))
    assert trusted.returncode == 0, trusted.stderr
    (got,) = sink.messages
    assert got["To"] == "ops@example.org" and sink.logged_in == ["ann"]
