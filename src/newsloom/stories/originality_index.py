"""Labels each new article's originality from what earlier articles were: the ingest side of ``originality``.

The near-duplicate index says which earlier articles a text copies or reuses; this index remembers, for each
of them, its outlet and the wire it carries (the agency itself, or the wire it reprinted), so a copy of a copy
of AP copy is still AP copy. In memory, rebuilt from the story window at start like the other indexes.
"""

from __future__ import annotations

from collections.abc import Sequence

from newsloom.stories.originality import (
    EarlierArticle,
    OriginalityLabel,
    article_wire,
    credited_wire,
    label_article,
    wire_of_outlet,
)


class OriginalityIndex:
    """Outlet and carried wire of every indexed article, by key (article id as a string). Not thread-safe."""

    def __init__(self) -> None:
        self._known: dict[str, tuple[str | None, str | None]] = {}

    def __len__(self) -> int:
        return len(self._known)

    def remember(self, key: str, outlet: str | None, wire: str | None) -> None:
        self._known[key] = (outlet, wire)

    def forget(self, key: str) -> None:
        self._known.pop(key, None)

    def earlier(self, key: str, containment: float) -> EarlierArticle | None:
        known = self._known.get(key)
        if known is None or not key.isdigit():
            return None
        return EarlierArticle(int(key), known[0], known[1], containment)

    def label(
        self,
        key: str,
        *,
        text: str,
        author: str | None,
        publisher: str | None,
        host: str | None,
        outlet: str | None,
        original_key: str | None,
        similar: Sequence[tuple[str, float]] = (),
    ) -> OriginalityLabel:
        """Label the article and remember it (so later copies of it inherit its wire)."""
        own_wire = wire_of_outlet(publisher, host)
        copy_of = self.earlier(original_key, 1.0) if original_key is not None and original_key != key else None
        earlier = [e for k, score in similar if k != key and (e := self.earlier(k, score)) is not None]
        label = label_article(
            outlet=outlet, own_wire=own_wire, credit=credited_wire(text, author), copy_of=copy_of, similar=earlier
        )
        self.remember(key, outlet, article_wire(label, own_wire))
        return label
