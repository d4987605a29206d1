"""The ``newsloom`` command end to end: real processes, a real SQLite file, loopback HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.loopback import LoopbackServer

BODY = (
    "The regional parliament approved the water reform on Thursday after months of negotiation between the "
    "governing coalition and farmers' unions, who had warned that the new quotas would ruin small growers. "
)


def article_html(title: str, lead: str) -> str:
    paragraphs = "".join(f"<p>{lead} {BODY} Paragraph {i} adds detail number {i}.</p>" for i in range(6))
    return (
        f"<!doctype html><html lang='en'><head><title>{title} | Valley Post</title>"
        "<meta property='og:site_name' content='Valley Post'>"
        f"<meta name='author' content='Jane Doe'><meta property='article:published_time' content='2025-03-20T10:00:00Z'>"
        f"</head><body><header><nav><a href='/'>Home</a></nav></header><article><h1>{title}</h1>{paragraphs}</article>"
        "<aside>Sign up for our newsletter</aside></body></html>"
    )


def rss(base: str) -> str:
    items = "".join(
        f"<item><title>Reform story {i}</title><link>{base}/story/{i}</link><guid>{base}/story/{i}</guid>"
        f"<pubDate>Thu, 20 Mar 2025 1{i}:00:00 GMT</pubDate><description><![CDATA[<p>{BODY * 8} Item {i}.</p>]]>"
        "</description></item>"
        for i in range(3)
    )
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>Valley Post</title>"
        f"<link>{base}/</link><description>News</description>{items}</channel></rss>"
    )


@pytest.fixture
def cli(tmp_path: Path):  # type: ignore[no-untyped-def]
    env = dict(os.environ, NEWSLOOM_DATA_DIR=str(tmp_path / "data"), NEWSLOOM_ALLOW_PRIVATE_NETWORKS="1")
    env.pop("NEWSLOOM_DATABASE_URL", None)
    env.pop("NEWSLOOM_QUEUE_URL", None)

    def run(*args: str, expect: int = 0) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "newsloom.cli", *args], env=env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == expect, (args, result.stdout, result.stderr)
        return result

    return run


def test_extract_file_folder_and_url(cli, tmp_path: Path, loopback: LoopbackServer) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "a.html").write_text(article_html("Water reform passes", "Lawmakers voted 61 to 40."))
    (folder / "b.txt").write_text("Water reform passes\n\n" + BODY * 3 + "\n\n" + BODY)
    one = json.loads(cli("extract", str(folder / "a.html")).stdout)
    assert one["title"] == "Water reform passes"
    assert one["publisher"] == "Valley Post"
    assert one["author"] == "Jane Doe"
    assert one["published"].startswith("2025-03-20")
    assert one["is_article"] is True and "Lawmakers voted 61 to 40." in one["text"]
    assert "newsletter" not in one["text"]
    assert one["path"].endswith("a.html")

    lines = [json.loads(line) for line in cli("extract", str(folder)).stdout.splitlines()]
    assert [Path(x["path"]).name for x in lines] == ["a.html", "b.txt"]
    assert all({"title", "author", "publisher", "published", "language", "text", "is_article"} <= set(x) for x in lines)

    url = loopback.add("/article", article_html("Water reform passes", "Online."), headers={"Content-Type": "text/html"})
    remote = json.loads(cli("extract", url).stdout)
    assert remote["url"] == url and remote["title"] == "Water reform passes"


def test_bad_input_gives_message_and_nonzero_exit(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    missing = cli("extract", str(tmp_path / "nope.html"), expect=2)
    assert "no such file" in missing.stderr and "Traceback" not in missing.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "1", "text": "ok"}\nnot json\n')
    result = cli("cluster", str(bad), expect=2)
    assert "bad.jsonl:2" in result.stderr
    assert cli("show", "999", expect=3).stderr.strip().startswith("error:")
    opml = tmp_path / "bad.opml"
    opml.write_text("<opml><body><outline")
    assert "Traceback" not in cli("import-opml", str(opml), expect=1).stderr


def test_sources_lifecycle(cli, tmp_path: Path, loopback: LoopbackServer) -> None:  # type: ignore[no-untyped-def]
    base = loopback.base_url
    loopback.add("/feed.xml", rss(base), headers={"Content-Type": "application/rss+xml"})
    loopback.add(
        "/",
        "<html><head><link rel='alternate' type='application/rss+xml' href='/feed.xml'></head><body>Home</body></html>",
        headers={"Content-Type": "text/html"},
    )
    cli("init")
    added = cli("add", base + "/")  # a home page: its feed is discovered
    assert "subscribed to source 1" in added.stdout and "/feed.xml" in added.stdout
    assert "already subscribed" in cli("add", base + "/feed.xml").stdout

    polled = cli("update")
    assert "3 new articles" in polled.stdout
    listed = cli("articles", "--json", "--since", "2025-01-01")
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert sorted(r["title"] for r in rows) == ["Reform story 0", "Reform story 1", "Reform story 2"]
    assert cli("articles", "--json", "--since", "2030-01-01").stdout.strip() == ""
    shown = json.loads(cli("show", str(rows[0]["id"]), "--json").stdout)
    assert shown["sources"] == [base + "/feed.xml"] and BODY.strip()[:40] in shown["text"]
    assert "Valley Post" in cli("sources").stdout
    # the feed's items are one text under one outlet: its own reporting, dated 2025 (outside the default window)
    windowed = cli("sources", "--days", "100000").stdout
    assert "originality, last 100000 days" in windowed and "100%" in windowed
    assert "days must be a positive number" in cli("sources", "--days", "0", expect=2).stderr
    assert "story" in cli("stories").stdout

    exported = cli("export-opml").stdout
    assert base + "/feed.xml" in exported
    opml = tmp_path / "subs.opml"
    opml.write_text(
        "<?xml version='1.0'?><opml version='2.0'><head/><body><outline text='World'>"
        f"<outline type='rss' text='Other' xmlUrl='{base}/other.xml'/></outline></body></opml>"
    )
    assert "1 sources added" in cli("import-opml", str(opml)).stdout
    assert 'category="World"' in cli("export-opml").stdout or "text=\"World\"" in cli("export-opml").stdout
    assert "removed source 1" in cli("remove", "1").stdout
    assert base + "/feed.xml" not in cli("export-opml").stdout
    assert len(cli("articles", "--json").stdout.splitlines()) == 3  # articles stay


def test_add_single_article_page(cli, loopback: LoopbackServer) -> None:  # type: ignore[no-untyped-def]
    url = loopback.add("/news/reform", article_html("Reform passes", "A single page."), headers={"Content-Type": "text/html"})
    result = cli("add", url)
    assert "stored article" in result.stdout and "Reform passes" in result.stdout


def test_cluster_command_ignores_gold_labels(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    quake = "A magnitude 6.1 earthquake struck the coast of {place} early on {day}, killing {n} people and damaging hundreds of homes."
    fire = "A wildfire near {place} forced thousands to evacuate on {day} as strong winds pushed the flames toward {n} villages."
    rows = [
        {"id": "q1", "title": "Quake hits Lima", "text": quake.format(place="Lima, Peru", day="Monday", n=12), "cluster": "x"},
        {"id": "f1", "title": "Wildfire near Athens", "text": fire.format(place="Athens", day="Sunday", n=3), "cluster": "x"},
        {"id": "q2", "title": "Earthquake kills 12 near Lima", "text": quake.format(place="Lima in Peru", day="Monday", n=12), "cluster": "y"},
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    lines = [line.split("\t") for line in cli("cluster", str(path)).stdout.splitlines()]
    assert [line[0] for line in lines] == ["q1", "f1", "q2"]
    story = dict(lines)
    assert story["q1"] == story["q2"] != story["f1"]


def test_cluster_unordered_does_not_read_the_file_order_as_a_clock(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Two undated reports of one quake, 60 unrelated records apart: in file order that gap reads as time
    (reports of one event arrive together), so they stay apart; --unordered says the order means nothing."""
    import random

    rng = random.Random(3)

    def made_up_word() -> str:
        return "".join(rng.choice("bdfgklmnprstvz") + rng.choice("aeiou") for _ in range(3))

    rows = [
        {
            "id": "q1",
            "title": "Quake hits Lima",
            "text": (
                "A magnitude 6.1 earthquake struck the coast of Lima, Peru, early on Monday, killing 12 people and damaging "
                "hundreds of homes. Rescue teams searched the rubble of collapsed buildings in the port city through the night."
            ),
        }
    ]
    for i in range(60):
        words = [made_up_word() for _ in range(12)]
        rows.append(
            {"id": f"f{i}", "title": " ".join(words[:4]).capitalize(), "text": (" ".join(words) + ". ") * 3}
        )
    rows.append(
        {
            "id": "q2",
            "title": "Earthquake kills 12 near Lima",
            "text": (
                "Twelve people died when a strong earthquake shook Lima, Peru, on Monday. The quake, of magnitude 6.1, "
                "brought down homes near the coast and rescuers dug through rubble overnight."
            ),
        }
    )
    path = tmp_path / "archive.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    in_order = dict(line.split("\t") for line in cli("cluster", str(path)).stdout.splitlines())
    unordered = dict(
        line.split("\t") for line in cli("cluster", "--unordered", str(path)).stdout.splitlines()
    )
    assert in_order["q1"] != in_order["q2"]
    assert unordered["q1"] == unordered["q2"]
    assert len(set(unordered.values())) == 61  # the fillers stay apart either way


def test_config_lists_settings(cli) -> None:  # type: ignore[no-untyped-def]
    out = cli("config").stdout
    assert "max_body_bytes" in out and "NEWSLOOM_DATABASE_URL" in out
