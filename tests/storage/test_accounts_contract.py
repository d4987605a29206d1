"""Storage contract of AccountStorage: users, sessions, tokens, follows, saved items, reads, visits, picks,
settings, invites, coverage briefs and the comparison cache (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from newsloom.errors import InputError, NotFoundError, StorageError
from newsloom.storage import Storage
from newsloom.storage.accounts_base import AccountStorage
from newsloom.storage.accounts_store import SqlAccountStore
from tests.storage.helpers import T0, article, at


@pytest.fixture
def accounts(storage: Storage) -> AccountStorage:
    return SqlAccountStore.for_storage(storage)


def test_users_round_trip_case_insensitively(accounts: AccountStorage) -> None:
    alice = accounts.add_user("Alice", "hash-a", now=T0)
    assert alice.username == "alice" and alice.role == "reader" and alice.created_at == T0
    assert accounts.find_user("ALICE") == alice
    assert accounts.get_user(alice.id) == alice
    with pytest.raises(InputError):
        accounts.add_user("alice ", "other", now=T0)
    admin = accounts.add_user("root", "hash-r", role="admin", now=at(1))
    assert admin.is_admin
    assert [u.username for u in accounts.list_users()] == ["alice", "root"]
    assert accounts.count_users() == 2 and accounts.count_users(role="admin") == 1
    changed = accounts.update_user(alice.id, role="admin", feed_nonce=3, last_login_at=at(2))
    assert changed.role == "admin" and changed.feed_nonce == 3 and changed.last_login_at == at(2)
    with pytest.raises(TypeError):
        accounts.update_user(alice.id, username="mallory")
    with pytest.raises(NotFoundError):
        accounts.get_user(9999)
    assert accounts.find_user("nobody") is None


def test_sessions_expire_and_end(accounts: AccountStorage) -> None:
    user = accounts.add_user("bob", "h", now=T0)
    accounts.add_session("s1", user.id, now=T0, expires_at=at(1), user_agent="test")
    accounts.add_session("s2", user.id, now=T0, expires_at=at(10))
    assert accounts.session_user("s1", now=T0) == user
    assert accounts.session_user("s1", now=at(2)) is None  # expired (and deleted)
    assert accounts.session_user("s1", now=T0) is None
    assert accounts.session_user("unknown", now=T0) is None
    accounts.update_user(user.id, disabled=True)
    assert accounts.session_user("s2", now=T0) is None
    accounts.update_user(user.id, disabled=False)
    assert accounts.delete_user_sessions(user.id) == 1
    assert accounts.session_user("s2", now=T0) is None
    with pytest.raises(NotFoundError):
        accounts.add_session("s3", 9999, now=T0, expires_at=at(1))


def test_api_tokens(accounts: AccountStorage) -> None:
    user = accounts.add_user("carol", "h", now=T0)
    other = accounts.add_user("dan", "h", now=T0)
    token = accounts.add_api_token(user.id, "script", "th1", now=T0)
    assert accounts.token_user("th1", now=at(1)) == user
    assert accounts.list_api_tokens(user.id)[0].last_used_at == at(1)
    assert accounts.list_api_tokens(other.id) == []
    assert not accounts.delete_api_token(other.id, token.id)  # not dan's token
    assert accounts.delete_api_token(user.id, token.id)
    assert accounts.token_user("th1", now=at(2)) is None
    accounts.add_api_token(other.id, "dup", "th-dup", now=T0)
    with pytest.raises(StorageError):  # token hashes are unique
        accounts.add_api_token(user.id, "dup", "th-dup", now=T0)


def test_follows_are_per_user(accounts: AccountStorage) -> None:
    alice = accounts.add_user("alice", "h", now=T0)
    bob = accounts.add_user("bob", "h", now=T0)
    assert accounts.follow(alice.id, "entity", "Paris", now=T0)
    assert not accounts.follow(alice.id, "entity", " Paris ", now=T0)
    assert accounts.follow(alice.id, "topic", "climate", now=T0)
    assert [(f.kind, f.value) for f in accounts.list_follows(alice.id)] == [("entity", "Paris"), ("topic", "climate")]
    assert accounts.list_follows(bob.id) == []
    with pytest.raises(InputError):
        accounts.follow(alice.id, "planet", "Mars", now=T0)  # type: ignore[arg-type]
    assert accounts.unfollow(alice.id, "entity", "Paris")
    assert not accounts.unfollow(alice.id, "entity", "Paris")


def test_saved_items_and_reads(storage: Storage, accounts: AccountStorage) -> None:
    alice = accounts.add_user("alice", "h", now=T0)
    bob = accounts.add_user("bob", "h", now=T0)
    ids = [storage.add_article(article(n), now=at(n))[0].id for n in range(3)]
    assert accounts.save_item(alice.id, ids[0], now=at(5))
    assert not accounts.save_item(alice.id, ids[0], now=at(6))
    accounts.save_item(alice.id, ids[1], now=at(7))
    saved = accounts.list_saved(alice.id)
    assert [s.article.id for s in saved] == [ids[1], ids[0]] and saved[1].saved_at == at(5)
    assert saved[0].article.title == "Headline 1"
    assert accounts.saved_ids(alice.id, ids) == {ids[0], ids[1]}
    assert accounts.saved_ids(bob.id, ids) == set()
    assert accounts.unsave_item(alice.id, ids[1])
    with pytest.raises(NotFoundError):
        accounts.save_item(alice.id, 9999, now=T0)

    accounts.mark_read(alice.id, ids[2], now=at(8))
    accounts.mark_read(alice.id, ids[0], now=at(9))
    accounts.mark_read(alice.id, ids[2], now=at(10))
    history = accounts.history(alice.id)
    assert [(h.article.id, h.first_read_at, h.last_read_at) for h in history] == [(ids[2], at(8), at(10)), (ids[0], at(9), at(9))]
    assert accounts.read_ids(alice.id, ids) == {ids[0], ids[2]}
    assert accounts.history(bob.id) == []
    assert accounts.mark_unread(alice.id, ids[0])
    assert accounts.read_ids(alice.id, ids) == {ids[2]}


def test_story_visits_return_the_previous_visit(accounts: AccountStorage) -> None:
    user = accounts.add_user("alice", "h", now=T0)
    assert accounts.visit_story(user.id, "s1", now=at(1)) is None
    assert accounts.visit_story(user.id, "s1", now=at(2)) == at(1)
    assert accounts.visit_story(user.id, "s1", now=at(3)) == at(2)
    assert accounts.visit_story(user.id, "s2", now=at(3)) is None


def test_picks_settings_and_invites(accounts: AccountStorage) -> None:
    admin = accounts.add_user("root", "h", role="admin", now=T0)
    accounts.add_pick("s1", picked_by=admin.id, note="good", now=at(1))
    accounts.add_pick("s2", picked_by=None, now=at(2))
    accounts.add_pick("s1", picked_by=admin.id, note="better", now=at(3))
    assert [(p.story_id, p.note) for p in accounts.list_picks()] == [("s1", "better"), ("s2", None)]
    assert accounts.remove_pick("s2") and not accounts.remove_pick("s2")

    assert accounts.get_setting("signup_mode") is None
    accounts.set_setting("signup_mode", "invite")
    accounts.set_setting("signup_mode", "open")
    assert accounts.get_setting("signup_mode") == "open"

    accounts.add_invite("code1", created_by=admin.id, now=T0, expires_at=at(24))
    accounts.add_invite("code2", created_by=admin.id, now=T0, expires_at=at(1))
    assert accounts.valid_invite("code1", now=at(2)) and not accounts.valid_invite("code2", now=at(2))
    reader = accounts.add_user("new", "h", now=at(2))
    assert accounts.use_invite("code1", reader.id, now=at(2))
    assert not accounts.use_invite("code1", reader.id, now=at(3))  # used once only
    assert not accounts.use_invite("code2", reader.id, now=at(3))  # expired
    assert {i.code_hash: i.used_by for i in accounts.list_invites()} == {"code1": reader.id, "code2": None}


def test_coverage_briefs_and_comparison_cache(storage: Storage, accounts: AccountStorage) -> None:
    source, _ = storage.add_source("https://feed.example/rss", now=T0)
    ids = [storage.add_article(article(n, publisher=f"P{n}"), source_id=source.id, now=at(10))[0].id for n in range(3)]
    storage.set_original(ids[2], ids[0])
    storage.set_story(ids[:2], "s1")
    storage.set_story(ids[2:], "s2")
    coverage = accounts.coverage(["s1", "s2", "missing"])
    assert set(coverage) == {"s1", "s2"}
    assert [b.id for b in coverage["s1"]] == ids[:2]  # oldest first
    brief = coverage["s2"][0]
    assert brief.original_id == ids[0] and brief.source_ids == (source.id,) and brief.publisher == "P2"
    assert brief.dated_at == at(2) and brief.added_at == at(10)
    assert set(accounts.article_briefs([ids[0], 9999])) == {ids[0]}

    assert accounts.cached_comparison("s1", "f1") is None
    accounts.store_comparison("s1", "f1", '{"claims": []}', now=T0)
    assert accounts.cached_comparison("s1", "f1") == '{"claims": []}'
    accounts.store_comparison("s1", "f2", '{"claims": [1]}', now=T0 + timedelta(hours=1))
    assert accounts.cached_comparison("s1", "f1") is None
    assert accounts.cached_comparison("s1", "f2") == '{"claims": [1]}'


def test_saved_and_read_rows_point_at_stored_articles(storage: Storage, accounts: AccountStorage) -> None:
    user = accounts.add_user("alice", "h", now=T0)
    stored, _ = storage.add_article(article(1), now=T0)
    accounts.save_item(user.id, stored.id, now=T0)
    accounts.mark_read(user.id, stored.id, now=T0)
    assert accounts.list_saved(user.id) and accounts.history(user.id)
