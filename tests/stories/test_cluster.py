"""Behaviour of the online story engine on small hand-made streams."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newsloom.errors import InputError, NotFoundError
from newsloom.stories.cluster import StoryEngine, cluster_records, records_to_docs, stream_positions
from newsloom.stories.storymodel import ClusterDoc, EngineConfig

DAY = datetime(2025, 3, 21, 9, 0, tzinfo=UTC)

QUAKE_CHILE = [
    ("A magnitude 7.1 earthquake struck central Chile near Valparaiso on Monday, killing 12 people and "
     "toppling buildings. Chilean President Gabriel Boric declared a state of emergency in Valparaiso."),
    ("Chile earthquake: 12 dead after magnitude 7.1 quake hits Valparaiso region. President Gabriel Boric "
     "said rescue teams were searching collapsed buildings in Valparaiso on Monday."),
    ("Rescuers in Valparaiso dug through rubble after the 7.1 magnitude earthquake that killed 12 people in "
     "Chile. Boric visited the damaged port city and promised aid."),
]
QUAKE_JAPAN = [
    ("A magnitude 6.4 earthquake shook Hokkaido in northern Japan on Thursday, injuring 30 people in Sapporo. "
     "Prime Minister Fumio Kishida said Japan Self-Defense Forces were sent to Hokkaido."),
    ("Japan quake: 30 injured in Sapporo as 6.4 tremor hits Hokkaido. Kishida ordered Self-Defense Forces "
     "to help residents of Hokkaido on Thursday."),
]
BUDGET = [
    ("The Senate passed a $1.2 trillion spending bill late on Friday, averting a government shutdown. "
     "Majority Leader Chuck Schumer said the vote was 74 to 24."),
    ("Senators approved the $1.2 trillion funding package 74-24, sending it to President Biden and averting "
     "a shutdown. Schumer praised the bipartisan deal."),
]


def doc(doc_id: str, text: str, *, title: str | None = None, days: float | None = 0.0, **kw: object) -> ClusterDoc:
    date = None if days is None else DAY + timedelta(days=days)
    return ClusterDoc(id=doc_id, title=title, text=text, date=date, **kw)  # type: ignore[arg-type]


def stream() -> list[ClusterDoc]:
    return [
        doc("chile-1", QUAKE_CHILE[0], source="A"),
        doc("budget-1", BUDGET[0], source="A", days=0.1),
        doc("japan-1", QUAKE_JAPAN[0], source="B", days=0.2),
        doc("chile-2", QUAKE_CHILE[1], source="B", days=0.3),
        doc("budget-2", BUDGET[1], source="C", days=0.4),
        doc("japan-2", QUAKE_JAPAN[1], source="C", days=0.5),
        doc("chile-3", QUAKE_CHILE[2], source="C", days=0.6),
    ]


def run(docs: list[ClusterDoc], engine: StoryEngine | None = None) -> dict[str, str]:
    engine = engine or StoryEngine()
    placed = {d.id: engine.add(d).story_id for d in docs}
    return {doc_id: engine.resolve(story) for doc_id, story in placed.items()}


def test_same_event_joins_and_similar_events_of_the_same_kind_stay_apart() -> None:
    stories = run(stream())
    assert stories["chile-1"] == stories["chile-2"] == stories["chile-3"] == "chile-1"
    assert stories["japan-1"] == stories["japan-2"] == "japan-1"
    assert stories["budget-1"] == stories["budget-2"] == "budget-1"


def test_story_reports_headline_summary_span_counts_and_entities() -> None:
    engine = StoryEngine()
    for d in stream():
        engine.add(d)
    engine.add(doc("chile-copy", QUAKE_CHILE[0], source="D", original_id="chile-1", days=0.7))
    story = engine.story("chile-1")
    assert story.article_count == 4
    assert story.original_count == 3 and story.syndicated_count == 1
    assert story.outlet_count == 3  # the copy counts as its original outlet's reporting
    assert story.first_seen == DAY and story.last_seen == DAY + timedelta(days=0.7)
    assert "Valparaiso" in story.headline or "Chile" in story.headline
    assert story.summary and len(story.summary) < 700
    assert "Valparaiso" in story.entities and "Gabriel Boric" in story.entities
    assert engine.story_ids() == ["chile-1", "budget-1", "japan-1"]
    with pytest.raises(NotFoundError):
        engine.story("nope")


def test_syndicated_copy_joins_its_original_whatever_its_text() -> None:
    engine = StoryEngine()
    engine.add(doc("budget-1", BUDGET[0]))
    assignment = engine.add(doc("copy", "Completely unrelated words about gardening.", original_id="budget-1"))
    assert assignment.story_id == "budget-1" and not assignment.created


def test_story_ids_come_from_the_injected_factory() -> None:
    engine = StoryEngine(new_story_id=lambda d: f"story:{d.id}")
    first = engine.add(doc("chile-1", QUAKE_CHILE[0]))
    second = engine.add(doc("chile-2", QUAKE_CHILE[1]))
    assert first.created and first.story_id == "story:chile-1"
    assert not second.created and second.story_id == "story:chile-1"


def test_stories_leave_the_window_by_age() -> None:
    engine = StoryEngine(EngineConfig(window_days=7.0))
    engine.add(doc("chile-1", QUAKE_CHILE[0]))
    late = engine.add(doc("chile-late", QUAKE_CHILE[1], days=30))
    assert late.created
    # an undated article lives at the stream clock (day 30): the first story is still closed to it
    undated = engine.add(doc("chile-undated", QUAKE_CHILE[2], days=None))
    assert undated.story_id == "chile-late"


def test_a_closed_story_is_packed_and_says_the_same() -> None:
    """Closing packs a story's texts, centroid and tallies into one bytes object (memory per closed story,
    the speed bar at 1M articles): ``story`` says what it said while the story was open, and a ``restore``
    into the closed story unpacks it and counts on from its full state."""
    engine = StoryEngine(EngineConfig(window_days=7.0))
    for d in stream():
        engine.add(d)
    before = {story_id: engine.story(story_id) for story_id in engine.story_ids()}
    engine.add(doc("tick", "", days=30))  # moves the clock: every story above leaves the window
    state = engine._stories["chile-1"]
    assert not state.open and state.packed is not None
    assert state.members() == [] and state.centroid == {} and state.entities == {} and state.outlets == {}
    assert {story_id: engine.story(story_id) for story_id in before} == before
    engine.restore(doc("chile-4", QUAKE_CHILE[1], days=30.1, source="D"), "chile-1")
    assert state.packed is None and len(state.members()) == 4
    restored = engine.story("chile-1")
    assert (restored.article_count, restored.outlet_count) == (4, 4)
    assert restored.entities[:2] == before["chile-1"].entities[:2]


def test_a_dated_article_far_from_the_story_pays_a_time_penalty() -> None:
    near = StoryEngine()
    near.add(doc("chile-1", QUAKE_CHILE[0]))
    far = StoryEngine(EngineConfig(window_days=30))
    far.add(doc("chile-1", QUAKE_CHILE[0]))
    assert not near.add(doc("chile-2", QUAKE_CHILE[1], days=1)).created
    assert far.add(doc("chile-2", QUAKE_CHILE[1], days=25)).created


def test_two_stories_linked_by_one_article_merge_and_the_younger_id_redirects() -> None:
    config = dataclasses.replace(EngineConfig(), join_threshold=0.3, merge_threshold=0.3, merge_centroid_threshold=0.3)
    engine = StoryEngine(config)
    engine.add(doc("a", "alpha bravo charlie delta echo foxtrot"))
    engine.add(doc("b", "golf hotel india juliet kilo lima"))
    bridge = engine.add(doc("c", "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima"))
    assert bridge.story_id == "a" and bridge.merged == ("b",)
    assert engine.resolve("b") == "a"
    assert engine.story("b").article_count == 3
    assert engine.story_ids() == ["a"]


def test_restore_rebuilds_the_same_state_as_live_assignment() -> None:
    docs = stream()
    live = StoryEngine()
    assigned = [(d, live.add(d).story_id) for d in docs[:5]]
    rebuilt = StoryEngine()
    for d, story_id in assigned:
        rebuilt.restore(d, story_id)
    for d in docs[5:]:
        assert rebuilt.add(d) == live.add(d)
    assert rebuilt.story("chile-1") == live.story("chile-1")


def test_cluster_records_orders_by_date_keeps_undated_behind_their_predecessor_and_ignores_gold() -> None:
    records = [
        {"id": "x", "title": None, "text": QUAKE_CHILE[0], "date": "2025-03-22T10:00:00Z", "cluster": "gold"},
        {"id": "y", "title": None, "text": QUAKE_CHILE[1], "date": None, "cluster": "gold"},
        {"id": "z", "title": None, "text": QUAKE_CHILE[2], "date": "2025-03-21T10:00:00+00:00"},
    ]
    assert stream_positions(records_to_docs(records)) == [2, 0, 1]
    result = cluster_records(records)
    assert [doc_id for doc_id, _ in result] == ["x", "y", "z"]
    assert {story for _, story in result} == {"z"}
    with pytest.raises(InputError):
        cluster_records([{"id": "bad", "title": None, "text": "x", "date": "yesterday"}])


def test_same_input_gives_the_same_stories_under_any_hash_seed(tmp_path: Path) -> None:
    records = [{"id": d.id, "title": d.title, "text": d.text, "date": d.date.isoformat() if d.date else None}
               for d in stream()]
    data = tmp_path / "stream.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in records))
    script = (
        "import json,sys; from newsloom.stories.cluster import cluster_records;"
        f"print(json.dumps(cluster_records(json.loads(l) for l in open({str(data)!r}))))"
    )
    outputs = set()
    for seed in ("1", "2", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        outputs.add(subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                                   check=True).stdout)
    assert len(outputs) == 1


def test_undated_articles_use_arrival_order_as_their_clock() -> None:
    """Two undated reports of one event join when they arrive together, not when many arrivals apart."""
    first, second = QUAKE_JAPAN
    filler = [doc(f"budget-{i}", f"{BUDGET[i % 2]} Vote number {i}00 of the session.", days=None) for i in range(300)]
    close = run([doc("japan-1", first, days=None), doc("japan-2", second, days=None)])
    assert close["japan-2"] == close["japan-1"]
    config = EngineConfig()
    stale_score_drop = config.arrival_penalty_per_doubling * 6  # 300 arrivals ~ 2^6 x the grace
    assert stale_score_drop > 0.3  # larger than most same-event scores above the join bar: they split
    far = run([doc("japan-1", first, days=None), *filler, doc("japan-2", second, days=None)])
    assert far["japan-2"] != far["japan-1"]


def test_a_dated_article_against_an_undated_story_reads_the_arrival_clock() -> None:
    """With no date pair to compare (the story's reports are undated), arrivals are the clock for a dated
    report too: it joins an undated story that just grew, not one many arrivals back."""
    first, second = QUAKE_JAPAN
    filler = [doc(f"budget-{i}", f"{BUDGET[i % 2]} Vote number {i}00 of the session.", days=None) for i in range(300)]
    close = run([doc("japan-1", first, days=None), doc("japan-2", second)])
    assert close["japan-2"] == close["japan-1"]
    far = run([doc("japan-1", first, days=None), *filler, doc("japan-2", second)])
    assert far["japan-2"] != far["japan-1"]


def test_two_events_of_one_kind_with_different_main_actors_stay_apart() -> None:
    """Long reports sharing the champion and the sport but not the opponent: two fights, two stories."""
    body = (
        " The heavyweight champion defended his titles in front of a sold-out arena and dominated from the "
        "opening bell, landing heavy jabs and right hands until the referee stopped the contest. The champion "
        "said after the fight that he felt strong and wanted to unify the division before the end of his "
        "career, and promoters said a rematch was unlikely given how one-sided the bout had been."
    ) * 2
    rahman = "Klitschko stops Rahman. Klitschko beat Hasim Rahman in the seventh round." + body + " Rahman was hurt."
    thompson = "Klitschko stops Thompson. Klitschko beat Tony Thompson in the sixth round." + body + " Thompson fell."
    pair = [doc("rahman", rahman, days=None), doc("thompson", thompson, days=None)]

    def joins(config: EngineConfig) -> bool:
        stories = run(pair, StoryEngine(config))
        return stories["thompson"] == stories["rahman"]

    plain = dataclasses.replace(EngineConfig(), name_conflict_penalty=0.0)
    # the highest join bar at which the two still join on words alone ...
    def at(config: EngineConfig, bar: float) -> EngineConfig:
        return dataclasses.replace(config, join_threshold=bar, short_join_threshold=bar)

    bar = next(t / 100 for t in range(95, 0, -1) if joins(at(plain, t / 100)))
    # ... is not reached once the conflicting opponents count against them
    assert not joins(at(EngineConfig(), bar))


def _highest_joining_bar(pair: list[ClusterDoc], config: EngineConfig) -> float:
    """The highest join bar (both lengths) at which the second article of ``pair`` joins the first."""
    for step in range(95, 0, -1):
        bar = step / 100
        stories = run(pair, StoryEngine(dataclasses.replace(config, join_threshold=bar, short_join_threshold=bar)))
        if stories[pair[1].id] == stories[pair[0].id]:
            return bar
    return 0.0


PATCH_BODY = (
    " Microsoft released an emergency security update for Internet Explorer on Wednesday to fix a flaw that "
    "attackers were already exploiting to take over computers through booby-trapped web pages. The company "
    "urged users to install the patch at once, and security researchers said the attacks had spread quickly."
) * 2


def test_a_datelined_undated_report_pays_against_a_story_without_datelines() -> None:
    """Undated stream: a report that opens with a dateline and a story whose reports never did are told
    apart by that, on top of their words."""
    pair = [
        doc("plain", "Microsoft patches Internet Explorer." + PATCH_BODY + " Analysts praised the speed.", days=None),
        doc(
            "datelined",
            "Browser flaw fixed\nSeptember 18 , 2013\n" + PATCH_BODY + " Banks warned customers by email.",
            days=None,
        ),
    ]
    config = EngineConfig()
    without = _highest_joining_bar(pair, dataclasses.replace(config, dateline_mismatch_penalty=0.0))
    with_penalty = _highest_joining_bar(pair, config)
    assert with_penalty == pytest.approx(without - config.dateline_mismatch_penalty, abs=0.011)
    # a second datelined report is not penalised against the story the first one started
    second = doc("datelined-2", "Internet Explorer fix\nSeptember 19 , 2013\n" + PATCH_BODY, days=None)
    stories = run([pair[1], second])
    assert stories["datelined-2"] == stories["datelined"]


def test_reports_about_the_same_main_actor_get_the_lead_name_bonus() -> None:
    """Two long reports that mention one person most reach each other at a higher bar than their words
    alone would."""
    obituary = (
        "Bettie Page, the pin-up model of the 1950s, died on Thursday in Los Angeles. Page was 85. "
        "Page's photographs made her an icon, and Page later left modelling for a quiet life. "
        "Friends said Page had been in hospital for weeks."
    )
    tribute = (
        "Fans remembered Page on Friday. Page's agent said Page never understood her fame. "
        "Museums showed pictures of Page, whose style shaped fashion for decades."
    )
    pair = [doc("obituary", obituary, days=None), doc("tribute", tribute, days=None)]
    config = EngineConfig()
    without = _highest_joining_bar(pair, dataclasses.replace(config, lead_name_bonus=0.0))
    assert _highest_joining_bar(pair, config) > without


WAGE_VOTE = [
    ("Senate rejects bid to raise minimum wage to $15",
     "Senators voted down an amendment on Friday that would have lifted the federal minimum wage to $15 an hour."),
    ("Upper chamber blocks push for a higher federal pay floor",
     "Lawmakers on Friday defeated a proposal to increase the national hourly minimum pay, a setback for progressives."),
]
UNRELATED_LEADS = [
    ("Wildfire forces thousands to flee homes", "Crews battled a fast-moving blaze in the hills as evacuation orders spread."),
    ("Chess prodigy wins national title at 12", "The youngest champion in the tournament's history beat a grandmaster."),
    ("Museum returns looted bronze statues", "Curators handed back artefacts taken during colonial rule a century ago."),
]


def test_differently_worded_headlines_arriving_together_join_in_the_gray_zone() -> None:
    """Two outlets' headline and lead of one vote share few words (their score is under the short-text join
    bar) but mean the same: arriving back to back, they join; the same pair far apart, or with the gray zone
    off, stays split."""
    first, second = (doc(f"wage-{i}", text, title=title, days=None) for i, (title, text) in enumerate(WAGE_VOTE))
    together = run([first, second])
    assert together["wage-1"] == together["wage-0"]
    off = run([first, second], StoryEngine(dataclasses.replace(EngineConfig(), recent_join_margin=0.0)))
    assert off["wage-1"] != off["wage-0"]
    between = [doc(f"other-{i}", text, title=title, days=None) for i, (title, text) in enumerate(UNRELATED_LEADS)]
    apart = run([first, *between, second])
    assert apart["wage-1"] != apart["wage-0"]
    assert len(set(apart.values())) == len(apart)  # the unrelated leads took no gray-zone join either


def test_dated_headlines_published_together_join_in_the_gray_zone() -> None:
    """The same two leads, dated: published within ``recent_join_hours`` of each other they join in the gray
    zone like undated ones arriving back to back; a day apart they stay split."""
    config = EngineConfig()
    (title0, text0), (title1, text1) = WAGE_VOTE
    hours = config.recent_join_hours / 24
    together = run([doc("wage-0", text0, title=title0), doc("wage-1", text1, title=title1, days=hours / 2)])
    assert together["wage-1"] == together["wage-0"]
    apart = run([doc("wage-0", text0, title=title0), doc("wage-1", text1, title=title1, days=2 * hours)])
    assert apart["wage-1"] != apart["wage-0"]
