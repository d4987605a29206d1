"""The Google Reader API on SQLite and PostgreSQL, through HTTP requests to the whole app (TestClient).

Fixture news (see conftest): story s-one (Alpha, Beta and Wire's copy of Alpha's article), story s-two
(Alpha), and a lone article without a story (Beta). Alpha's feed sits in folder News.
"""

from __future__ import annotations

from dataclasses import replace

from fastapi.testclient import TestClient

from newsloom.apps_service import AppService
from newsloom.reader_service import ReaderService
from newsloom.storage.accounts_base import User
from newsloom.story_pages import encode_page, refresh_story_page
from tests.apps.conftest import API_PASSWORD, FEED_A, FEED_B, action_token, login
from tests.web.conftest import NOW, PASSWORD

API = "/reader/api/0"
READING_LIST = "user/-/state/com.google/reading-list"
READ = "user/-/state/com.google/read"
STARRED = "user/-/state/com.google/starred"
LONG = "tag:google.com,2005:reader/item/"


def contents(client: TestClient, auth: dict[str, str], stream: str = READING_LIST, **params: object) -> dict:  # type: ignore[type-arg]
    response = client.get(f"{API}/stream/contents/{stream}", params={"output": "json", **params}, headers=auth)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def post(client: TestClient, auth: dict[str, str], path: str, data: dict[str, object]) -> str:
    response = client.post(f"{API}/{path}", data={"T": action_token(client, auth), **data}, headers=auth)
    assert response.status_code == 200, response.text
    return response.text


def all_article_ids(reader: ReaderService) -> list[int]:
    return [a.id for a in reader.service.storage.list_articles(limit=100)]


def test_client_login_checks_the_api_password_only(client: TestClient, alice: User) -> None:
    body = client.post("/accounts/ClientLogin", data={"Email": "alice", "Passwd": API_PASSWORD}).text
    keys = dict(line.split("=", 1) for line in body.strip().splitlines())
    assert set(keys) == {"SID", "LSID", "Auth"} and keys["Auth"].startswith("nl_")
    for email, password in (("alice", PASSWORD), ("alice", "wrong one!"), ("nobody", API_PASSWORD), ("", "")):
        response = client.post("/accounts/ClientLogin", data={"Email": email, "Passwd": password})
        assert (response.status_code, response.text) == (401, "Unauthorized")  # the sign-in password is not it
    assert client.get(f"{API}/user-info", headers={"Authorization": "GoogleLogin auth=nl_forged"}).status_code == 401
    info = client.get(f"{API}/user-info", headers={"Authorization": f"GoogleLogin auth={keys['Auth']}"}).json()
    assert info["userName"] == "alice" and info["userId"] == str(alice.id)


def test_client_login_is_rate_limited_per_user(client: TestClient, alice: User) -> None:
    for _ in range(5):
        assert client.post("/accounts/ClientLogin", data={"Email": "alice", "Passwd": "not it at all"}).status_code == 401
    blocked = client.post("/accounts/ClientLogin", data={"Email": "alice", "Passwd": API_PASSWORD})
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0


def test_tokens_are_revocable(client: TestClient, app_reader: ReaderService, apps: AppService, alice: User) -> None:
    auth = login(client)
    assert client.get(f"{API}/user-info", headers=auth).status_code == 200
    tokens = app_reader.api_tokens(alice)
    assert [t.name for t in tokens] == ["app sign-in (app)"]
    assert app_reader.revoke_api_token(alice, tokens[0].id)
    assert client.get(f"{API}/user-info", headers=auth).status_code == 401
    auth = login(client)
    apps.set_api_password(alice, "a new api password")  # a new API password signs every app out
    assert client.get(f"{API}/user-info", headers=auth).status_code == 401
    assert client.post("/accounts/ClientLogin", data={"Email": "alice", "Passwd": API_PASSWORD}).status_code == 401
    login(client, password="a new api password")


