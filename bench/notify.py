"""E-mail digest generation for many readers: seconds for --readers digests, peak memory, ratio to a reference.

    .venv/bin/python bench/notify.py [--readers 1000] [--stories 300] [--send]

Set-up (not timed): a fresh SQLite database in a temporary folder with --stories synthetic stories (3-6
articles each from 12 made-up outlets, each story with 3 entities drawn from 60 made-up names, dated over the
last day), and --readers readers, each with an e-mail address, a daily digest, two entity follows and one
topic follow, and 5 notifications of followed-story changes since the last digest.

Timed (without tracemalloc, which slows Python ~2.5x): ``NotifyService.build_digest`` (For you ranking from the reader's follows, filled with top stories;
the reader's changes since the last digest; text and sanitized HTML) plus the MIME message with
List-Unsubscribe headers, for every reader, in one process. ``--send`` also sends each message to an aiosmtpd
server on loopback (a dev dependency) and counts what arrives.

Reference, measured in the same run: building the same number of ``EmailMessage`` objects with a fixed text
and HTML body of the same size (the floor any digest pays for MIME). The ratio digest / reference says how
much the per-reader work costs on top of that floor. Memory: the process's maximum RSS, and the tracemalloc
peak over a second, untimed pass of 100 digests. Target: <= 60 s for 1,000 readers.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from newsloom.notify.mail import new_message, send_message
from newsloom.notify_service import NotifyService
from newsloom.settings import Settings
from newsloom.storage.notify_base import NewEvent
from newsloom.types import NewArticle, Story
from newsloom.web.app import build_reader

SYLLABLES = ["ka", "lo", "mi", "ren", "sa", "tor", "vel", "du", "ne", "pra", "ost", "qui"]


def word(rng: random.Random, parts: int = 3) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(parts)).capitalize()


def stock(notes: NotifyService, *, stories: int, readers: int, now: datetime, seed: int) -> None:
    rng = random.Random(seed)
    storage = notes.reader.service.storage
    outlets = [f"{word(rng, 2)} Times" for _ in range(12)]
    names = [f"{word(rng)} {word(rng)}" for _ in range(60)]
    topics = [word(rng, 2).lower() for _ in range(20)]
    story_ids = []
    for number in range(stories):
        sid = f"s{number}"
        entities = tuple(rng.sample(names, 3))
        topic = rng.choice(topics)
        headline = f"{entities[0]} and the {topic} dispute in {word(rng)}"
        ids = []
        count = rng.randint(3, 6)
        for n in range(count):
            when = now - timedelta(hours=rng.uniform(0, 24))
            outlet = rng.choice(outlets)
            text = f"{headline}. " + " ".join(f"{e} said {rng.randint(2, 900)} people were affected." for e in entities)
            article, _ = storage.add_article(
                NewArticle(canonical_url=f"https://x.example/{sid}/{n}", url=f"https://x.example/{sid}/{n}", title=headline,
                           text=text, content_hash=f"{sid}-{n}", publisher=outlet, published_at=when, fetched_at=when),
                now=when,
            )  # fmt: skip
            ids.append(article.id)
        storage.set_story(ids, sid)
        storage.save_story(
            Story(id=sid, headline=headline, summary=f"Summary of {headline}.", first_seen=now - timedelta(hours=24),
                  last_seen=now, article_count=count, outlet_count=count, original_count=count, syndicated_count=0,
                  entities=entities),
            now=now,
        )  # fmt: skip
        story_ids.append(sid)
    accounts = notes.reader.accounts
    since = now - timedelta(days=1)
    for number in range(readers):
        user = accounts.add_user(f"reader{number}", "x", now=since)
        for name in rng.sample(names, 2):
            accounts.follow(user.id, "entity", name, now=since)
        accounts.follow(user.id, "topic", rng.choice(topics), now=since)
        notes.store.update_notify_settings(user.id, email=f"reader{number}@example.org", digest="daily")
        for k in range(5):
            sid = rng.choice(story_ids)
            event = NewEvent(f"b:{number}:{k}", "new_outlet", sid, f"{rng.choice(outlets)} now covers {sid}",
                             "A new outlet reports the story.", "{}")  # fmt: skip
            notes.store.record_event(user.id, event, [], now=now - timedelta(hours=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--readers", type=int, default=1000)
    parser.add_argument("--stories", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--send", action="store_true", help="also send every digest to aiosmtpd on loopback")
    args = parser.parse_args()
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as folder:
        sink = None
        port = 25
        if args.send:
            from aiosmtpd.controller import Controller

            class Count:
                received = 0

                async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
                    Count.received += 1
                    return "250 OK"

            import socket

            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
            sink = Controller(Count(), hostname="127.0.0.1", port=port)
            sink.start()
        settings = Settings(data_dir=folder, public_url="https://news.example.org", smtp_host="127.0.0.1",
                            smtp_port=port, smtp_tls="none", mail_from="news@example.org")  # fmt: skip
        notes = NotifyService(build_reader(settings, top_cache_ttl_s=3600.0))
        started = time.perf_counter()
        stock(notes, stories=args.stories, readers=args.readers, now=now, seed=args.seed)
        print(f"set-up: {args.stories} stories, {args.readers} readers in {time.perf_counter() - started:.1f} s")
        readers = notes.store.digest_readers()
        assert len(readers) == args.readers
        sizes: list[tuple[int, int]] = []

        def run(batch: list) -> None:  # type: ignore[type-arg]
            for reader_settings in batch:
                one(reader_settings)

        def one(reader_settings) -> None:  # type: ignore[no-untyped-def]
            user = notes.reader.accounts.get_user(reader_settings.user_id)
            digest = notes.build_digest(user, period="daily", since=now - timedelta(days=1))
            assert reader_settings.email is not None
            message = new_message(settings, reader_settings.email, digest.subject, digest.text, digest.html, now=now,
                                  headers={"List-Unsubscribe": f"<{notes.unsubscribe_url(user.id)}>",
                                           "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})  # fmt: skip
            if args.send:
                send_message(settings, message)
            sizes.append((len(digest.text), len(digest.html)))

        started = time.perf_counter()
        run(readers)
        digest_s = time.perf_counter() - started
        # tracemalloc slows Python code ~2.5x, so memory is traced in a second, untimed pass over a sample
        sample = readers[: min(len(readers), 100)]
        tracemalloc.start()
        run(sample)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        text_len = sum(s[0] for s in sizes) // len(sizes)
        html_len = sum(s[1] for s in sizes) // len(sizes)
        started = time.perf_counter()
        for number in range(args.readers):
            message = EmailMessage()
            message["From"] = "news@example.org"
            message["To"] = f"reader{number}@example.org"
            message["Subject"] = "Your daily news digest"
            message.set_content("x" * text_len)
            message.add_alternative("<p>" + "x" * html_len + "</p>", subtype="html")
            message.as_bytes()
        reference_s = time.perf_counter() - started
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        notes.reader.service.close()
        if sink is not None:
            sink.stop()
        print(f"digests: {args.readers} in {digest_s:.2f} s ({1000 * digest_s / args.readers:.1f} ms each; target <= 60 s "
              f"for 1,000){' sent over SMTP' if args.send else ''}")  # fmt: skip
        print(f"reference (plain EmailMessage, same sizes: text {text_len} B, html {html_len} B): {reference_s:.2f} s")
        print(f"ratio digest / reference: {digest_s / reference_s:.1f}x")
        print(f"memory: tracemalloc peak {peak / 1e6:.1f} MB over {len(sample)} digests (untimed pass); "
              f"max RSS of the process {rss_mb:.0f} MB")  # fmt: skip
        if args.send:
            print(f"SMTP sink received {Count.received} messages")


if __name__ == "__main__":
    main()
