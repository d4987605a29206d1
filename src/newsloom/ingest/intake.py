"""Accepting an extracted article: canonical URL, hashes, syndication check, storage, story assignment.

Every path that brings an article in (feed polling, single pages, local files, queue workers) ends here,
so "ingesting the same thing twice changes nothing" holds in one place:

1. the canonical URL and the exact content hash find an article already stored -> only the source link is added;
2. otherwise the near-duplicate index finds the earliest original of a syndicated copy (it is still stored, as
   its outlet's own record, linked to the original);
3. the story engine assigns the article to a story (copies join their original's story); merges are applied.

The in-memory indexes (near-duplicates, story candidates) are rebuilt from the articles of the story window
when an ``Intake`` is created, so a restart continues where the last run stopped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from newsloom.ingest.urls import canonical_url
from newsloom.notify.hook import StoryChange, record_story_notifications
from newsloom.settings import Settings
from newsloom.storage.base import Storage
from newsloom.stories.cluster import ClusterDoc, EngineConfig, StoryEngine
from newsloom.stories.dedupe import NearDuplicateIndex, content_hash
from newsloom.stories.features import ArticleFeatures, sketch_applies
from newsloom.stories.originality import OriginalityLabel
from newsloom.stories.originality_index import OriginalityIndex, label_next
from newsloom.stories.outlets import host_of, outlet_key
from newsloom.types import Article, ExtractedArticle, NewArticle, Story


@dataclass(frozen=True, slots=True)
class IntakeResult:
    """What happened to one extracted article."""

    article: Article | None
    created: bool
    skipped_reason: str | None = None  # set when nothing was stored (not an article, empty text)
    original_id: int | None = None
    story_id: str | None = None


def story_id_for(doc: ClusterDoc) -> str:
    """Story ids derive from the first article's id, so they are stable and readable in URLs."""
    return f"s{doc.id}"


def _cluster_doc(article: Article) -> ClusterDoc:
    return ClusterDoc(
        id=str(article.id),
        title=article.title,
        text=article.text,
        date=article.published_at or article.fetched_at,
        source=outlet_key(article.publisher, article.source_ids, article.url),
        original_id=str(article.original_id) if article.original_id is not None else None,
    )


def notify_story_changes(
    storage: Storage,
    saved: dict[str, Story],
    members: dict[str, list[int]],
    assigned: dict[int, tuple[Article, int | None, str]],
    merged_away: list[str],
    created: set[str],
    resolve: Callable[[str], str],
    now: datetime,
) -> None:
    """The notification hook of story assignment: runs inside its transaction (see notify/hook.py)."""
    merged_into: dict[str, list[str]] = {}
    for old in merged_away:
        merged_into.setdefault(resolve(old), []).append(old)
    changes = [
        StoryChange(
            story=story,
            added=[replace(assigned[i][0], original_id=assigned[i][1], story_id=story_id) for i in members.get(story_id, [])],
            merged_from=merged_into.get(story_id, []),
            created=story_id in created,
        )
        for story_id, story in saved.items()
    ]
    record_story_notifications(storage, changes, now=now)


def file_url(path: str) -> str:
    """Local files have no web address; their absolute path is their identity."""
    from pathlib import Path

    return Path(path).resolve().as_uri()


# Most articles a start replays into the story engine (the word window's are replayed whole even when they are
# more): the replay costs ~1-5 ms an article (docs/benchmarks/reload.md), so 30,000 bound the start-up to
# about a minute on a quiet core. The
# newest are kept: follow-ups thin out with age (gva-dev: 75% come within 6 days of the incident, 90% within
# 83), so the stories a capped reload leaves closed are the ones least likely to get another report. A
# 200-feed install storing ~2,000 articles a day keeps about two weeks; a small one all 60 days.
RELOAD_MAX_ARTICLES = 30_000