def test_posts_need_the_action_token(client: TestClient, auth: dict[str, str], app_reader: ReaderService, alice: User) -> None:
    item = contents(client, auth)["items"][0]["id"]
    for data in ({"i": item, "a": READ}, {"i": item, "a": READ, "T": "forged"}):
        response = client.post(f"{API}/edit-tag", data=data, headers=auth)
        assert response.status_code == 401
    assert client.get(f"{API}/edit-tag", params={"i": item, "a": READ}, headers=auth).status_code == 405
    assert app_reader.accounts.read_ids(alice.id, all_article_ids(app_reader)) == set()


def test_subscriptions_folders_and_tags(client: TestClient, auth: dict[str, str], alice: User) -> None:
    subs = client.get(f"{API}/subscription/list", params={"output": "json"}, headers=auth).json()["subscriptions"]
    assert [(s["id"], s["title"], s["url"]) for s in subs] == [
        (f"feed/{FEED_A}", "Alpha News", FEED_A), (f"feed/{FEED_B}", "Beta Times", FEED_B)
    ]  # fmt: skip
    assert subs[0]["categories"] == [{"id": f"user/{alice.id}/label/News", "label": "News"}] and subs[1]["categories"] == []
    post(client, auth, "subscription/edit", {"ac": "edit", "s": f"feed/{FEED_B}", "t": "Beta", "a": "user/-/label/World"})
    tags = [t["id"] for t in client.get(f"{API}/tag/list", params={"output": "json"}, headers=auth).json()["tags"]]
    assert tags == [f"user/{alice.id}/state/com.google/starred", f"user/{alice.id}/label/Top stories",
                    f"user/{alice.id}/label/For you", f"user/{alice.id}/label/News", f"user/{alice.id}/label/World"]  # fmt: skip
    post(client, auth, "rename-tag", {"s": "user/-/label/World", "dest": "user/-/label/Abroad"})
    post(client, auth, "disable-tag", {"s": "user/-/label/News"})
    subs = client.get(f"{API}/subscription/list", headers=auth).json()["subscriptions"]
    assert [(s["title"], [c["label"] for c in s["categories"]]) for s in subs] == [("Alpha News", []), ("Beta", ["Abroad"])]
    post(client, auth, "subscription/edit", {"ac": "unsubscribe", "s": f"feed/{FEED_A}"})
    assert [s["title"] for s in client.get(f"{API}/subscription/list", headers=auth).json()["subscriptions"]] == ["Beta"]
    assert [i["origin"]["streamId"] for i in contents(client, auth)["items"]] == [f"feed/{FEED_B}"] * 2
    added = client.post(f"{API}/subscription/quickadd", data={"T": action_token(client, auth), "quickadd": FEED_A}, headers=auth)
    assert added.json() == {"numResults": 1, "query": FEED_A, "streamId": f"feed/{FEED_A}", "streamName": "Alpha News"}
    unknown = client.post(f"{API}/subscription/quickadd", data={"T": action_token(client, auth), "quickadd": "https://new.example/feed"},
                          headers=auth)  # fmt: skip
    assert unknown.status_code == 403  # only admins add new sources, as on the web


def test_story_items_by_default(client: TestClient, auth: dict[str, str], app_reader: ReaderService) -> None:
    stream = contents(client, auth, n=10)
    titles = [i["title"] for i in stream["items"]]
    assert titles == ["Lone report (Beta)", "Council votes", "Bridge opens"] and "continuation" not in stream
    bridge = stream["items"][2]
    head = min(a.id for a in app_reader.service.story_articles("s-one"))
    assert bridge["id"] == f"{LONG}{head:016x}"
    body = bridge["content"]["content"]
    assert "Summary of Bridge opens." in body and "Coverage (3)" in body
    assert all(f'href="https://{o}.example/s-one/{n}"' in body for n, o in enumerate(["alpha", "beta", "wire"]))
    assert bridge["origin"] == {"streamId": f"feed/{FEED_A}", "title": "Alpha News", "htmlUrl": "https://alpha.example/"}
    assert any(c.endswith("/label/News") for c in bridge["categories"])
    # Paging with n and c walks every item once; r=o reverses; ot cuts off older items.
    seen, cont = [], None
    while True:
        page = contents(client, auth, n=1, **({"c": cont} if cont else {}))
        seen += [i["title"] for i in page["items"]]
        cont = page.get("continuation")
        if not cont:
            break
    assert seen == titles
    assert [i["title"] for i in contents(client, auth, r="o")["items"]] == titles[::-1]
    two_hours_ago = int(stream["items"][1]["published"])
    assert [i["title"] for i in contents(client, auth, ot=two_hours_ago)["items"]] == titles[:2]
    assert [i["title"] for i in contents(client, auth, f"feed/{FEED_B}")["items"]] == ["Lone report (Beta)", "Bridge opens"]
    assert [i["title"] for i in contents(client, auth, "user/-/label/News")["items"]] == ["Council votes", "Bridge opens"]
    top = [i["title"] for i in contents(client, auth, "user/-/label/Top stories")["items"]]
    assert set(top) == {"Council votes", "Bridge opens"}  # stories only: the lone article is in none


