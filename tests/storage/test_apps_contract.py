"""Storage contract of AppStorage (the apps' APIs): API passwords, item modes, subscriptions and folders, streams
in both item modes, read/starred state shared with the web reader (SQLite and PostgreSQL)."""

from __future__ import annotations

import random

import pytest

from newsloom.errors import InputError, NotFoundError
from newsloom.storage import Storage
from newsloom.storage.accounts_store import SqlAccountStore
from newsloom.storage.apps_base import StreamQuery
from newsloom.storage.apps_store import SqlAppStore
from tests.storage.helpers import T0, article, at


@pytest.fixture
def apps(storage: Storage) -> SqlAppStore:
    return SqlAppStore.for_storage(storage)


def test_api_password_fever_key_and_mode(storage: Storage, apps: SqlAppStore) -> None:
    accounts = SqlAccountStore.for_storage(storage)
    user = accounts.add_user("alice", "h", now=T0)
    assert apps.app_account(user.id) is None and apps.fever_user("k" * 64) is None
    apps.set_api_password(user.id, "argon-hash", "k" * 64, now=T0)
    account = apps.app_account(user.id)
    assert account is not None and account.password_hash == "argon-hash" and account.item_mode == "stories"
    assert apps.fever_user("k" * 64) == user
    apps.set_item_mode(user.id, "articles", now=at(1))
    assert apps.app_account(user.id).item_mode == "articles"  # type: ignore[union-attr]
    with pytest.raises(InputError):
        apps.set_item_mode(user.id, "tweets", now=T0)  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):
        apps.set_api_password(9999, "h", "x" * 64, now=T0)
    accounts.add_api_token(user.id, "app sign-in (reeder)", "t1", now=T0)
    accounts.add_api_token(user.id, "script", "t2", now=T0)
    assert apps.revoke_app_tokens(user.id, "app sign-in") == 1
    assert [t.name for t in accounts.list_api_tokens(user.id)] == ["script"]
    accounts.update_user(user.id, disabled=True)
    assert apps.fever_user("k" * 64) is None


def test_subscriptions_seed_once_and_folders(storage: Storage, apps: SqlAppStore) -> None:
    user = SqlAccountStore.for_storage(storage).add_user("bob", "h", now=T0)
    a, _ = storage.add_source("https://a.example/feed", title="A", category="News", now=T0)
    b, _ = storage.add_source("https://b.example/feed", now=T0)
    assert apps.seed_subscriptions(user.id, now=T0) and not apps.seed_subscriptions(user.id, now=T0)
    subs = apps.subscriptions(user.id)
    assert [(s.source_id, s.title, s.folder) for s in subs] == [(a.id, "A", "News"), (b.id, "https://b.example/feed", None)]
    assert apps.edit_subscription(user.id, b.id, title="Bee", folder="News")
    assert apps.rename_folder(user.id, "News", "World") == 2
    assert apps.clear_folder(user.id, "World") == 2
    assert apps.unsubscribe(user.id, a.id) and not apps.unsubscribe(user.id, a.id)
    assert not apps.edit_subscription(user.id, a.id, title="x")
    apps.seed_subscriptions(user.id, now=T0)  # seeding never comes back
    assert [s.title for s in apps.subscriptions(user.id)] == ["Bee"]
    assert apps.subscribe(user.id, a.id, title=None, folder="Later", now=T0)
    assert not apps.subscribe(user.id, a.id, title="A!", folder=None, now=T0)
    assert {(s.title, s.folder) for s in apps.subscriptions(user.id)} == {("A!", "Later"), ("Bee", None)}
    with pytest.raises(TypeError):
        apps.edit_subscription(user.id, a.id, url="x")
    with pytest.raises(NotFoundError):
        apps.subscribe(user.id, 9999, title=None, folder=None, now=T0)


def _stocked(storage: Storage, apps: SqlAppStore, n_articles: int, seed: int) -> tuple[int, list[int]]:
    """Articles over 3 sources in random stories (some without one); a reader subscribed to every source."""
    rng = random.Random(seed)
    user = SqlAccountStore.for_storage(storage).add_user("carol", "h", now=T0)
    sources = [storage.add_source(f"https://s{i}.example/feed", now=T0)[0].id for i in range(3)]
    ids = []
    for n in range(n_articles):
        stored, _ = storage.add_article(article(n, published_at=at(rng.choice(range(40)))), source_id=rng.choice(sources),
                                        now=at(50))  # fmt: skip
        ids.append(stored.id)
    for story in range(n_articles // 3):
        members = rng.sample(ids, rng.choice([1, 2, 3]))
        storage.set_story(members, f"st{story}")
    apps.seed_subscriptions(user.id, now=T0)
    return user.id, ids


@pytest.mark.parametrize("seed", [1, 2])
def test_story_walk_pages_like_the_grouped_stream(storage: Storage, apps: SqlAppStore, seed: int) -> None:
    user, ids = _stocked(storage, apps, 40, seed)
    apps.set_read(user, ids[:10], True, now=T0)
    for read in (None, False):
        everything = apps.stream(user, StreamQuery(mode="stories", read=read, order="oldest", limit=1000))
        grouped = sorted(everything, key=lambda r: (r.dated_at, r.item_id), reverse=True)
        walked, after = [], None
        while True:
            page = apps.stream(user, StreamQuery(mode="stories", read=read, limit=3, after=after))
            walked += page
            if len(page) < 3:
                break
            after = (page[-1].dated_at, page[-1].item_id)
        assert walked == grouped
        assert apps.count_items(user, StreamQuery(mode="stories", read=read)) == len(grouped)


def test_reads_stars_and_marking_streams(storage: Storage, apps: SqlAppStore) -> None:
    user, ids = _stocked(storage, apps, 12, 3)
    accounts = SqlAccountStore.for_storage(storage)
    assert apps.set_read(user, [ids[0], ids[1], 99999], True, now=T0) == 2  # unknown ids are ignored
    assert apps.set_read(user, [ids[0]], True, now=T0) == 0
    assert accounts.read_ids(user, ids) == {ids[0], ids[1]}  # the web reader's read state
    assert apps.set_read(user, [ids[0]], False, now=T0) == 1
    assert apps.set_starred(user, [ids[2]], True, now=T0) == 1 and accounts.saved_ids(user, ids) == {ids[2]}
    starred = apps.stream(user, StreamQuery(mode="articles", starred=True, limit=50))
    assert [r.item_id for r in starred] == [ids[2]]
    storage.set_original(ids[4], ids[3])
    assert ids[4] not in [r.item_id for r in apps.stream(user, StreamQuery(mode="articles", limit=50))]
    assert apps.expand_items([ids[3]], "articles") == {ids[3]: sorted([ids[3], ids[4]])}
    marked = apps.mark_stream_read(user, StreamQuery(mode="articles"), now=T0)
    assert marked == len(ids) - 1  # ids[1] was read already
    assert apps.stream(user, StreamQuery(mode="stories", read=False, limit=50)) == []
    counts = apps.unread_counts(user, "articles")
    assert all(c.count == 0 for c in counts)
