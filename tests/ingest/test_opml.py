"""OPML import/export: categories from nesting and the category attribute, round trips, unsafe documents."""

from __future__ import annotations

import pytest

from newsloom.errors import OpmlError
from newsloom.ingest.opml import build_opml, parse_opml
from newsloom.types import OpmlOutline

NESTED = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>My feeds</title></head>
  <body>
    <outline text="World">
      <outline text="Europe" title="Europe">
        <outline type="rss" text="Le Monde" xmlUrl="https://www.lemonde.fr/rss/une.xml" htmlUrl="https://www.lemonde.fr/"/>
      </outline>
      <outline type="rss" text="BBC World" title="BBC News - World" xmlUrl="https://feeds.bbci.co.uk/news/world/rss.xml"/>
    </outline>
    <outline type="rss" text="Tagged" xmlUrl="https://tagged.example/feed" category="/Science/Space,/misc"/>
    <outline type="rss" text="Loose" xmlurl="https://loose.example/rss"/>
    <outline type="rss" text="Duplicate" xmlUrl="https://www.lemonde.fr/rss/une.xml"/>
    <outline type="rss" text="Local file" xmlUrl="file:///etc/passwd"/>
    <outline text="Empty folder"/>
  </body>
</opml>
"""


def test_categories_from_nesting_and_attribute() -> None:
    outlines = parse_opml(NESTED)
    assert outlines == [
        OpmlOutline(
            "https://www.lemonde.fr/rss/une.xml", "Le Monde", "https://www.lemonde.fr/", "World/Europe"
        ),
        OpmlOutline("https://feeds.bbci.co.uk/news/world/rss.xml", "BBC News - World", None, "World"),
        OpmlOutline("https://tagged.example/feed", "Tagged", None, "Science/Space"),
        OpmlOutline("https://loose.example/rss", "Loose", None, None),
    ]


def test_round_trip_keeps_everything() -> None:
    outlines = parse_opml(NESTED)
    exported = build_opml(outlines, title="Export")
    assert exported.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    assert b"<title>Export</title>" in exported
    assert parse_opml(exported) == outlines


def test_export_groups_by_category_as_nested_folders() -> None:
    exported = build_opml(
        [
            OpmlOutline("https://a.example/rss", "A", category="World/Europe"),
            OpmlOutline("https://b.example/rss", "B & <b>", category="World"),
            OpmlOutline("https://c.example/rss", None, "https://c.example/", category="World/Europe"),
            OpmlOutline("https://d.example/rss", "D"),
        ]
    ).decode()
    assert exported.count('text="World"') == 1 and exported.count('text="Europe"') == 1
    assert 'text="B &amp; &lt;b&gt;"' in exported
    back = parse_opml(exported.encode())
    assert [o.category for o in back] == ["World/Europe", "World/Europe", "World", None]
    assert back[1] == OpmlOutline(
        "https://c.example/rss", "https://c.example/rss", "https://c.example/", "World/Europe"
    )


def test_non_ascii_and_declared_encoding() -> None:
    doc = '<?xml version="1.0" encoding="windows-1251"?><opml version="1.0"><body><outline text="Новости"><outline text="Лента" xmlUrl="https://lenta.example/rss"/></outline></body></opml>'
    (outline,) = parse_opml(doc.encode("windows-1251"))
    assert outline.category == "Новости" and outline.title == "Лента"


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>
<opml version="2.0"><body><outline text="&c;" xmlUrl="https://x.example/rss"/></body></opml>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE opml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<opml version="2.0"><body><outline text="&xxe;" xmlUrl="https://x.example/rss"/></body></opml>"""


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (BILLION_LAUGHS, "entities"),
        (XXE, "entities"),
        (b"", "empty"),
        (b"<opml><body><outline", "malformed"),
        (b"<rss version='2.0'><channel/></rss>", "not an OPML"),
        (b"<opml version='2.0'><head/></opml>", "no <body>"),
        (b"\x00\x01garbage", "malformed"),
        (b'<?xml version="1.0" encoding="no-such-codec"?><opml/>', "malformed"),
    ],
)
def test_bad_opml_raises_opml_error(content: bytes, message: str) -> None:
    with pytest.raises(OpmlError, match=message):
        parse_opml(content)


def test_doctype_without_entities_is_accepted() -> None:
    doc = b'<?xml version="1.0"?>\n<!DOCTYPE opml>\n<opml version="1.0"><body><outline xmlUrl="https://x.example/rss"/></body></opml>'
    assert parse_opml(doc) == [OpmlOutline("https://x.example/rss")]
