"""Accounts through the ASGI client: sign-up, sign-in, sign-out, CSRF, rate limiting, roles, invites, privacy."""

from __future__ import annotations

from fastapi.testclient import TestClient

from newsloom.reader_service import ReaderService
from newsloom.web.app import create_app
from tests.web.conftest import PASSWORD, csrf, make_admin, post, sign_up


def test_sign_up_sign_out_sign_in(client: TestClient) -> None:
    sign_up(client, "alice")
    assert "alice" in client.get("/").text
    assert client.get("/").headers.get_list("set-cookie") == []  # no new cookie once the browser has them
    assert post(client, "/signout").status_code == 303
    assert "nl_session" not in client.cookies
    assert client.get("/saved", follow_redirects=False).headers["location"] == "/signin?next=/saved"
    response = post(client, "/signin", {"username": "Alice", "password": PASSWORD, "next": "/saved"})
    assert response.status_code == 303 and response.headers["location"] == "/saved"
    session = response.headers["set-cookie"]
    assert "nl_session=" in session and "HttpOnly" in session and "samesite=lax" in session.lower()
    assert "Secure" not in session  # plain http in tests; https sets Secure


def test_session_cookie_is_secure_over_https(stocked: ReaderService) -> None:
    with TestClient(create_app(stocked), base_url="https://reader.example") as c:
        sign_up(c, "bob")
        response = post(c, "/signin", {"username": "bob", "password": PASSWORD})
        assert "Secure" in response.headers["set-cookie"]


def test_passwords_are_argon2_hashed(client: TestClient, stocked: ReaderService) -> None:
    sign_up(client, "carol")
    user = stocked.accounts.find_user("carol")
    assert user is not None and user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_wrong_password_and_rate_limit(client: TestClient) -> None:
    sign_up(client, "dave")
    post(client, "/signout")
    for _ in range(5):
        response = post(client, "/signin", {"username": "dave", "password": "wrong password"})
        assert response.status_code == 401
        assert "wrong username or password" in response.text
    blocked = post(client, "/signin", {"username": "dave", "password": PASSWORD})
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0


def test_forms_need_the_csrf_token(client: TestClient) -> None:
    csrf(client)
    response = client.post("/signup", data={"username": "eve", "password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 403
    forged = client.post("/signup", data={"username": "eve", "password": PASSWORD, "csrf_token": "x" * 43})
    assert forged.status_code == 403
    cross_site = client.post(
        "/signup", data={"username": "eve", "password": PASSWORD, "csrf_token": csrf(client)},
        headers={"Origin": "https://evil.example"},
    )
    assert cross_site.status_code == 403


def test_htmx_requests_send_the_token_in_a_header(client: TestClient, stocked: ReaderService) -> None:
    sign_up(client, "frank")
    article_id = stocked.service.story_articles("s-big")[0].id
    response = client.post(f"/save/{article_id}", headers={"HX-Request": "true", "X-CSRF-Token": csrf(client)})
    assert response.status_code == 200
    assert "Saved ✓" in response.text
    refused = client.post(f"/unsave/{article_id}", headers={"HX-Request": "true"})
    assert refused.status_code == 403


def test_invite_only_sign_up(client: TestClient, stocked: ReaderService) -> None:
    make_admin(stocked, client)
    assert post(client, "/admin/signup-mode", {"mode": "invite"}).status_code == 303
    page = post(client, "/admin/invites")
    code = page.text.split("invite=")[1].split("<")[0].split('"')[0]
    post(client, "/signout")
    refused = post(client, "/signup", {"username": "gina", "password": PASSWORD})
    assert refused.status_code == 400 and "invitation" in refused.text
    accepted = post(client, "/signup", {"username": "gina", "password": PASSWORD, "invite": code})
    assert accepted.status_code == 303
    post(client, "/signout")
    reused = post(client, "/signup", {"username": "hank", "password": PASSWORD, "invite": code})
    assert reused.status_code == 400


def test_admin_pages_refuse_readers(client: TestClient) -> None:
    sign_up(client, "ivan")
    assert client.get("/admin").status_code == 403
    assert post(client, "/sources/add", {"url": "https://example.com/feed"}).status_code == 403
    assert post(client, "/picks", {"story_id": "s-big"}).status_code == 403


def test_admin_picks_a_story(client: TestClient, stocked: ReaderService) -> None:
    make_admin(stocked, client)
    assert post(client, "/picks", {"story_id": "s-small", "note": "Worth a look"}).status_code == 303
    page = client.get("/picks").text
    assert "Local council votes" in page and "Worth a look" in page
    post(client, "/picks", {"story_id": "s-small", "remove": "1"})
    assert "Local council votes" not in client.get("/picks").text


def test_a_reader_never_sees_another_readers_state(stocked: ReaderService) -> None:
    app = create_app(stocked)
    article_id = stocked.service.story_articles("s-big")[0].id
    with TestClient(app) as alice, TestClient(app) as bob:
        sign_up(alice, "alice")
        post(alice, f"/save/{article_id}")
        post(alice, "/follow", {"kind": "entity", "value": "Valencia"})
        alice.get(f"/article/{article_id}")
        sign_up(bob, "bob")
        for page in ("/saved", "/following", "/history", "/for-you"):
            html = bob.get(page).text
            assert "Floods hit Valencia (" not in html, page
            assert "you follow Valencia" not in html, page
        assert "Floods hit Valencia (" in alice.get("/saved").text


def test_disabled_user_is_signed_out(client: TestClient, stocked: ReaderService) -> None:
    app = create_app(stocked)
    with TestClient(app) as reader_client:
        sign_up(reader_client, "judy")
        make_admin(stocked, client)
        judy = stocked.accounts.find_user("judy")
        assert judy is not None
        assert post(client, f"/admin/users/{judy.id}", {"action": "disable"}).status_code == 303
        assert reader_client.get("/saved", follow_redirects=False).status_code == 303
