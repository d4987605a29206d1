"""A restart reloads every story still open: a follow-up 30 days after an incident joins its story although the
service restarted in between (the word window is 7 days; signature-keyed stories stay open for 60)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newsloom.ingest import intake as intake_module
from newsloom.ingest.intake import Intake
from newsloom.settings import load_settings
from newsloom.storage import Storage, open_storage
from newsloom.stories.storymodel import EngineConfig
from newsloom.types import ExtractedArticle
from tests.storage.conftest import migrated_pg_url, migrated_sqlite_file, pg_cleaner, storage  # noqa: F401  fixtures
from tests.stories.test_signature import (
    _BACKGROUND as BACKGROUND,  # reports sharing few words beyond the event's
)

NOW = datetime(2025, 3, 20, 12, tzinfo=UTC)
FOLLOW_UP_AFTER = timedelta(days=30)

INCIDENT = (
    "Toddler killed in drive-by shooting",
    "A two-year-old was killed when shots were fired into a car on the 2000 block of Harrison Street on Tuesday "
    "evening. Family members identified the girl as RaMaya Reed.",
)
OTHER_INCIDENT = (
    "Man wounded in shooting outside store",
    "A man was wounded outside a store on Elm Street on Thursday night. Police identified him as Marcus Tolliver "
    "and said he is expected to survive.",
)
FOLLOW_UP = (
    "Arrest made in death of child",
    "Detectives arrested a suspect, Darnell Wilkes, in the death of RaMaya Reed, whose family had pleaded for "
    "answers after she died near Harrison Street.",
)


def report(n: int, words: tuple[str, str], published: datetime, background: slice) -> ExtractedArticle:
    title, lead = words
    text = lead + "\n\n" + " ".join(BACKGROUND[background] * 2)
    return ExtractedArticle(title=title, author=None, publisher=f"Outlet {n}", published=published, language="en",
                            text=text, url=f"https://outlet{n}.example/report-{n}")


def story_of(intake: Intake, article: ExtractedArticle, now: datetime) -> str:
    result = intake.accept(article, now=now)
    assert result.story_id is not None
    return result.story_id


def test_a_follow_up_30_days_later_joins_its_story_across_a_restart(storage: Storage, tmp_path: Path) -> None:  # noqa: F811
    config = EngineConfig()
    assert config.window_days < FOLLOW_UP_AFTER.days < config.follow_up_days  # what the test is about
    settings = load_settings(env={"NEWSLOOM_DATA_DIR": str(tmp_path)})
    incident_day = NOW - FOLLOW_UP_AFTER
    before = Intake(storage, settings, now=incident_day)
    incident = story_of(before, report(1, INCIDENT, incident_day, slice(0, 4)), incident_day)
    other = story_of(before, report(2, OTHER_INCIDENT, incident_day + timedelta(days=2), slice(4, 8)), incident_day)
    assert other != incident

    restarted = Intake(storage, settings, now=NOW)  # what a service start builds
    follow_up = story_of(restarted, report(3, FOLLOW_UP, NOW, slice(8, 12)), NOW)
    assert restarted.engine.resolve(follow_up) == incident
    assert storage.get_story(incident).article_count == 2


def test_a_restart_changes_no_assignment(storage: Storage, tmp_path: Path) -> None:  # noqa: F811
    """The same articles group the same way whether the service restarted before the last ones or not."""
    settings = load_settings(env={"NEWSLOOM_DATA_DIR": str(tmp_path)})
    old_day = NOW - FOLLOW_UP_AFTER
    council = ("Council approves the harbour budget", "The council approved the harbour budget after a long "
               "debate about dredging costs and ferry fares.")
    early = [report(1, INCIDENT, old_day, slice(0, 4)), report(2, OTHER_INCIDENT, old_day + timedelta(days=2), slice(4, 8)),
             report(3, council, old_day + timedelta(days=3), slice(0, 6))]
    late = [report(4, FOLLOW_UP, NOW, slice(8, 12)), report(5, council, NOW, slice(6, 12))]

    def groups(stories: list[str]) -> list[int]:
        return [stories.index(story) for story in stories]

    uninterrupted = open_storage(f"sqlite:///{tmp_path / 'uninterrupted.db'}")
    try:
        live = Intake(uninterrupted, settings, now=old_day)
        expected = [live.engine.resolve(story_of(live, a, a.published or NOW)) for a in early + late]
    finally:
        uninterrupted.close()
    before = Intake(storage, settings, now=old_day)
    stories = [story_of(before, a, a.published or NOW) for a in early]
    restarted = Intake(storage, settings, now=NOW)
    stories += [story_of(restarted, a, NOW) for a in late]
    assert groups([restarted.engine.resolve(s) for s in stories]) == groups(expected)
    assert groups(expected)[3] == 0  # the follow-up is in the incident's story


def test_the_reload_is_capped_but_never_inside_the_word_window(
    storage: Storage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    """Start-up time is bounded: beyond the newest RELOAD_MAX_ARTICLES the follow-up window is not replayed,
    while the word window always is."""
    settings = load_settings(env={"NEWSLOOM_DATA_DIR": str(tmp_path)})
    days_ago = [40, 30, 20, 3, 2, 1]
    writer = Intake(storage, settings, now=NOW - timedelta(days=45))
    for n, days in enumerate(days_ago):
        day = NOW - timedelta(days=days)
        story_of(writer, report(n, (f"Report {n} on topic {n}", f"Story {n} text about subject {n} " * 5), day, slice(n, n + 2)), day)

    def replayed(cap: int) -> int:
        monkeypatch.setattr(intake_module, "RELOAD_MAX_ARTICLES", cap)
        return Intake(storage, settings, now=NOW).engine._arrivals  # the articles the reload replayed

    assert replayed(100) == 6  # all within follow_up_days
    assert replayed(4) == 4  # the newest four: 1, 2, 3 and 20 days old
    assert replayed(1) == 3  # the word window whole, though over the cap
