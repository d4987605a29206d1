"""``newsloom notify --dry-run`` and ``newsloom digest --to ADDRESS --now`` as a person runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsloom.notify_service import NotifyService
from newsloom.settings import Settings
from newsloom.storage.notify_base import NewEvent
from newsloom.web.app import build_reader
from tests.notify.receivers import MailSink


@pytest.fixture
def mail() -> Iterator[MailSink]:
    sink = MailSink().start()
    yield sink
    sink.stop()


def run_cli(tmp_path: Path, *args: str, port: int = 25, expect: int = 0) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ, NEWSLOOM_DATA_DIR=str(tmp_path), NEWSLOOM_ALLOW_PRIVATE_NETWORKS="1", NEWSLOOM_SMTP_HOST="127.0.0.1",
        NEWSLOOM_SMTP_PORT=str(port), NEWSLOOM_SMTP_TLS="none", NEWSLOOM_MAIL_FROM="news@example.org",
        NEWSLOOM_SMTP_TIMEOUT_S="2",
    )  # fmt: skip
    env.pop("NEWSLOOM_DATABASE_URL", None)
    env.pop("NEWSLOOM_QUEUE_URL", None)
    result = subprocess.run([sys.executable, "-m", "newsloom.cli", *args], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == expect, (args, result.stdout, result.stderr)
    return result


def test_dry_run_prints_and_sends_nothing(tmp_path: Path, mail: MailSink) -> None:
    notes = NotifyService(build_reader(Settings(data_dir=str(tmp_path))))
    try:
        user = notes.reader.accounts.add_user("lee", "h", now=datetime.now(UTC))
        notes.update_settings(user, email="lee@example.org")
        event = NewEvent("k", "new_outlet", "s1", "Coast Herald now covers the fire", "b", "{}")
        notes.store.record_event(user.id, event, [("email", "lee@example.org")], now=datetime.now(UTC))
    finally:
        notes.reader.service.close()
    out = run_cli(tmp_path, "notify", "--dry-run", port=mail.port).stdout
    assert "email\tlee@example.org" in out and "Coast Herald now covers the fire" in out
    assert "1 notifications would be sent" in out and mail.messages == []
    sent = run_cli(tmp_path, "notify", port=mail.port).stdout
    assert "1 sent" in sent and len(mail.messages) == 1
    assert "0 notifications would be sent" in run_cli(tmp_path, "notify", "--dry-run", port=mail.port).stdout


def test_digest_now_and_its_bad_input(tmp_path: Path, mail: MailSink) -> None:
    out = run_cli(tmp_path, "digest", "--to", "ops@example.org", "--now", port=mail.port).stdout
    assert "sent" in out and len(mail.messages) == 1 and mail.messages[0]["To"] == "ops@example.org"
    bad = run_cli(tmp_path, "digest", "--to", "not an address", "--now", port=mail.port, expect=2)
    assert "not an e-mail address" in bad.stderr and "Traceback" not in bad.stderr
    mail.refuse = True
    refused = run_cli(tmp_path, "digest", "--to", "ops@example.org", "--now", port=mail.port, expect=4)
    assert "refused the recipient" in refused.stderr and "Traceback" not in refused.stderr
    no_now = run_cli(tmp_path, "digest", "--to", "ops@example.org", port=mail.port, expect=2)
    assert "--now" in no_now.stderr
