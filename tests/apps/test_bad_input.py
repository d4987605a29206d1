"""Bad input to both apps' APIs: a 400 (or 401 for credentials and tokens) with a short message, never a 500,
and nothing changes. Fixed cases on SQLite and PostgreSQL; Hypothesis fuzzes the parameters on SQLite.

TestClient re-raises any exception the app did not turn into a response, so a crash fails the test itself.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsloom.reader_service import ReaderService
from newsloom.storage.accounts_base import User
from tests.apps.conftest import API_PASSWORD, FEED_A, action_token

API = "/reader/api/0"
RL = "user/-/state/com.google/reading-list"
READ = "user/-/state/com.google/read"
KEY = hashlib.md5(f"alice:{API_PASSWORD}".encode()).hexdigest()
EXAMPLES = int(os.environ.get("NEWSLOOM_FUZZ_EXAMPLES", "100"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, print_blob=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip
MAX_MESSAGE = 120


def state(reader: ReaderService, user: User) -> tuple[Any, ...]:
    ids = [a.id for a in reader.service.storage.list_articles(limit=100)]
    from newsloom.apps_service import AppService

    subs = AppService(reader).subscriptions(user)  # seeds a first time: seeding is not a change
    return (reader.accounts.read_ids(user.id, ids), reader.accounts.saved_ids(user.id, ids),
            [(s.source_id, s.title, s.folder) for s in subs], len(reader.service.sources()))  # fmt: skip


GREADER_GETS: list[tuple[str, dict[str, Any]]] = [
    (f"stream/contents/{RL[:-1]}x", {}),
    ("stream/contents/feed/https://unknown.example/feed", {}),
    ("stream/contents/user/-/label/Nope", {}),
    ("stream/contents/user/999/state/com.google/reading-list", {}),
    ("stream/contents/nonsense", {}),
    (f"stream/contents/{RL}", {"n": "abc"}),
    (f"stream/contents/{RL}", {"n": "0"}),
    (f"stream/contents/{RL}", {"n": "10001"}),
    (f"stream/contents/{RL}", {"n": "9" * 40}),
    (f"stream/contents/{RL}", {"c": "garbage!"}),
    (f"stream/contents/{RL}", {"c": "YTpi"}),  # base64 of "a:b"
    (f"stream/contents/{RL}", {"ot": "-1"}),
    (f"stream/contents/{RL}", {"nt": "1e99"}),
    (f"stream/contents/{RL}", {"xt": "user/-/label/News"}),
    (f"stream/contents/{RL}", {"it": f"feed/{FEED_A}"}),
    ("stream/items/ids", {"s": "feed/nope"}),
    ("stream/items/ids", {"s": RL, "n": "-5"}),
    ("stream/items/contents", {"i": "tag:google.com,2005:reader/item/zzzz"}),
    ("stream/items/contents", {"i": "12abc"}),
    ("stream/items/contents", {"i": "1" * 30}),
    ("stream/items/contents", {}),
    ("stream/items/contents", {"i": [str(n) for n in range(1, 10_002)]}),
]
GREADER_POSTS: list[tuple[str, dict[str, Any]]] = [
    ("edit-tag", {"i": "tag:google.com,2005:reader/item/xyz", "a": READ}),
    ("edit-tag", {"i": ["1", "nope"], "a": READ}),  # one bad id: the whole request is refused
    ("edit-tag", {"i": "1", "a": "user/-/label/Something"}),
    ("edit-tag", {"a": READ}),
    ("mark-all-as-read", {"s": "feed/https://unknown.example/"}),
    ("mark-all-as-read", {"s": RL, "ts": "yesterday"}),
    ("subscription/edit", {"ac": "explode", "s": f"feed/{FEED_A}"}),
    ("subscription/edit", {"ac": "unsubscribe", "s": "feed/https://unknown.example/"}),
    ("subscription/edit", {"ac": "edit", "s": "not-a-feed"}),
    ("subscription/edit", {"ac": "edit"}),
    ("subscription/edit", {"ac": "edit", "s": f"feed/{FEED_A}", "a": "user/-/label/" + "x" * 300}),
    ("subscription/quickadd", {"quickadd": "ftp://example.org/feed"}),
    ("rename-tag", {"s": "user/-/label/Nope", "dest": "user/-/label/Other"}),
    ("rename-tag", {"s": "user/-/label/Top stories", "dest": "user/-/label/Other"}),
    ("disable-tag", {"s": "user/-/label/Nope"}),
    ("disable-tag", {}),
]


def test_greader_bad_reads(client: TestClient, auth: dict[str, str], app_reader: ReaderService, alice: User) -> None:
    before = state(app_reader, alice)
    for path, params in GREADER_GETS:
        post = path.endswith("items/contents")  # clients POST their id lists
        response = client.request("POST" if post else "GET", f"{API}/{path}", headers=auth,
                                  **({"data": params} if post else {"params": params}))  # type: ignore[arg-type]
        assert response.status_code == 400, (path, params, response.text)
        assert 0 < len(response.text) <= MAX_MESSAGE
    assert state(app_reader, alice) == before


def test_greader_bad_writes_change_nothing(client: TestClient, auth: dict[str, str], app_reader: ReaderService,
                                           alice: User) -> None:  # fmt: skip
    token = action_token(client, auth)
    before = state(app_reader, alice)
    for path, params in GREADER_POSTS:
        for data, status in (({**params, "T": token}, {400, 403}), (params, {401}), ({**params, "T": "x" * 57}, {401})):
            response = client.post(f"{API}/{path}", data=data, headers=auth)
            assert response.status_code in status, (path, data, response.status_code, response.text)
            assert 0 < len(response.text) <= MAX_MESSAGE
        assert state(app_reader, alice) == before, path
    for path in ("user-info", "subscription/list", f"stream/contents/{RL}", "edit-tag"):
        response = client.post(f"{API}/{path}", data={"T": token})  # no Authorization header
        assert (response.status_code, response.text) == (401, "Unauthorized")


FEVER_BAD: list[dict[str, str]] = [
    {"mark": "story", "as": "read", "id": "1"},
    {"mark": "item", "as": "burnt", "id": "1"},
    {"mark": "item", "as": "read", "id": "abc"},
    {"mark": "item", "as": "read"},
    {"mark": "item", "as": "read", "id": "999999"},
    {"mark": "item", "as": "read", "id": "99999999999999999999"},
    {"mark": "feed", "as": "read", "id": "424242"},
    {"mark": "feed", "as": "saved", "id": "1"},
    {"mark": "group", "as": "read", "id": "7"},
    {"mark": "feed", "as": "read", "id": "1", "before": "soon"},
    {"items": "", "since_id": "abc"},
    {"items": "", "max_id": "-1"},
    {"items": "", "with_ids": "1,,2"},
    {"items": "", "with_ids": ",".join(str(i) for i in range(1, 52))},
]


def test_fever_bad_input_changes_nothing(client: TestClient, app_reader: ReaderService, alice: User) -> None:
    before = state(app_reader, alice)
    for params in FEVER_BAD:
        query = "&".join(["api", *(k for k, v in params.items() if v == "")])
        form = {k: v for k, v in params.items() if v != ""}
        response = client.post(f"/fever/?{query}", data={"api_key": KEY, **form})
        assert response.status_code == 400, (params, response.text)
        assert response.json()["error"] and len(response.json()["error"]) <= MAX_MESSAGE
        assert state(app_reader, alice) == before, params
    assert client.post("/fever/", data={"api_key": KEY}).status_code == 400  # not ?api


# -- fuzzing (SQLite) -------------------------------------------------------------------------------------------

_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
_values = st.one_of(
    _text, st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from([RL, READ, "user/-/state/com.google/starred", "user/-/label/News", f"feed/{FEED_A}", "feed/1",
                     "tag:google.com,2005:reader/item/0000000000000001", "tag:google.com,2005:reader/item/", "o", "",
                     "user/-/label/Top stories", "-1", "0", "1", "2", "3"]),
)  # fmt: skip
_greader_params = st.dictionaries(st.sampled_from(["n", "c", "ot", "nt", "r", "xt", "it", "s", "i", "a", "ac", "t",
                                                   "dest", "ts", "quickadd", "output"]), _values, max_size=6)  # fmt: skip
_greader_paths = st.sampled_from([
    f"stream/contents/{RL}", "stream/contents/feed/1", "stream/contents/user/-/label/News", "stream/items/ids",
    "stream/items/contents", "edit-tag", "mark-all-as-read", "subscription/edit", "rename-tag", "disable-tag",
    "unread-count", "tag/list", "subscription/quickadd",
])  # fmt: skip
ALLOWED = {200, 400, 401, 403, 405}


@pytest.mark.parametrize("app_reader", ["sqlite"], indirect=True)
@FUZZ
@given(path=_greader_paths, params=_greader_params, with_token=st.booleans())
def test_fuzz_greader(client: TestClient, auth: dict[str, str], app_reader: ReaderService, alice: User, path: str,
                      params: dict[str, str], with_token: bool) -> None:  # fmt: skip
    data = {**params, "T": action_token(client, auth)} if with_token else params
    before = state(app_reader, alice)
    response = client.post(f"{API}/{path}", data=data, headers=auth)
    assert response.status_code in ALLOWED, response.text
    if response.status_code != 200:
        assert state(app_reader, alice) == before


_fever_params = st.dictionaries(
    st.sampled_from(["mark", "as", "id", "before", "since_id", "max_id", "with_ids", "items", "groups", "feeds",
                     "unread_item_ids", "saved_item_ids", "links", "favicons"]),
    st.one_of(_values, st.sampled_from(["item", "feed", "group", "read", "unread", "saved", "unsaved"]),
              st.lists(st.integers(min_value=0, max_value=12), max_size=60).map(lambda xs: ",".join(map(str, xs)))),
    max_size=5,
)  # fmt: skip


@pytest.mark.parametrize("app_reader", ["sqlite"], indirect=True)
@FUZZ
@given(params=_fever_params)
def test_fuzz_fever(client: TestClient, app_reader: ReaderService, alice: User, params: dict[str, str]) -> None:
    before = state(app_reader, alice)
    response = client.post("/fever/?api", data={"api_key": KEY, **params})
    assert response.status_code in {200, 400}, response.text
    assert response.json()["api_version"] == 3
    if response.status_code != 200:
        assert state(app_reader, alice) == before
