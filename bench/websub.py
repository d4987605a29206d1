"""Delay from a WebSub hub's push to the story page showing the article, at a steady push rate.

    .venv/bin/python bench/websub.py --pushes 1000 --rate 100

1. Starts ``newsloom serve`` in its own process (SQLite in a temp dir, or ``--database-url``) with
   ``public_url`` pointing at it, a feed server and the loopback hub of ``tests/websub/hub.py`` in this one.
2. Subscribes the feed the normal way (``Service.update`` polls it, finds the hub, asks; the hub verifies
   against the server's callback).
3. Sends ``--pushes`` deliveries at ``--rate`` per second, each a signed Atom document with one new article
   (distinct wording, so each makes or joins a story as real news would). For each push the clock starts
   when the hub sends it and stops when ``GET /story/<id>`` of the article's story returns a page with its
   title: push -> verified -> parsed -> stored -> clustered -> rendered.
4. The reference, measured in the same run at the same rate: ``GET /healthz`` (a hello-world response of the
   same server) and ``GET /story/<id>`` of a story already there (the page alone, nothing ingested).

The hub and the page checks are Python threads in this process, on the same cores as the server; wrk cannot
sign per-request bodies, so the hub is the load generator here (its own cost is in the figures).
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from html import escape
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
from tests.loopback import LoopbackServer  # noqa: E402
from tests.websub.conftest import free_port  # noqa: E402
from tests.websub.hub import Hub  # noqa: E402

from newsloom.service import Service  # noqa: E402
from newsloom.settings import load_settings  # noqa: E402

TARGET_P95_S = 2.0
_WORDS = (
    "government minister election flood storm market shares bank rate inflation police court trial judge president "
    "parliament vote budget energy oil gas climate summit talks ceasefire army border refugees hospital health "
    "vaccine school teachers strike union workers company profits deal merger airline football match final league "
    "coach player injury city council mayor water fire wildfire earthquake rescue victims officials report"
)
WORDS = tuple(_WORDS.split(" "))
PLACES = ["Paris", "Berlin", "Madrid", "Valencia", "Rome", "Lagos", "Tokyo", "Ottawa", "Lima", "Cairo", "Delhi"]
# A page check that does not show the article yet is retried after this long.
RETRY_S = 0.02
GIVE_UP_S = 30.0
# One pushed article in five reports an event already covered (it joins that story); the others are new events.
FOLLOW_UP_EVERY = 5


def name(rng: random.Random) -> str:
    """A made-up proper noun: each event gets names of its own, as real events do."""
    return "".join(rng.choice("bcdfghklmnprstvz") + rng.choice("aeiou") for _ in range(rng.randint(2, 4))).title()


def entry(n: int, base: str, rng: random.Random, events: list[list[str]]) -> tuple[str, str]:
    """Article ``n``: a new event, or (one in ``FOLLOW_UP_EVERY``) another report of an earlier one."""
    if events and n % FOLLOW_UP_EVERY == 0:
        names = rng.choice(events)
    else:
        names = [name(rng) for _ in range(4)]
        events.append(names)
    place, person, group, thing = names
    title = f"{place}: {person} {rng.choice(WORDS)} {thing} {rng.choice(WORDS)} (report {n})"
    sentences = " ".join(
        f"{rng.choice((place, person, group, thing))} {' '.join(rng.sample(WORDS, 6))} {person} of {group} said on "
        f"day {rng.randint(1, 28)}, after {rng.randint(2, 900)} {rng.choice(WORDS)}s in {place}."
        for _ in range(8)
    )
    body = f"<p>{escape(title)}.</p><p>{escape(sentences)}</p>"
    xml = (
        f"<entry><id>{base}/a/{n}</id><title>{escape(title)}</title><link rel=\"alternate\" href=\"{base}/a/{n}\"/>"
        f"<updated>2026-12-04T00:00:00Z</updated><content type=\"html\">{escape(body)}</content></entry>"
    )
    return title, xml


def feed(base: str, hub: str, entries: list[str]) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Bench Wire</title>'
        f'<id>{base}/feed</id><updated>2026-12-04T00:00:00Z</updated><link rel="alternate" href="{base}/"/>'
        f'<link rel="hub" href="{hub}"/><link rel="self" href="{base}/feed.xml"/>{"".join(entries)}</feed>'
    ).encode()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc), to tell work from waiting on shared cores."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def paced(count: int, rate: float, job: object, workers: int) -> list[float]:
    """Run ``job(i)`` for i < count, started at ``rate`` per second; the seconds each took."""
    start = time.perf_counter() + 0.2
    results: list[float] = [0.0] * count

    def run(i: int) -> None:
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        began = time.perf_counter()
        job(i)  # type: ignore[operator]
        results[i] = time.perf_counter() - began

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(run, range(count)))
    return results


def summary(name: str, values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (f"{name:<34} p50 {percentile(ms, 0.5):7.1f} ms  p95 {percentile(ms, 0.95):7.1f} ms  "
            f"p99 {percentile(ms, 0.99):7.1f} ms  max {max(ms):7.1f} ms")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pushes", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=100.0, help="pushes per second")
    parser.add_argument("--workers", type=int, default=64, help="threads sending pushes and checking pages")
    parser.add_argument("--database-url", default="", help="default: SQLite in the temp data dir")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--check-every", type=int, default=10,
        help="open the story page for every Nth push (1: all). Every push is delivered and timed to its "
             "acknowledgement; a story page costs the server far more than an ingest, so checking each of 100 "
             "pushes/s measures how many story pages/s the server renders, not push latency",
    )  # fmt: skip
    args = parser.parse_args()
    if args.pushes < 1 or args.rate <= 0:
        parser.error("--pushes and --rate must be positive")
    rng = random.Random(args.seed)

    with tempfile.TemporaryDirectory(prefix="nl-websub-bench-") as tmp:
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ, "NEWSLOOM_DATA_DIR": str(Path(tmp) / "data"), "NEWSLOOM_PUBLIC_URL": base_url,
            "NEWSLOOM_ALLOW_PRIVATE_NETWORKS": "1", "NEWSLOOM_FETCH_ARTICLE_PAGES": "0", "NEWSLOOM_PER_HOST_DELAY_S": "0",
        }  # fmt: skip
        if args.database_url:
            env["NEWSLOOM_DATABASE_URL"] = args.database_url
        feeds = LoopbackServer().start()
        hub = Hub().start()
        server = subprocess.Popen(
            [sys.executable, "-m", "newsloom.cli", "serve", "--port", str(port)], env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        client = httpx.Client(base_url=base_url, timeout=GIVE_UP_S, trust_env=False,
                              limits=httpx.Limits(max_connections=args.workers))  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("newsloom serve did not start: " + (server.stderr.read().decode() if server.stderr else ""))
                time.sleep(0.1)
            settings = load_settings(env={k: v for k, v in env.items() if k.startswith("NEWSLOOM_")})
            topic = feeds.url("/feed.xml")
            events: list[list[str]] = []
            first_title, first = entry(0, feeds.base_url, rng, events)
            feeds.add("/feed.xml", feed(feeds.base_url, hub.url, [first]), headers={"Content-Type": "application/atom+xml"})
            with Service(settings) as svc:
                svc.add(topic)
                svc.update(all_sources=True)
                hub.wait_verified(1, timeout=30)
                if hub.subscription(topic) is None:
                    raise SystemExit("the hub did not confirm the subscription")
                known = svc.storage.find_article(canonical_url=f"{feeds.base_url}/a/0")
                assert known is not None and known.story_id is not None
                known_story = known.story_id
                pushes = [entry(n, feeds.base_url, rng, events) for n in range(1, args.pushes + 1)]
                bodies = [feed(feeds.base_url, hub.url, [xml]) for _, xml in pushes]
                lock = threading.Lock()

                def healthz(_: int) -> None:
                    client.get("/healthz").raise_for_status()

                def story_page(_: int) -> None:
                    page = client.get(f"/story/{known_story}")
                    assert page.status_code == 200 and escape(first_title) in page.text

                acks: list[float] = [0.0] * args.pushes
                checked: list[int] = []
                failures: list[str] = []

                def push(i: int) -> None:
                    began = time.perf_counter()
                    statuses = hub.publish(topic, bodies[i])
                    acks[i] = time.perf_counter() - began
                    if statuses != [200]:
                        with lock:
                            failures.append(f"push {i + 1}: hub got {statuses}")
                        return
                    if i % args.check_every:
                        return
                    with lock:
                        checked.append(i)
                    title = escape(pushes[i][0])
                    url = f"{feeds.base_url}/a/{i + 1}"
                    while time.perf_counter() - began < GIVE_UP_S:
                        with lock:  # one storage handle in this process, used from many threads
                            article = svc.storage.find_article(canonical_url=url)
                        if article is not None and article.story_id is not None:
                            page = client.get(f"/story/{article.story_id}", follow_redirects=True)
                            if page.status_code == 200 and title in page.text:
                                return
                        time.sleep(RETRY_S)
                    with lock:
                        failures.append(f"push {i + 1}: not on its story page after {GIVE_UP_S:.0f} s")

                print(f"newsloom serve (pid {server.pid}), {args.database_url or 'SQLite'}; "
                      f"{args.pushes} pushes at {args.rate:g}/s, story page opened for every {args.check_every}")  # fmt: skip
                reference_n = min(args.pushes // args.check_every + 1, 200)
                page_rate = args.rate / args.check_every  # the references run at the rate pages are checked
                health = paced(reference_n, page_rate, healthz, args.workers)
                page_cpu0 = cpu_seconds(server.pid)
                page = paced(reference_n, page_rate, story_page, args.workers)
                page_cpu = (cpu_seconds(server.pid) - page_cpu0) / reference_n
                t0, cpu0, own0 = time.perf_counter(), cpu_seconds(server.pid), time.process_time()
                latency = paced(args.pushes, args.rate, push, args.workers)
                elapsed = time.perf_counter() - t0
                server_cpu, own_cpu = cpu_seconds(server.pid) - cpu0, time.process_time() - own0
                load = os.getloadavg()[0]
                stored = svc.storage.count_articles() - 1
        finally:
            client.close()
            server.terminate()
            server.wait(timeout=30)
            hub.stop()
            feeds.stop()

    print(summary("reference: GET /healthz", health))
    print(summary("reference: GET /story (no ingest)", page))
    print(summary("hub POST acknowledged (ingested)", acks))
    latency = [latency[i] for i in checked]
    print(summary(f"push -> story page ({len(latency)} checked)", latency))
    p95 = percentile(latency, 0.95)
    push_cpu = max(server_cpu - page_cpu * len(latency), 1e-9) / args.pushes  # the story pages checked taken out
    print(f"server CPU {server_cpu * 1000 / args.pushes:.1f} ms per push with its share of page checks; a story page "
          f"{page_cpu * 1000:.1f} ms; a push alone ~{push_cpu * 1000:.1f} ms (one core: ~{1 / push_cpu:.0f} pushes/s)")
    print(f"hub and checks in this process {own_cpu * 1000 / args.pushes:.1f} ms CPU per push; "
          f"load average {load:.1f} on {os.cpu_count()} cores (other jobs included)")  # fmt: skip
    print(f"achieved {args.pushes / elapsed:.1f} pushes/s; {stored}/{args.pushes} articles stored; {len(failures)} failures")
    for failure in failures[:10]:
        print("  " + failure)
    print(f"ratio p95 push->page / p95 /healthz: {p95 / percentile(health, 0.95):.1f}; "
          f"/ p95 story page alone: {p95 / percentile(page, 0.95):.1f}")  # fmt: skip
    verdict = "met" if p95 < TARGET_P95_S and not failures else "NOT met"
    print(f"target p95 < {TARGET_P95_S:g} s at {args.rate:g} pushes/s: {verdict} (p95 {p95:.3f} s)")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
