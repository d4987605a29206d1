"""Requests/s of the apps' APIs under wrk, against the same server's /healthz, on the web bench's database.

    .venv/bin/python bench/apps.py --articles 100000 --duration 10 --connections 8

1. Builds (or reuses, ``--data-dir``) the synthetic database of ``bench/web.py`` (stories of 1-15 articles from 40
   outlets over 7 days), adds a reader with an API password, signs in through ClientLogin for a token, and
   with ``--prime N`` builds the stored story pages of the newest N stories with ``refresh_story_pages`` (what
   the ingest intake does after each commit; the loader bypasses the intake). An API read never computes a
   comparison: a story without a built page shows its headline and links only.
2. Serves the app with uvicorn in another process (one worker, as ``newsloom serve``).
3. Runs ``wrk`` (Debian's, installed by scripts/install-tools.sh) for ``--duration`` seconds per endpoint:
   ``/healthz`` (the reference), Google Reader ``stream/contents`` of the reading list with ``n=1000``, and Fever
   ``items`` (50 a page), in both item modes (one item per story, and every article). Prints requests/s and the
   ratio to /healthz; the target is >= 0.5x. Before each mode's endpoints it measures the floor: the same
   server sending a prebuilt body as large as that mode's n=1000 page (no reads, no encoding).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from web import build_database  # the web bench's database builder: one synthetic corpus for both

API_PASSWORD = "bench api password"
USER = "bench"


def serve(data_dir: str, port: int) -> None:
    import uvicorn
    from fastapi.responses import Response

    from newsloom.settings import load_settings
    from newsloom.web.app import KEEP_ALIVE_TIMEOUT_S, build_reader, create_app

    reader = build_reader(load_settings(env={"NEWSLOOM_DATA_DIR": data_dir}))
    app = create_app(reader)
    bodies: dict[int, bytes] = {}

    # The floor of a big JSON answer on this server: a prebuilt body of the same size, sent as is (no reads,
    # no encoding). What stream/contents n=1000 could reach if everything before the send cost nothing.
    @app.get("/bench-floor")
    def floor(size: int) -> Response:
        body = bodies.setdefault(size, b'{"items":["' + b"x" * max(0, size - 13) + b'"]}')
        return Response(body, media_type="application/json")

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                timeout_keep_alive=KEEP_ALIVE_TIMEOUT_S)  # fmt: skip


def prepare_user(data_dir: Path) -> None:
    from newsloom.apps_service import AppService
    from newsloom.settings import load_settings
    from newsloom.web.app import build_reader

    reader = build_reader(load_settings(env={"NEWSLOOM_DATA_DIR": str(data_dir)}))
    try:
        user = reader.accounts.find_user(USER) or reader.signup(USER, API_PASSWORD)
        AppService(reader).set_api_password(user, API_PASSWORD)
    finally:
        reader.service.close()


def wrk(url: str, seconds: int, connections: int, headers: dict[str, str]) -> float:
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "30s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in output:
        raise SystemExit(f"wrk saw errors on {url}:\n{output}")
    match = re.search(r"Requests/sec:\s+([0-9.]+)", output)
    if not match:
        raise SystemExit(f"no Requests/sec in wrk's output:\n{output}")
    return float(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per endpoint")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--data-dir", help="reuse or create the database here (default: a temp dir)")
    parser.add_argument("--prime", type=int, default=0, metavar="N",
                        help="build the story pages of the newest N stories first, as ingest does (~0.1-0.3 s each)")
    parser.add_argument("--serve", nargs=2, metavar=("DATA_DIR", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]))
        return
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: run scripts/install-tools.sh (as root) or apt-get install wrk")

    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="newsloom-bench-apps-"))
    db = data_dir / "newsloom.db"
    if not db.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        count = build_database(db, args.articles)
        print(f"built {count} articles in {time.perf_counter() - started:.1f} s at {db}")
    prepare_user(data_dir)
    if args.prime:
        started = time.perf_counter()
        prime(data_dir, args.prime)
        print(f"built the story pages of {args.prime} stories in {time.perf_counter() - started:.0f} s")

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(data_dir), str(port)], env=dict(os.environ))
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("server did not start")
            time.sleep(0.2)
        login = httpx.post(f"{base}/accounts/ClientLogin", data={"Email": USER, "Passwd": API_PASSWORD}, timeout=30)
        token = login.text.split("Auth=")[1].split()[0]
        auth = {"Authorization": f"GoogleLogin auth={token}"}
        key = hashlib.md5(f"{USER}:{API_PASSWORD}".encode()).hexdigest()
        stream = f"{base}/reader/api/0/stream/contents/user/-/state/com.google/reading-list?n=1000&output=json"
        fever = f"{base}/fever/?api&items&api_key={key}"
        print(f"{args.articles} articles, wrk -t2 -c{args.connections} -d{args.duration}s per endpoint")
        print(f"{'endpoint':44} {'req/s':>8} {'x healthz':>10}")
        reference = wrk(f"{base}/healthz", args.duration, args.connections, {})
        print(f"{'/healthz':44} {reference:8.1f} {1.0:10.2f}")
        for mode in ("stories", "articles"):
            set_mode(data_dir, mode)
            # Warm-up: the first pages read the stored story pages and keep the rendered items in memory.
            for _ in range(3):
                page = httpx.get(stream, headers=auth, timeout=600)
                page.raise_for_status()
            httpx.get(fever, timeout=120).raise_for_status()
            size = len(page.content)
            rps = wrk(f"{base}/bench-floor?size={size}", args.duration, args.connections, {})
            print(f"{f'prebuilt body of {size / 1e6:.1f} MB (floor)':44} {rps:8.1f} {rps / reference:10.2f}")
            for name, url, headers in ((f"stream/contents n=1000 ({mode})", stream, auth), (f"fever items ({mode})", fever, {})):
                rps = wrk(url, args.duration, args.connections, headers)
                print(f"{name:44} {rps:8.1f} {rps / reference:10.2f}")
    finally:
        server.terminate()
        server.wait(timeout=30)


def prime(data_dir: Path, stories: int) -> None:
    from newsloom.apps_service import AppService, StreamSpec
    from newsloom.settings import load_settings
    from newsloom.story_pages import refresh_story_pages
    from newsloom.web.app import build_reader

    reader = build_reader(load_settings(env={"NEWSLOOM_DATA_DIR": str(data_dir)}))
    try:
        apps = AppService(reader)
        user = reader.accounts.find_user(USER)
        assert user is not None
        rows = apps.stream(user, apps.query(user, StreamSpec(), limit=stories, mode="stories"))
        found = apps.store.item_articles([r.item_id for r in rows])
        story_ids = [a.story_id for a in found.values() if a.story_id]
        refresh_story_pages(reader.service.storage, reader.accounts, story_ids, now=reader.now())
    finally:
        reader.service.close()


def set_mode(data_dir: Path, mode: str) -> None:
    from newsloom.apps_service import AppService
    from newsloom.settings import load_settings
    from newsloom.web.app import build_reader

    reader = build_reader(load_settings(env={"NEWSLOOM_DATA_DIR": str(data_dir)}))
    try:
        user = reader.accounts.find_user(USER)
        assert user is not None
        AppService(reader).set_item_mode(user, mode)
    finally:
        reader.service.close()


if __name__ == "__main__":
    main()
