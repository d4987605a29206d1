"""`newsloom cluster` on bad input: clear messages, never a traceback; odd dates are set aside, not fatal."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_cli import cli  # noqa: F401  (the fixture: the command run as a real process)

_QUAKE = (
    "A magnitude 6.1 earthquake struck the coast of Lima, Peru, early on Monday, killing 12 people and damaging "
    "hundreds of homes. Rescue teams searched the rubble of collapsed buildings in the port city through the night."
)
_FIRE = (
    "A wildfire near Athens forced thousands to evacuate on Sunday as strong winds pushed the flames toward "
    "three villages. Firefighters and water-bombing planes fought the blaze on the slopes of Mount Parnitha."
)


def _write(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def _stories(stdout: str) -> dict[str, str]:
    return dict(line.split("\t") for line in stdout.splitlines())


def test_empty_file_prints_nothing_and_exits_0(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    result = cli("cluster", str(empty))
    assert result.stdout == "" and result.stderr == ""
    blank = tmp_path / "blank.jsonl"
    blank.write_text("\n  \n\n")
    assert cli("cluster", str(blank)).stdout == ""


def test_future_and_decades_off_dates_are_set_aside_with_a_warning(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """A date in 2099 would move the stream clock past every open story: the next 2016 report of the same
    quake would find its story closed. Taken as undated, it stays where the file puts it."""
    rows: list[dict[str, object]] = [
        {"id": "q1", "title": "Quake hits Lima", "text": _QUAKE, "date": "2016-03-01T08:00:00Z"},
        {"id": "far", "title": "Earthquake kills 12 in Lima", "text": _QUAKE, "date": "2099-01-01"},
        {"id": "old", "title": "Lima earthquake toll 12", "text": _QUAKE, "date": "1901-05-05"},
        {"id": "f1", "title": "Wildfire near Athens", "text": _FIRE, "date": "2016-03-01T09:00:00Z"},
        {"id": "q2", "title": "Lima quake: 12 dead", "text": _QUAKE, "date": "2016-03-01T10:00:00Z"},
    ]
    result = cli("cluster", str(_write(tmp_path / "dates.jsonl", rows)))
    story = _stories(result.stdout)
    assert list(story) == ["q1", "far", "old", "f1", "q2"]  # input order, every record placed
    assert story["q1"] == story["far"] == story["old"] == story["q2"] != story["f1"]
    warning = " ".join(result.stderr.split())
    assert "2 record(s) with an implausible date" in warning
    assert "far (2099-01-01, in the future)" in warning
    assert "old (1901-05-05, decades from the file's other dates)" in warning
    assert "Traceback" not in result.stderr


def test_records_in_no_time_order_and_undated_records_cluster(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    rows: list[dict[str, object]] = [
        {"id": "q2", "title": "Lima quake: 12 dead", "text": _QUAKE, "date": "2016-03-02"},
        {"id": "f1", "title": "Wildfire near Athens", "text": _FIRE, "date": "2016-03-01"},
        {"id": "q1", "title": "Quake hits Lima", "text": _QUAKE, "date": "2016-03-01"},
        {"id": "u1", "title": None, "text": _FIRE},
    ]
    result = cli("cluster", str(_write(tmp_path / "shuffled.jsonl", rows)))
    story = _stories(result.stdout)
    assert list(story) == ["q2", "f1", "q1", "u1"]
    assert story["q1"] == story["q2"] != story["f1"]
    assert story["u1"] == story["f1"]  # undated: placed behind the record it follows in the file
    assert result.stderr == ""


def test_missing_text_and_bad_dates_are_clear_errors(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    cases = {
        "notext.jsonl": ('{"id": "a", "title": "Only a title"}\n', "notext.jsonl:1: record 'a' has no text"),
        "nulltext.jsonl": ('{"id": "a", "text": null}\n', "record 'a' has no text"),
        "list.jsonl": ("[1, 2]\n", "a JSON list, not an object"),
        "baddate.jsonl": ('{"id": "a", "text": "t", "date": "last Tuesday"}\n', "date 'last Tuesday' is not ISO 8601"),
        "numdate.jsonl": ('{"id": "a", "text": "t", "date": 1457000000}\n', "date must be an ISO 8601 string"),
    }
    for name, (content, message) in cases.items():
        path = tmp_path / name
        path.write_text(content)
        result = cli("cluster", str(path), expect=2)
        assert message in " ".join(result.stderr.split()), (name, result.stderr)
        assert "Traceback" not in result.stderr and result.stdout == ""