def test_story_items_show_the_stored_story_page_and_never_compare_on_read(
    client: TestClient, auth: dict[str, str], app_reader: ReaderService, apps: AppService
) -> None:
    storage, accounts = app_reader.service.storage, app_reader.accounts

    def bridge() -> str:
        items = contents(client, auth, n=10)["items"]
        return next(i["content"]["content"] for i in items if i["title"] == "Bridge opens")  # type: ignore[no-any-return]

    # No page built yet: headline, summary and links only, and reading it computed no comparison.
    body = bridge()
    assert "Coverage (3)" in body and "agree on" not in body
    assert apps.store.cached_comparisons(["s-one"]) == {}
    # Once the page is built (as ingest does), the item shows the page's comparison, in the page's outlets.
    page = refresh_story_page(storage, accounts, "s-one", now=NOW)
    comparison = {"claims": [
        {"id": 0, "consensus": True, "outlets": [0, 1], "sentences": [{"text": "The bridge opened on Monday."}]},
        {"id": 1, "consensus": False, "outlets": [1], "sentences": [{"text": "It cost two million."}]},
    ], "differences": []}  # fmt: skip
    stored = replace(page, comparison=comparison, compared_outlets=["Alpha", "Beta"])
    storage.save_story_page("s-one", page.version, encode_page(stored), now=NOW)
    body = bridge()
    assert "The bridge opened on Monday. <em>(Alpha, Beta)</em>" in body
    assert "<strong>Beta:</strong> It cost two million." in body and "Coverage (3)" in body
    assert body == bridge()  # the second read comes from memory, the same
    # A change to the story bumps its version: the stale page is not shown (headline and links again).
    storage.touch_story("s-one")
    assert "The bridge opened on Monday." not in bridge()


def test_marking_a_story_read_marks_its_articles_for_the_web_reader(
    client: TestClient, auth: dict[str, str], app_reader: ReaderService, alice: User
) -> None:
    counts = client.get(f"{API}/unread-count", params={"output": "json"}, headers=auth).json()
    assert counts["max"] == 3
    by_id = {c["id"]: c["count"] for c in counts["unreadcounts"]}
    assert by_id[f"feed/{FEED_A}"] == 2 and by_id[f"feed/{FEED_B}"] == 2 and by_id[f"user/{alice.id}/label/News"] == 2
    assert by_id[f"user/{alice.id}/state/com.google/reading-list"] == 3
    bridge = contents(client, auth)["items"][2]["id"]
    assert post(client, auth, "edit-tag", {"i": bridge, "a": READ, "r": "user/-/state/com.google/kept-unread", "ac": "edit"}) == "OK"
    story_ids = {a.id for a in app_reader.service.story_articles("s-one")}
    assert app_reader.accounts.read_ids(alice.id, all_article_ids(app_reader)) == story_ids  # copies too
    view = app_reader.story_view("s-one", alice, with_comparison=False)
    assert all(row.read for row in view.articles)  # the web reader shows them read
    assert [i["title"] for i in contents(client, auth, xt=READ)["items"]] == ["Lone report (Beta)", "Council votes"]
    assert [i["title"] for i in contents(client, auth, READ)["items"]] == ["Bridge opens"]
    assert client.get(f"{API}/unread-count", headers=auth).json()["max"] == 2
    # The short (decimal) id form works the same; starring shows under starred.
    short = str(int(bridge[len(LONG):], 16))
    post(client, auth, "edit-tag", {"i": short, "r": READ, "a": STARRED})
    assert app_reader.accounts.read_ids(alice.id, all_article_ids(app_reader)) == set()
    assert [i["title"] for i in contents(client, auth, STARRED)["items"]] == ["Bridge opens"]
    assert [i["title"] for i in contents(client, auth, it=STARRED)["items"]] == ["Bridge opens"]
    assert [s.article.story_id for s in app_reader.saved(alice)] == ["s-one"]  # the web reader's saved list


