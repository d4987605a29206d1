"""Start-up: each command imports only what it uses, and queue commands without the extra fail clearly.

Real processes: ``newsloom`` runs in a subprocess and reports which modules it loaded; an optional extra is made
unimportable the way Python itself does it (``sys.modules[name] = None`` makes ``import name`` raise
ImportError), so the real command path meets a real ImportError.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.loopback import LoopbackServer, Response

# Heavy libraries no start-up path needs: extraction, the story engine, the web app, the task queue, migrations.
HEAVY = ("trafilatura", "sklearn", "numpy", "fastapi", "uvicorn", "celery", "redis", "alembic", "psycopg")

# Runs the real entry point with argv from the command line, then prints the loaded top-level packages and
# the newsloom modules as JSON on a line of its own (after whatever the command printed).
REPORT_MODULES = """
import json, sys
blocked = json.loads(sys.argv[1])
for name in blocked:
    sys.modules[name] = None  # `import name` now raises ImportError, as when the package is not installed
sys.argv = ["newsloom", *sys.argv[2:]]
from newsloom.cli import main
code = 0
try:
    main()
except SystemExit as exc:
    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
loaded = sorted({m.split(".")[0] for m in sys.modules if sys.modules[m] is not None})
ours = sorted(m for m in sys.modules if m.startswith("newsloom.") and sys.modules[m] is not None)
print("\\nMODULES " + json.dumps({"packages": loaded, "newsloom": ours}))
sys.exit(code)
"""


def run_cli(
    tmp_path: Path, *args: str, blocked: tuple[str, ...] = (), queue_url: str | None = None
) -> tuple[subprocess.CompletedProcess[str], dict[str, list[str]]]:
    env = dict(os.environ, NEWSLOOM_DATA_DIR=str(tmp_path / "data"), NEWSLOOM_ALLOW_PRIVATE_NETWORKS="1")
    env.pop("NEWSLOOM_DATABASE_URL", None)
    env.pop("NEWSLOOM_QUEUE_URL", None)
    if queue_url is not None:
        env["NEWSLOOM_QUEUE_URL"] = queue_url
    result = subprocess.run(
        [sys.executable, "-c", REPORT_MODULES, json.dumps(list(blocked)), *args],
        env=env, capture_output=True, text=True, timeout=120,
    )
    marker = result.stdout.rfind("MODULES ")
    assert marker >= 0, (result.stdout, result.stderr)
    return result, json.loads(result.stdout[marker + len("MODULES "):])


def test_help_loads_no_heavy_library(tmp_path: Path) -> None:
    result, modules = run_cli(tmp_path, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout and "worker" in result.stdout
    assert not set(HEAVY) & set(modules["packages"]), modules["packages"]
    for package in ("sqlalchemy", "httpx", "feedparser", "lxml", "pydantic"):
        assert package not in modules["packages"], package
    assert "newsloom.service" not in modules["newsloom"]


def test_add_loads_storage_fetch_and_feeds_only(tmp_path: Path, loopback: LoopbackServer) -> None:
    loopback.routes["/feed.xml"] = Response(
        b"<?xml version='1.0'?><rss version='2.0'><channel><title>Valley Post</title>"
        b"<link>http://example.org/</link><item><title>a</title><link>http://example.org/a</link></item>"
        b"</channel></rss>",
        headers={"Content-Type": "application/rss+xml"},
    )
    first, _ = run_cli(tmp_path, "init")  # migrations (Alembic) run here, once, not on each later command
    assert first.returncode == 0, first.stderr
    result, modules = run_cli(tmp_path, "add", loopback.url("/feed.xml"))
    assert result.returncode == 0, result.stderr
    assert "subscribed to source 1: Valley Post" in result.stdout
    assert not set(HEAVY) & set(modules["packages"]), modules["packages"]
    assert {"sqlalchemy", "httpx", "feedparser"} <= set(modules["packages"])
    # httpx's own command-line client and what it pulls in (see newsloom/ingest/__init__.py)
    assert not {"click", "pygments"} & set(modules["packages"]), modules["packages"]
    story_engine = ("newsloom.stories.cluster", "newsloom.stories.dedupe", "newsloom.stories.embed")
    for module in (*story_engine, "newsloom.ingest.extract", "newsloom.ingest.pipeline", "newsloom.ingest.intake"):
        assert module not in modules["newsloom"], module


@pytest.mark.parametrize("command", ["worker", "scheduler"])
@pytest.mark.parametrize("missing", ["celery", "redis"])
def test_queue_commands_without_the_extra_say_what_to_install(tmp_path: Path, command: str, missing: str) -> None:
    result, _ = run_cli(tmp_path, command, blocked=(missing,))
    assert result.returncode != 0
    assert "newsloom[queue]" in result.stderr
    assert "pip install 'newsloom[queue]'" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "ModuleNotFoundError" not in result.stderr


def test_update_in_queue_mode_without_the_extra_says_what_to_install(tmp_path: Path) -> None:
    result, _ = run_cli(tmp_path, "update", blocked=("celery",), queue_url="redis://127.0.0.1:6379/15")
    assert result.returncode != 0
    assert "pip install 'newsloom[queue]'" in result.stderr
    assert "Traceback" not in result.stderr
