"""Event signatures of dated local news, and follow-ups joining their story by them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from newsloom.stories.cluster import StoryEngine
from newsloom.stories.profile import SignatureIndex, evidence, tally
from newsloom.stories.signature import EventSignature, dateline_place, event_day, event_signature
from newsloom.stories.state import StoryState
from newsloom.stories.storymodel import ClusterDoc, EngineConfig

_EPOCH = date(1970, 1, 1)


def _day(value: date) -> int:
    return (value - _EPOCH).days


def test_event_day_resolves_weekdays_relative_days_and_dates_against_publication() -> None:
    monday = date(2016, 11, 21)
    assert event_day("A man was shot Saturday night on the East Side.", monday) == _day(date(2016, 11, 19))
    assert event_day("Police said the shooting happened yesterday.", monday) == _day(date(2016, 11, 20))
    # the day after the publication date: a late report dated the day before (time zones)
    assert event_day("The shooting early Tuesday left one dead.", monday) == _day(date(2016, 11, 22))
    # a month and day later than the publication date is last year's
    assert event_day("He was killed on March 3 outside his home.", date(2017, 1, 10)) == _day(date(2016, 3, 3))
    assert event_day("He was killed on Jan. 4 outside his home.", date(2017, 1, 10)) == _day(date(2017, 1, 4))
    assert event_day("Shot on February 30, said nobody; then on Sunday.", monday) == _day(date(2016, 11, 20))
    assert event_day("No day is given here at all.", monday) is None
    # at the ends of the calendar there is no such day: no event day, no crash
    assert event_day("It happened Friday, then on Dec. 31.", date.max) == _day(date(9999, 12, 31))
    assert event_day("It happened yesterday or on Monday.", date.min) == _day(date(1, 1, 1))


def test_signature_reads_streets_names_place_ages() -> None:
    text = (
        "LITTLE ROCK, Ark. (KTHV) - A 2-year-old girl was killed on the 2000 block of Harrison Street on "
        "Tuesday evening. Family members identified her as RaMaya Reed."
    )
    signature = event_signature("Girl killed", text, datetime(2016, 11, 23, tzinfo=UTC), ["RaMaya Reed", "Police Chief"])
    assert "st:harrison street" in signature.strong
    assert "nm:ramaya reed" in signature.strong
    assert "nm:police chief" not in signature.strong  # an office is no person
    assert signature.place == "little rock" and "pl:little rock" in signature.supporting
    assert "age:2" in signature.supporting
    assert signature.event_day == _day(date(2016, 11, 22))
    assert dateline_place("Five people were shot in the city.") is None


def test_keys_held_by_many_stories_are_no_evidence() -> None:
    index = SignatureIndex(rare_stories=2)
    common = EventSignature(strong=("nm:police spokesman",))
    stories = [StoryState(id=f"s{n}", seq=n) for n in range(3)]
    index.post(stories[0], common)
    assert index.rare(common) == ("nm:police spokesman",)
    for story in stories[1:]:
        index.post(story, common)
    assert index.rare(common) == ()  # three stories ever held it: an official, not an incident
    index.unpost(stories[0])
    assert index.rare(common) == ()  # still three ever, though two are open


def test_evidence_counts_shared_keys_and_day_agreement() -> None:
    story = StoryState(id="s", seq=1)
    tally(story, EventSignature(strong=("st:harrison street",), supporting=("ev:100", "pl:little rock"), event_day=100))
    same = EventSignature(strong=("st:harrison street",), supporting=("ev:101",), event_day=101)
    found = evidence(story, same, ("st:harrison street",))
    assert found.shared_keys == 1 and found.day_match and not found.day_conflict
    other = EventSignature(strong=("st:elm street",), supporting=("ev:140", "pl:little rock"), event_day=140)
    found = evidence(story, other, ())
    assert found.shared_keys == 0 and found.shared_support == 1 and found.day_conflict


#: background sentences, a different set per report, so that the reports share few words beyond the event's
_BACKGROUND = (
    "Neighbors said the block had been quiet for months before this happened.",
    "Several residents spoke about their worries for children playing outside in the evenings.",
    "The city council debated new lighting for the park last spring.",
    "A church on the corner holds a food drive every Saturday morning.",
    "Local schools reopened after the holiday break with new bus routes.",
    "The corner store has been run by the same family for three decades.",
    "Officials promised more patrols and a community meeting next month.",
    "Volunteers planted trees along the avenue during the autumn cleanup.",
    "The library branch nearby extended its opening hours this year.",
    "Traffic on the nearby highway was slowed by roadwork through the week.",
    "A youth football league practices on the field behind the school.",
    "The neighborhood association collects donations for a memorial garden.",
)


def _report(doc_id: str, day: datetime, title: str, body: str, background: slice) -> ClusterDoc:
    text = body + " " + " ".join(_BACKGROUND[background] * 2)
    return ClusterDoc(id=doc_id, title=title, text=text, date=day, source=f"{doc_id}.example")


def test_follow_up_days_later_in_other_words_joins_by_signature() -> None:
    first_day = datetime(2016, 11, 23, tzinfo=UTC)
    first = _report(
        "first",
        first_day,
        "Toddler killed in drive-by shooting",
        "A two-year-old was killed when shots were fired into a car on the 2000 block of Harrison Street "
        "on Tuesday evening. Family members identified the girl as RaMaya Reed.",
        slice(0, 4),
    )
    other_incident = _report(
        "other",
        first_day + timedelta(days=2),
        "Man wounded in shooting outside store",
        "A man was wounded outside a store on Elm Street on Thursday night. Police identified him as "
        "Marcus Tolliver and said he is expected to survive.",
        slice(4, 8),
    )
    follow_up = _report(
        "follow",
        first_day + timedelta(days=12),
        "Arrest made in death of child",
        "Detectives arrested a suspect, Darnell Wilkes, in the death of RaMaya Reed, whose family had "
        "pleaded for answers after she died near Harrison Street.",
        slice(8, 12),
    )
    engine = StoryEngine(EngineConfig())
    stories = [engine.add(doc).story_id for doc in (first, other_incident, follow_up)]
    assert stories[0] != stories[1]  # same kind of incident, other street, other names, other day
    assert engine.resolve(stories[2]) == engine.resolve(stories[0])

    without = StoryEngine(EngineConfig(signature_bonus=0.0))
    apart = [without.add(doc).story_id for doc in (first, other_incident, follow_up)]
    assert apart[2] != apart[0]  # the words alone do not say it: the signature does