def test_ids_then_contents(client: TestClient, auth: dict[str, str]) -> None:
    refs = client.get(f"{API}/stream/items/ids", params={"s": READING_LIST, "n": 2, "output": "json"}, headers=auth).json()
    assert len(refs["itemRefs"]) == 2 and refs["continuation"]
    rest = client.get(f"{API}/stream/items/ids", params={"s": READING_LIST, "n": 2, "c": refs["continuation"]}, headers=auth).json()
    ids = [r["id"] for r in refs["itemRefs"] + rest["itemRefs"]]
    assert len(set(ids)) == 3 and "continuation" not in rest
    long_form = f"{LONG}{int(ids[1]):016x}"
    items = client.post(f"{API}/stream/items/contents", data={"i": [ids[0], long_form, "99999"], "output": "json"},
                        headers=auth).json()["items"]  # fmt: skip
    assert [i["id"] for i in items] == [f"{LONG}{int(ids[0]):016x}", long_form]  # the unknown id is left out


def test_articles_mode_collapses_copies(
    client: TestClient, auth: dict[str, str], apps: AppService, app_reader: ReaderService, alice: User
) -> None:
    apps.set_item_mode(alice, "articles")
    titles = [i["title"] for i in contents(client, auth)["items"]]
    assert titles == ["Lone report (Beta)", "Council votes (Alpha)", "Bridge opens (Beta)", "Bridge opens (Alpha)"]
    assert client.get(f"{API}/unread-count", headers=auth).json()["max"] == 4  # Wire's copy is not an item
    alpha_bridge = contents(client, auth)["items"][3]["id"]
    post(client, auth, "edit-tag", {"i": alpha_bridge, "a": READ})
    read = app_reader.accounts.read_ids(alice.id, all_article_ids(app_reader))
    assert len(read) == 2  # the original and Wire's copy of it
    assert client.get(f"{API}/unread-count", headers=auth).json()["max"] == 3


def test_mark_all_as_read(client: TestClient, auth: dict[str, str], app_reader: ReaderService, alice: User) -> None:
    items = contents(client, auth)["items"]
    cutoff_usec = int(items[1]["timestampUsec"])  # Council votes: it and older are marked
    post(client, auth, "mark-all-as-read", {"s": "user/-/label/News", "ts": cutoff_usec + 1})
    titles = [i["title"] for i in contents(client, auth, xt=READ)["items"]]
    assert titles == ["Lone report (Beta)", "Bridge opens"]  # Beta's copy of the bridge story is unread still
    post(client, auth, "mark-all-as-read", {"s": READING_LIST})
    assert contents(client, auth, xt=READ)["items"] == []
    assert len(app_reader.accounts.read_ids(alice.id, all_article_ids(app_reader))) == 5


def test_atom_streams_carry_read_state(client: TestClient, auth: dict[str, str]) -> None:
    bridge = contents(client, auth)["items"][2]["id"]
    post(client, auth, "edit-tag", {"i": bridge, "a": READ})
    atom = client.get(f"/reader/atom/feed/{FEED_A}", params={"n": 20}, headers=auth)
    assert atom.status_code == 200 and atom.headers["content-type"].startswith("application/atom+xml")
    entries = atom.text.split("<entry>")[1:]
    assert len(entries) == 2 and 'label="fresh"' in entries[0] and 'label="read"' in entries[1]
    assert f"<id>{bridge}</id>" in entries[1]
    assert client.get(f"/reader/atom/feed/{FEED_A}").status_code == 401
