"""Setting the API password and the item mode: on the web account page and with ``newsloom api-password``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from newsloom.apps_service import AppService
from newsloom.reader_service import ReaderService
from tests.web.conftest import PASSWORD, make_reader, post, sign_up


@pytest.mark.parametrize("app_reader", ["sqlite"], indirect=True)
def test_account_page_sets_the_api_password_and_mode(client: TestClient, app_reader: ReaderService) -> None:
    sign_up(client, "dora")
    page = client.get("/account").text
    assert "No API password yet" in page and 'value="stories" checked' in page
    assert client.post("/accounts/ClientLogin", data={"Email": "dora", "Passwd": PASSWORD}).status_code == 401
    short = post(client, "/account/api-password", {"password": "short"})
    assert short.status_code == 400 and "at least 8 characters" in short.text
    done = post(client, "/account/api-password", {"password": "dora's app password"})
    assert done.status_code == 200 and "API password set" in done.text
    login = client.post("/accounts/ClientLogin", data={"Email": "dora", "Passwd": "dora's app password"})
    assert login.status_code == 200 and "Auth=" in login.text
    assert "app sign-in (app)" in client.get("/account").text  # listed with the tokens, revocable there
    assert post(client, "/account/app-mode", {"mode": "articles"}).status_code == 303
    user = app_reader.accounts.find_user("dora")
    assert user is not None and AppService(app_reader).item_mode(user) == "articles"
    assert post(client, "/account/app-mode", {"mode": "tweets"}).status_code == 400
    # The form needs the CSRF token like every other form.
    assert client.post("/account/api-password", data={"password": "another password"}).status_code == 403


def test_cli_api_password(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    reader = make_reader(data_dir)
    reader.signup("erin", PASSWORD)
    reader.service.close()
    env = {**os.environ, "NEWSLOOM_DATA_DIR": str(data_dir), "NEWSLOOM_API_PASSWORD": "erin's api password"}
    command = [sys.executable, "-m", "newsloom.cli", "api-password"]
    done = subprocess.run([*command, "erin"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "API password of erin set" in done.stdout
    unknown = subprocess.run([*command, "nobody"], env=env, capture_output=True, text=True, timeout=60)
    assert unknown.returncode != 0 and "no user named 'nobody'" in unknown.stderr and "Traceback" not in unknown.stderr
    weak = subprocess.run([*command, "erin"], env={**env, "NEWSLOOM_API_PASSWORD": "weak"}, capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert weak.returncode != 0 and "at least 8 characters" in weak.stderr
    reader = make_reader(data_dir)
    try:
        apps = AppService(reader)
        assert apps.client_login("erin", "erin's api password", client="test").startswith("nl_")
    finally:
        reader.service.close()
