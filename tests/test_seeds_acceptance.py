"""The first acceptance test: the seed pair ingested through the real CLI, checked against gold.json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from newsloom.service import Service
from newsloom.settings import load_settings


def run_cli(args: list[str], data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, NEWSLOOM_DATA_DIR=str(data_dir))
    env.pop("NEWSLOOM_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "newsloom.cli", *args], env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    from tests.conftest import SEEDS

    if not (SEEDS / "gold.json").is_file():
        pytest.skip(f"seed documents not found at {SEEDS}")
    data_dir = tmp_path_factory.mktemp("seeds-db")
    result = run_cli(["ingest", *sorted(str(p) for p in SEEDS.glob("*.txt"))], data_dir)
    return data_dir, result


def stored_by_file(data_dir: Path) -> dict[str, object]:
    with Service(load_settings(env={"NEWSLOOM_DATA_DIR": str(data_dir)})) as svc:
        rows = svc.articles(limit=100)
        return {Path(a.canonical_url).name: a for a in rows}


def test_ingest_stores_two_articles(ingested: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    data_dir, result = ingested
    assert result.returncode == 0, result.stderr
    assert "2 stored" in result.stdout
    assert set(stored_by_file(data_dir)) == {"000_96d010cab8b1e35d.txt", "001_1064e9be043f4f4f.txt"}


def test_texts_hold_body_and_no_boilerplate(ingested: tuple[Path, object], seeds_dir: Path) -> None:
    gold = json.loads((seeds_dir / "gold.json").read_text())
    stored = stored_by_file(ingested[0])
    for name, expected in gold["documents"].items():
        lines = (seeds_dir / name).read_text(encoding="utf-8").splitlines()
        text = stored[name].text  # type: ignore[attr-defined]
        for number in expected["body_lines"]:
            assert lines[number - 1].strip() in text, (name, number)
        for number in expected["boilerplate_lines"]:
            assert lines[number - 1].strip() not in text, (name, number)


def test_metadata_and_not_a_copy(ingested: tuple[Path, object], seeds_dir: Path) -> None:
    gold = json.loads((seeds_dir / "gold.json").read_text())["documents"]["001_1064e9be043f4f4f.txt"]
    stored = stored_by_file(ingested[0])
    euronews = stored["001_1064e9be043f4f4f.txt"]
    plain = stored["000_96d010cab8b1e35d.txt"]
    assert euronews.publisher == "Euronews"  # type: ignore[attr-defined]
    assert euronews.author == "David O'Sullivan"  # type: ignore[attr-defined]
    assert euronews.title == gold["title"]  # type: ignore[attr-defined]
    assert plain.title is None  # type: ignore[attr-defined]
    assert euronews.original_id is None and plain.original_id is None  # type: ignore[attr-defined]


def test_seed_pair_is_one_story(ingested: tuple[Path, object]) -> None:
    stored = stored_by_file(ingested[0])
    story_ids = {a.story_id for a in stored.values()}  # type: ignore[attr-defined]
    assert len(story_ids) == 1 and None not in story_ids


def test_ingesting_again_changes_nothing(ingested: tuple[Path, object], seeds_dir: Path) -> None:
    data_dir = ingested[0]
    before = {k: (v.id, v.story_id, v.content_hash) for k, v in stored_by_file(data_dir).items()}  # type: ignore[attr-defined]
    again = run_cli(["ingest", str(seeds_dir / "000_96d010cab8b1e35d.txt"), str(seeds_dir / "001_1064e9be043f4f4f.txt")], data_dir)
    assert again.returncode == 0, again.stderr
    assert "0 stored, 2 already stored" in again.stdout
    after = {k: (v.id, v.story_id, v.content_hash) for k, v in stored_by_file(data_dir).items()}  # type: ignore[attr-defined]
    assert after == before


def test_compare_cli_on_the_raw_seed_files(seeds_dir: Path, tmp_path: Path) -> None:
    """``newsloom compare`` on the raw files: extraction, then the gold alignment and differences."""
    files = [str(seeds_dir / "000_96d010cab8b1e35d.txt"), str(seeds_dir / "001_1064e9be043f4f4f.txt")]
    result = run_cli(["compare", *files], tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [a["publisher"] for a in data["articles"]] == [None, "Euronews"]
    consensus = [c for c in data["claims"] if c["consensus"]]
    assert len(consensus) == 8 and all(sorted(c["outlets"]) == [0, 1] for c in consensus)
    kinds = sorted(d["kind"] for d in data["differences"])
    assert kinds.count("framing") >= 2 and "quote" in kinds and "date" in kinds
    only_euronews = [c for c in data["claims"] if c["outlets"] == [1]]
    assert len(only_euronews) == 1 and only_euronews[0].get("caption") is True
    text = run_cli(["compare", "--format", "text", *files], tmp_path)
    assert text.returncode == 0 and "North Korean dictator" in text.stdout


def test_seed_story_reason_agrees_with_its_counts(ingested: tuple[Path, object]) -> None:
    """The why line counts what ``outlet_count`` counts: Euronews is named, the plain file names no outlet."""
    from newsloom.reader_service import ReaderService

    with Service(load_settings(env={"NEWSLOOM_DATA_DIR": str(ingested[0])})) as svc:
        story = svc.stories()[0]
        why = ReaderService(svc, secret_key="k" * 32).why(story)
    assert (story.article_count, story.outlet_count) == (2, 1)
    assert why.startswith("2 articles from 1 outlet in "), why
    assert "2 outlets" not in why


def test_seed_story_entities_are_full_names(ingested: tuple[Path, object]) -> None:
    with Service(load_settings(env={"NEWSLOOM_DATA_DIR": str(ingested[0])})) as svc:
        entities = svc.stories()[0].entities
    assert "Kim Jong Un" in entities and "Sergei Shoigu" in entities
    for part_or_noun in ("Kim", "Jong", "Un", "Council", "Shoigu", "North Korea Kim Jong Un"):
        assert part_or_noun not in entities, entities