class Intake:
    """Stores extracted articles and keeps syndication links and stories up to date."""

    def __init__(
        self, storage: Storage, settings: Settings, *, now: datetime | None = None, store_only: bool = False
    ) -> None:
        """``store_only`` skips rebuilding the indexes: for processes that only ``store`` (queue workers)."""
        self.storage = storage
        self.settings = settings
        self.near_duplicates = NearDuplicateIndex()
        self.originality = OriginalityIndex()
        self.engine = StoryEngine(EngineConfig(window_days=settings.story_window_days), new_story_id=story_id_for)
        self._unassigned: list[int] = []
        self._pages_due: set[str] = set()  # stories changed by assign_many whose pages are not rebuilt yet
        if not store_only:
            self._rebuild(now or datetime.now(UTC))

    def reset(self, *, now: datetime) -> None:
        """Rebuild the indexes from the database: after a rolled-back transaction they no longer match it."""
        self.near_duplicates = NearDuplicateIndex()
        self.engine = StoryEngine(EngineConfig(window_days=self.settings.story_window_days), new_story_id=story_id_for)
        self._unassigned = []
        self._rebuild(now)

    def _rebuild(self, now: datetime) -> None:
        """Replay the stored assignments, in arrival (id) order, into fresh indexes.

        The story engine gets every article of the last ``follow_up_days`` (60), not only of its word window
        (7): a story its event signature keeps open for follow-ups must be open again after a restart. Its
        clock then closes the other old stories as a running engine did. The near-duplicate and originality
        indexes look back over the word window only, and get its articles only.

        Start-up time is bounded: the newest ``RELOAD_MAX_ARTICLES`` are replayed, or the word window whole
        when it holds more.
        """
        config = self.engine.config
        window_since = now - timedelta(days=config.window_days)
        since = now - timedelta(days=max(config.window_days, config.follow_up_days))
        nth_newest = self.storage.list_articles(limit=1, offset=max(RELOAD_MAX_ARTICLES - 1, 0))
        if nth_newest:  # more articles than the budget: start where the budget ends, never inside the window
            dated = nth_newest[0].published_at or nth_newest[0].fetched_at
            if dated is not None:
                since = max(since, min(window_since, dated))
        for article in self.storage.iter_articles_since(since):
            if article.story_id is None:  # stored but never assigned: a process died between the two stages
                self._unassigned.append(article.id)
                continue
            dated = article.published_at or article.fetched_at
            if dated is not None and dated < window_since:
                self.engine.restore(_cluster_doc(article), article.story_id)
                continue
            self.near_duplicates.add(str(article.id), article.text, article.published_at or article.fetched_at)
            self._label(article, str(article.original_id) if article.original_id is not None else None)
            self.originality.remember_opening(str(article.id), article.text)
            self.engine.restore(_cluster_doc(article), article.story_id)

    def _label(self, article: Article, original_key: str | None) -> OriginalityLabel:
        """Re-label a stored article while rebuilding (no rewrite search: only its wire matters to later copies)."""
        return self.originality.label(
            str(article.id), text=article.text, author=article.author, publisher=article.publisher,
            host=host_of(article.url), outlet=outlet_key(article.publisher, article.source_ids, article.url),
            original_key=original_key,
        )  # fmt: skip

    def assign_pending(self, *, now: datetime) -> int:
        """Assign the articles found stored without a story when the indexes were rebuilt; returns how many."""
        pending, self._unassigned = self._unassigned, []
        for article_id in pending:
            self.assign(self.storage.get_article(article_id), now=now)
        return len(pending)

    def accept(
        self,
        extracted: ExtractedArticle,
        *,
        source_id: int | None = None,
        guid: str | None = None,
        now: datetime,
    ) -> IntakeResult:
        """Store the article and assign it (``store`` then ``assign``), in one transaction."""
        with self.storage.transaction():
            stored = self.store(extracted, source_id=source_id, guid=guid, now=now)
            if stored.article is None or not stored.created:
                return stored
            result = self.assign_many([stored.article], now=now)[0]
        self.refresh_story_pages(now=now)
        return result

    def store(
        self,
        extracted: ExtractedArticle,
        *,
        source_id: int | None = None,
        guid: str | None = None,
        now: datetime,
        features: ArticleFeatures | None = None,
    ) -> IntakeResult:
        """Stage one, safe to run anywhere and any number of times: the article row and its source link.

        ``features``: the article's precomputed features (their content hash is used if made from this text)."""
        if not extracted.is_article:
            return IntakeResult(None, False, skipped_reason=extracted.not_article_reason or "not an article")
        if not extracted.text.strip():
            return IntakeResult(None, False, skipped_reason="no text")
        address = extracted.url or (file_url(extracted.path) if extracted.path else None)
        if address is None:
            return IntakeResult(None, False, skipped_reason="no url or path")
        canonical = canonical_url(address) if extracted.url else address
        new = NewArticle(
            canonical_url=canonical,
            url=extracted.url,
            title=extracted.title,
            text=extracted.text,
            content_hash=(
                features.content_hash
                if features is not None and features.text == extracted.text
                else content_hash(extracted.text)
            ),
            author=extracted.author,
            publisher=extracted.publisher,
            published_at=extracted.published,
            updated_at=extracted.updated,
            fetched_at=now,
            language=extracted.language,
            html=extracted.html,
            image_url=extracted.image_url,
            captions=extracted.captions,
        )
        article, created = self.storage.add_article(new, source_id=source_id, guid=guid, now=now)
        return IntakeResult(article, created, original_id=article.original_id, story_id=article.story_id)

    def assign(self, article: Article, *, now: datetime) -> IntakeResult:
        """Stage two, which needs this process's in-memory indexes: syndication link and story.

        Runs once per article: an article that already has a story is returned as it is, so a repeated
        delivery (a queue retry) changes nothing. Callers must serialise calls (one assigning consumer).
        Call it outside any ``transaction()`` block: it builds the pages of the stories it changed after its commit.
        """
        result = self.assign_many([article], now=now)[0]
        self.refresh_story_pages(now=now)
        return result

    def assign_many(
        self, articles: Iterable[Article], *, now: datetime, features: Mapping[int, ArticleFeatures] | None = None
    ) -> list[IntakeResult]:
        """``assign`` for a batch, in order, in one transaction: the queue assigner's unit of work.

        The stories come out as if ``assign`` had been called on each article in turn (the indexes see them
        one by one), but the rows are written once per batch: each touched story is saved once (its headline
        and summary are computed once, not once per article), its new articles are set in one statement, and
        stories merged away are merged into where they finally went. A story created and merged away within
        the batch never reaches the database. One result per article given, in order; an article that has a
        story already is returned unchanged, one given twice is assigned once. On any error nothing is
        written, and the indexes no longer match the database: rebuild them (as after a failed ``assign``).

        The touched stories' pages are not built here (this may run inside the caller's transaction): call
        ``refresh_story_pages`` once the transaction has committed.

        ``features``: precomputed ``ArticleFeatures`` by article id (a poll computes them in its worker
        processes); each is used only if made from that article's title, text and date, so the results are
        those of assigning without them.
        """
        batch = list(articles)
        features = features or {}
        sketches_apply = sketch_applies(self.near_duplicates)
        with self.storage.transaction():
            assigned: dict[int, tuple[Article, int | None, str]] = {}  # article id -> (article, original, story)
            created: set[str] = set()  # stories born in this batch: no row refers to them yet
            merged_away: list[str] = []  # stories stored before the batch and merged into another in it
            labels: dict[int, OriginalityLabel] = {}
            for article in batch:
                if article.story_id is not None or article.id in assigned:
                    continue
                published = article.published_at or article.fetched_at
                ready = features.get(article.id)
                if ready is not None and not ready.matches(article.title, article.text):
                    ready = None
                if ready is not None and sketches_apply:
                    self.near_duplicates.prime(article.text, ready.sketch)
                original_key, labels[article.id] = label_next(
                    self.near_duplicates, self.originality, str(article.id), text=article.text, published=published,
                    author=article.author, publisher=article.publisher, host=host_of(article.url),
                    outlet=outlet_key(article.publisher, article.source_ids, article.url),
                    opening=ready.opening if ready is not None else None,
                )  # fmt: skip
                original_id = int(original_key) if original_key is not None else None
                if original_id is not None:
                    self.storage.set_original(article.id, original_id)
                doc = replace(_cluster_doc(article), original_id=str(original_id) if original_id is not None else None)
                if ready is None:
                    assignment = self.engine.add(doc)
                else:
                    assignment = self.engine.add(doc, parts=ready.parts, signature=ready.signature_for(doc.date))
                if assignment.created:
                    created.add(assignment.story_id)
                merged_away.extend(old for old in assignment.merged if old not in created)
                assigned[article.id] = (article, original_id, assignment.story_id)
            final = {article_id: self.engine.resolve(story) for article_id, (_, _, story) in assigned.items()}
            for old in merged_away:
                self.storage.merge_stories(old, self.engine.resolve(old))
            members: dict[str, list[int]] = {}
            for article_id, story_id in final.items():
                members.setdefault(story_id, []).append(article_id)
            touched = {self.engine.resolve(old) for old in merged_away} | set(members)
            for story_id in members:
                self.storage.set_story(members[story_id], story_id)
            self.storage.set_originality(labels)
            saved = {story_id: self.engine.story(story_id) for story_id in sorted(touched)}
            for story in saved.values():
                self.storage.save_story(story, now=now)
            notify_story_changes(self.storage, saved, members, assigned, merged_away, created, self.engine.resolve, now)
        self._pages_due.update(touched)
        results = []
        for article in batch:
            if article.story_id is not None:
                results.append(IntakeResult(article, False, original_id=article.original_id, story_id=article.story_id))
                continue
            _, original_id, _ = assigned[article.id]
            stored = replace(article, story_id=final[article.id], original_id=original_id)
            results.append(IntakeResult(stored, True, original_id=original_id, story_id=final[article.id]))
        return results

    def take_pages_due_if_few(self, at_most: int) -> list[str]:
        """After a poll: the stories it changed (merges followed), forgotten here, to be built once each, when
        there are at most ``at_most`` of them; more (a first poll, a catch-up) are all left to their next view,
        where ``story_page`` rebuilds any page older than its story, rather than to whichever ``accept``
        comes next. Build them with ``build_story_pages`` (outside the intake's lock: it reads storage only)."""
        due = dict.fromkeys(self.engine.resolve(story_id) for story_id in self.take_pages_due())
        return list(due) if len(due) <= at_most else []

    def build_story_pages(self, story_ids: list[str], *, now: datetime) -> int:
        """Build and store these stories' pages (``story_pages.refresh_story_pages``); returns how many."""
        if not story_ids:
            return 0
        from newsloom.storage.accounts_store import SqlAccountStore
        from newsloom.story_pages import refresh_story_pages

        return refresh_story_pages(self.storage, SqlAccountStore.for_storage(self.storage), story_ids, now=now)

    def refresh_story_pages(self, *, now: datetime) -> int:
        """Build and store the pages of the stories changed since the last call (after their commit).

        With ``story_pages_at_ingest`` off, the pages are only built on their next view. Returns how many.
        """
        return self.build_story_pages(self.take_pages_due(), now=now)

    def take_pages_due(self) -> list[str]:
        """The stories changed since the last call whose pages are due (none with ``story_pages_at_ingest``
        off), forgotten here: for a caller that builds them elsewhere (the queue assigner hands them to the
        workers, so that the one serial process only assigns)."""
        due, self._pages_due = self._pages_due, set()
        return sorted(due) if self.settings.story_pages_at_ingest else []

    def accept_many(
        self, items: Iterable[ExtractedArticle], *, source_id: int | None = None, now: datetime
    ) -> list[IntakeResult]:
        return [self.accept(item, source_id=source_id, now=now) for item in items]
