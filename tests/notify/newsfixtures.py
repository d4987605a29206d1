"""A small story the tests make themselves: one event told by several outlets, one of them with other figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from newsloom.types import ExtractedArticle

NOW = datetime(2025, 3, 20, 12, tzinfo=UTC)

LEAD = [
    "A fire broke out at the Harbourside chemical plant in Dunmore early on Tuesday, officials said.",
    "Firefighters from three counties fought the blaze for six hours before bringing it under control.",
    "The plant, run by Corvane Industries, makes solvents for the paint industry.",
    "Residents within two miles were told to keep windows closed because of the smoke.",
    "Mayor Ellen Brody said the town's water supply was not affected by the runoff.",
]
EXTRA = [
    "A spokesman for Corvane Industries said production would stop for at least a month while engineers inspect the site.",
    "Local schools were closed for the day and the main coastal road was shut to traffic until the evening.",
]
FIGURE_LINE = "Firefighters from three counties fought the blaze for nine hours before bringing it under control."
OTHER = [
    "The city council of Brackwell voted on Monday to build a new tram line to the university campus.",
    "The line will cost an estimated 400 million euros and open in 2029, council members said.",
    "Opponents said the money would be better spent on buses and cycle lanes across the city.",
    "Construction is due to start next spring after a public consultation over the winter months.",
]


def article(outlet: str, number: int, sentences: list[str], *, minutes: int = 0, title: str | None = None) -> ExtractedArticle:
    return ExtractedArticle(
        title=title or "Fire at Harbourside chemical plant in Dunmore",
        author=None,
        publisher=outlet,
        published=NOW - timedelta(hours=2) + timedelta(minutes=minutes),
        language="en",
        text="\n\n".join(sentences),
        url=f"https://{outlet.lower().replace(' ', '')}.example/news/{number}",
    )


def first_report() -> ExtractedArticle:
    return article("Dunmore Gazette", 1, LEAD)


def second_outlet() -> ExtractedArticle:
    """Another outlet: adds a claim nobody had, and gives another figure for the same fact."""
    rewritten = [
        "Fire tore through the Harbourside chemical plant in Dunmore on Tuesday morning, according to officials.",
        FIGURE_LINE,
        "Corvane Industries, which runs the plant, produces solvents used by paint makers.",
        "People living nearby were asked to keep their windows shut against the smoke.",
        EXTRA[0],
    ]
    return article("Coast Herald", 2, rewritten, minutes=30)


def other_story() -> ExtractedArticle:
    return article("Brackwell Post", 3, OTHER, minutes=10, title="Brackwell council approves tram line to university")
