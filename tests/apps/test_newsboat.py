"""A real app against a real server: Debian's newsboat (2.21, ``urls-source "feedhq"``) reads ``newsloom serve``.

newsboat signs in (ClientLogin) with the API password set by ``newsloom api-password``, lists the
subscriptions, reloads every feed (``/reader/atom/...``), and its unread count must equal newsloom's. Then,
driven through tmux as a person would, it opens an article, which marks it read through ``edit-tag``, and the
web reader's state shows it read. Skips (saying why) only when newsboat or tmux is missing and could not be
installed (scripts/install-tools.sh, run by ``make test``, installs them as root).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from newsloom.reader_service import ReaderService
from tests.apps.conftest import API_PASSWORD, add_stock
from tests.web.conftest import PASSWORD, make_reader

NEWSBOAT = shutil.which("newsboat")
TMUX = shutil.which("tmux")
pytestmark = pytest.mark.skipif(
    NEWSBOAT is None or TMUX is None, reason="newsboat and tmux are needed (scripts/install-tools.sh installs them as root)"
)
SERVER_START_S = 30
NEWSBOAT_S = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def stock(data_dir: Path) -> None:
    reader = make_reader(data_dir)
    add_stock(reader)
    reader.signup("alice", PASSWORD)
    reader.service.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    data_dir = tmp_path / "data"
    stock(data_dir)
    # One server process: the test is about the apps' API (tests/web/test_workers.py covers several).
    env = {**os.environ, "NEWSLOOM_DATA_DIR": str(data_dir), "NEWSLOOM_API_PASSWORD": API_PASSWORD,
           "NEWSLOOM_WEB_WORKERS": "1"}  # fmt: skip
    newsloom = [sys.executable, "-m", "newsloom.cli"]
    done = subprocess.run([*newsloom, "api-password", "alice"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    port = free_port()
    process = subprocess.Popen([*newsloom, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and process.poll() is None, "newsloom serve did not start"
            time.sleep(0.2)
        yield base, data_dir
    finally:
        process.terminate()
        process.wait(timeout=20)


def newsboat_files(tmp_path: Path, base: str) -> list[str]:
    config = tmp_path / "newsboat.conf"
    # A server URL ending in "/" as people type it: newsboat then asks for //accounts/ClientLogin.
    config.write_text(
        f'urls-source "feedhq"\nfeedhq-url "{base}/"\nfeedhq-login "alice"\nfeedhq-password "{API_PASSWORD}"\n'
        "feedhq-show-special-feeds no\n"
    )
    urls = tmp_path / "urls"
    urls.touch()
    return ["-C", str(config), "-c", str(tmp_path / "cache.db"), "-u", str(urls)]


def unread_in_newsloom(data_dir: Path) -> tuple[int, ReaderService]:
    from newsloom.apps_service import AppService

    reader = make_reader(data_dir)
    apps = AppService(reader)
    user = reader.accounts.find_user("alice")
    assert user is not None
    return apps.unread_counts(user)[1], reader


def test_newsboat_reads_and_marks_newsloom_items(server: tuple[str, Path], tmp_path: Path) -> None:
    base, data_dir = server
    args = newsboat_files(tmp_path, base)
    env = {**os.environ, "HOME": str(tmp_path)}
    assert NEWSBOAT is not None and TMUX is not None
    done = subprocess.run([NEWSBOAT, *args, "-x", "reload", "print-unread"], env=env, capture_output=True, text=True,
                          timeout=NEWSBOAT_S)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    expected, reader = unread_in_newsloom(data_dir)
    reader.service.close()
    assert expected == 3  # two stories and a lone article
    assert done.stdout.strip() == f"{expected} unread articles"

    # Open the first feed's first article in newsboat's interface; opening marks it read on the server.
    socket_name = f"nl{os.getpid()}"
    tmux = [TMUX, "-L", socket_name]
    command = " ".join([f"HOME={tmp_path}", NEWSBOAT, *args])
    subprocess.run([*tmux, "new-session", "-d", "-s", "nb", "-x", "160", "-y", "40", command], check=True, timeout=10)
    try:
        screen = wait_for(tmux, "Alpha News")
        assert "Beta Times" in screen  # the subscription list came from newsloom
        subprocess.run([*tmux, "send-keys", "-t", "nb", "Enter"], check=True, timeout=10)
        wait_for(tmux, "Council votes")
        subprocess.run([*tmux, "send-keys", "-t", "nb", "Enter"], check=True, timeout=10)
        wait_for(tmux, "Link: https://alpha.example/s-two/0")
        # newsboat tells the server when the reader leaves the article for the list again.
        subprocess.run([*tmux, "send-keys", "-t", "nb", "q"], check=True, timeout=10)
        read = wait_until_read(data_dir, "s-two")
    finally:
        subprocess.run([*tmux, "kill-server"], timeout=10, check=False)
    assert read, "newsloom never saw the article read"
    expected_after, reader = unread_in_newsloom(data_dir)
    try:
        user = reader.accounts.find_user("alice")
        assert user is not None
        view = reader.story_view("s-two", user, with_comparison=False)
        assert all(row.read for row in view.articles)  # the web reader shows it read
        assert expected_after == expected - 1
    finally:
        reader.service.close()
    again = subprocess.run([NEWSBOAT, *args, "-x", "reload", "print-unread"], env=env, capture_output=True, text=True,
                           timeout=NEWSBOAT_S)  # fmt: skip
    assert again.stdout.strip() == f"{expected_after} unread articles"


def wait_for(tmux: list[str], text: str, timeout_s: float = 20) -> str:
    deadline = time.monotonic() + timeout_s
    screen = ""
    while time.monotonic() < deadline:
        screen = subprocess.run([*tmux, "capture-pane", "-p", "-t", "nb"], capture_output=True, text=True, timeout=10).stdout
        if text in screen:
            return screen
        time.sleep(0.2)
    raise AssertionError(f"newsboat never showed {text!r}; screen:\n{screen}")


def wait_until_read(data_dir: Path, story_id: str, timeout_s: float = 20) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        reader = make_reader(data_dir)
        try:
            user = reader.accounts.find_user("alice")
            assert user is not None
            ids = [a.id for a in reader.service.story_articles(story_id)]
            if reader.accounts.read_ids(user.id, ids) == set(ids):
                return True
        finally:
            reader.service.close()
        time.sleep(0.3)
    return False
