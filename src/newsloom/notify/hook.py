"""The outbox hook: turn the story changes of one assignment batch into stored notifications.

``record_story_notifications`` is the single entry point; the intake calls it inside the transaction that
assigns articles to stories, so the notifications commit with the change (or roll back with it). Running it
twice for the same change stores nothing new: event keys are unique per reader.

It costs two indexed look-ups per batch when nobody follows a touched story, and reads the earlier articles
of a story only when somebody follows it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from newsloom.notify.events import (
    ArticleFacts,
    StoryEvent,
    new_story_event,
    new_story_matches,
    story_events,
)
from newsloom.storage.base import Storage
from newsloom.storage.notify_base import NewEvent, NotifySettings
from newsloom.storage.notify_store import SqlNotifyStore
from newsloom.storage.sql import SqlStorage
from newsloom.types import Article, Story

log = logging.getLogger(__name__)

# Earlier articles read per followed story: enough for the claims and figures of a big story.
MAX_EARLIER_ARTICLES = 200


@dataclass(frozen=True, slots=True)
class StoryChange:
    """One story touched by an assignment batch: its new state and the articles it gained."""

    story: Story
    added: Sequence[Article]
    merged_from: Sequence[str] = ()  # stories merged into it in this batch (their followers follow it now)
    created: bool = False


def facts(article: Article) -> ArticleFacts:
    return ArticleFacts(
        id=article.id, text=article.text, title=article.title, publisher=article.publisher, url=article.url,
        original_id=article.original_id,
    )  # fmt: skip


def destinations(channel: str, settings: NotifySettings) -> list[tuple[str, str]]:
    """Where a follow's events go besides the in-app list: its channel, if the reader set that channel up."""
    if channel == "email" and settings.email:
        return [("email", settings.email)]
    if channel == "webhook" and settings.webhook_url:
        return [("webhook", settings.webhook_url)]
    return []


def record_story_notifications(storage: Storage, changes: Sequence[StoryChange], *, now: datetime) -> int:
    """Store the notifications these story changes cause, for every follower; returns how many were new."""
    if not changes or not isinstance(storage, SqlStorage):
        return 0
    store = SqlNotifyStore(storage)
    # (user id, channel, event) in detection order
    wanted: list[tuple[int, str, StoryEvent]] = []
    by_id: dict[str, StoryChange] = {}
    followed_as: dict[str, str] = {}  # followed story id (this one or one merged into it) -> story id
    for change in changes:
        by_id[change.story.id] = change
        for story_id in (change.story.id, *change.merged_from):
            followed_as[story_id] = change.story.id
    story_followers = store.followers("story", followed_as)
    for change in changes:
        if change.merged_from:  # later changes find these followers under the story the old one went into
            store.redirect_story_follows(change.merged_from, change.story.id)
    events_of: dict[str, list[StoryEvent]] = {}
    for user_id, value, channel in story_followers:
        story_id = followed_as[value]
        if story_id not in events_of:
            change = by_id[story_id]
            added_ids = {a.id for a in change.added}
            earlier = [
                facts(a)
                for a in reversed(storage.list_articles(story_id=story_id, limit=MAX_EARLIER_ARTICLES))
                if a.id not in added_ids
            ]
            events_of[story_id] = story_events(
                story_id, change.story.headline, earlier, [facts(a) for a in sorted(change.added, key=lambda a: a.id)]
            )
        wanted.extend((user_id, channel, event) for event in events_of[story_id])
    new_stories = [c for c in changes if c.created]
    if new_stories:
        follows = [(kind, value) for kind in ("entity", "topic") for value in store.followed_values(kind)]
        for change in new_stories if follows else ():
            story = change.story
            for kind, value in new_story_matches(story.headline, story.summary, story.entities, follows):
                event = new_story_event(story.id, story.headline, story.summary, kind, value)
                wanted.extend((user_id, how, event) for user_id, _, how in store.followers(kind, [value]))
    stored = 0
    settings: dict[int, NotifySettings] = {}
    seen: set[tuple[int, str]] = set()
    for user_id, follow_channel, event in wanted:
        if (user_id, event.key) in seen:  # followed twice (an entity and a topic): told once
            continue
        seen.add((user_id, event.key))
        if user_id not in settings:
            settings[user_id] = store.get_notify_settings(user_id)
        record = NewEvent(event.key, event.kind, event.story_id, event.title, event.body, event.payload())
        if store.record_event(user_id, record, destinations(follow_channel, settings[user_id]), now=now) is not None:
            stored += 1
    if stored:
        log.info("stored %d notifications", stored)
    return stored
