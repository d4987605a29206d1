"""The Fever API at ``/fever/`` (the published Fever API document, version 3), for apps such as Reeder, Fiery
Feeds, ReadKit and Unread. Thin: parameters in, ``AppService`` calls, the document's JSON shapes out.

Every request carries ``api_key`` = md5 of ``username:apipassword``. Groups are the reader's folders; feeds
the reader's subscriptions; items are stories or articles as the reader chose (see ``apps_service``); Fever's
*Hot links* are newsloom's top stories. A wrong or missing key gets 401 with ``{"api_version": 3, "auth": 0}``
and nothing else; bad parameters a 400 with a short message; neither changes anything.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from newsloom.apps_service import AppService, StreamSpec
from newsloom.errors import InputError, NewsloomError
from newsloom.storage.accounts_base import User
from newsloom.storage.apps_base import Subscription

API_VERSION = 3
PAGE = 50  # the document: items come 50 at a time, and with_ids takes at most 50
ALL_IDS_LIMIT = 100_000  # unread_item_ids / saved_item_ids list every one; this bounds a pathological reader
MAX_DB_ID = 2**31 - 1
# One transparent 1x1 GIF serves as every feed's favicon (newsloom keeps no icons).
FAVICON = "image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"
_ID_LIST = re.compile(r"[0-9]{1,10}(,[0-9]{1,10})*")

Params = dict[str, str]


def group_id(folder: str) -> int:
    """A stable group id for a folder name (Fever ids are numbers; folders have only names)."""
    return zlib.crc32(folder.encode("utf-8")) % 1_000_000_000 + 1


def _id(params: Params, name: str, *, required: bool = False) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        if required:
            raise InputError(f"{name} is missing")
        return None
    if not raw.isdigit() or len(raw) > 10:
        raise InputError(f"{name} must be a whole number")
    return int(raw)


def _ids(raw: str) -> list[int]:
    if not _ID_LIST.fullmatch(raw):
        raise InputError("with_ids is a comma-separated list of ids")
    ids = [int(i) for i in raw.split(",")]
    if len(ids) > PAGE:
        raise InputError(f"with_ids takes at most {PAGE} ids")
    return [i for i in ids if 0 < i <= MAX_DB_ID]


def _seconds(when: datetime | None) -> int:
    return int(when.timestamp()) if when else 0


def _joined(ids: list[int]) -> str:
    return ",".join(str(i) for i in ids)


class FeverApi:
    """Request handling over one ``AppService``: ``respond`` answers one authenticated request."""

    def __init__(self, apps: AppService) -> None:
        self.apps = apps

    def _feeds_groups(self, subs: list[Subscription]) -> list[dict[str, Any]]:
        by_folder: dict[str, list[int]] = {}
        for sub in subs:
            if sub.folder:
                by_folder.setdefault(sub.folder, []).append(sub.source_id)
        return [{"group_id": group_id(f), "feed_ids": _joined(ids)} for f, ids in sorted(by_folder.items())]

    def _ids_of(self, user: User, **filters: bool) -> list[int]:
        query = self.apps.query(user, StreamSpec(), order="id_asc", limit=ALL_IDS_LIMIT, **filters)
        return [r.item_id for r in self.apps.stream(user, query)]

    def respond(self, user: User, params: Params) -> dict[str, Any]:
        out: dict[str, Any] = {"api_version": API_VERSION, "auth": 1, "last_refreshed_on_time": self._refreshed()}
        if "mark" in params:
            out.update(self._mark(user, params))
        subs: list[Subscription] | None = None
        if "groups" in params or "feeds" in params:
            subs = self.apps.subscriptions(user)
            out["feeds_groups"] = self._feeds_groups(subs)
        if "groups" in params:
            assert subs is not None
            folders = sorted({s.folder for s in subs if s.folder})
            out["groups"] = [{"id": group_id(f), "title": f} for f in folders]
        if "feeds" in params:
            assert subs is not None
            out["feeds"] = [
                {"id": s.source_id, "favicon_id": 1, "title": s.title, "url": s.url, "site_url": s.site_url or "",
                 "is_spark": 0, "last_updated_on_time": _seconds(s.created_at)}
                for s in subs
            ]  # fmt: skip
        if "favicons" in params:
            out["favicons"] = [{"id": 1, "data": FAVICON}]
        if "items" in params:
            out.update(self._items(user, params))
        if "links" in params:
            out["links"] = self._links(user)
        if "unread_item_ids" in params:
            out["unread_item_ids"] = _joined(self._ids_of(user, read=False))
        if "saved_item_ids" in params:
            out["saved_item_ids"] = _joined(self._ids_of(user, starred=True))
        return out

    def _refreshed(self) -> int:
        polled = [s.last_success_at for s in self.apps.reader.service.sources() if s.last_success_at]
        return _seconds(max(polled)) if polled else 0

    def _items(self, user: User, params: Params) -> dict[str, Any]:
        since, before = _id(params, "since_id"), _id(params, "max_id")
        with_ids = params.get("with_ids")
        mode = self.apps.item_mode(user)
        if with_ids is not None:
            query = self.apps.query(user, StreamSpec(), item_ids=tuple(_ids(with_ids)), order="id_asc", limit=PAGE, mode=mode)
        elif before is not None:
            query = self.apps.query(user, StreamSpec(), max_id=before, order="id_desc", limit=PAGE, mode=mode)
        else:
            query = self.apps.query(user, StreamSpec(), min_id=since or 0, order="id_asc", limit=PAGE, mode=mode)
        rows = self.apps.stream(user, query)
        views = self.apps.items(user, [r.item_id for r in rows], mode)
        items = [
            {"id": v.id, "feed_id": v.source.source_id if v.source else 0, "title": v.title, "author": v.author or "",
             "html": v.html, "url": v.url or "", "is_saved": int(v.starred), "is_read": int(v.read),
             "created_on_time": _seconds(v.published)}
            for v in views
        ]  # fmt: skip
        return {"items": items, "total_items": self.apps.total_items(user)}

    def _links(self, user: User) -> list[dict[str, Any]]:
        """Fever's Hot links: newsloom's top stories, hottest first, each pointing at the story's item."""
        ranked = self.apps.reader.top_stories(limit=PAGE)
        links = []
        coverage = self.apps.reader.accounts.coverage([r.story.id for r in ranked])
        for position, r in enumerate(ranked):
            briefs = coverage.get(r.story.id, [])
            if not briefs:
                continue
            head = min(b.id for b in briefs)
            links.append({
                "id": head, "feed_id": briefs[0].source_ids[0] if briefs[0].source_ids else 0, "item_id": head,
                "temperature": round(100.0 * (len(ranked) - position) / len(ranked), 1), "is_item": 1, "is_local": 1,
                "is_saved": 0, "title": r.story.headline, "url": briefs[0].url or "", "item_ids": _joined([b.id for b in briefs]),
            })  # fmt: skip
        return links

    def _mark(self, user: User, params: Params) -> dict[str, Any]:
        target, action = params.get("mark"), params.get("as")
        target_id = _id(params, "id", required=True)
        assert target_id is not None
        if target == "item":
            changes = {"read": {"read": True}, "unread": {"read": False}, "saved": {"starred": True},
                       "unsaved": {"starred": False}}.get(action or "")  # fmt: skip
            if changes is None:
                raise InputError("as is read, unread, saved or unsaved")
            if target_id > MAX_DB_ID or target_id not in self.apps.store.item_articles([target_id]):
                raise InputError("no such item")
            self.apps.set_state(user, [target_id], **changes)
            key = "unread_item_ids" if "read" in changes else "saved_item_ids"
            return {key: _joined(self._ids_of(user, **({"read": False} if "read" in changes else {"starred": True})))}
        if target not in ("feed", "group"):
            raise InputError("mark is item, feed or group")
        if action != "read":
            raise InputError("feeds and groups can only be marked read")
        before_s = _id(params, "before")
        before = datetime.fromtimestamp(before_s, UTC) if before_s is not None else None
        spec = self._feed_spec(user, target_id) if target == "feed" else self._group_spec(user, target_id)
        self.apps.mark_all_read(user, spec, before=before)
        return {"unread_item_ids": _joined(self._ids_of(user, read=False))}

    def _feed_spec(self, user: User, feed_id: int) -> StreamSpec:
        if not any(s.source_id == feed_id for s in self.apps.subscriptions(user)):
            raise InputError("no such feed")
        return StreamSpec(source_ids=(feed_id,))

    def _group_spec(self, user: User, gid: int) -> StreamSpec:
        if gid == 0:  # the document's group 0, "Kindling": every feed
            return StreamSpec()
        subs = self.apps.subscriptions(user)
        ids = tuple(s.source_id for s in subs if s.folder and group_id(s.folder) == gid)
        if not ids:
            raise InputError("no such group")
        return StreamSpec(source_ids=ids)


def create_fever(apps: AppService) -> tuple[FastAPI, Callable[[Request], Awaitable[Response]]]:
    """The app mounted at ``/fever`` and its endpoint, also routed at ``/fever`` itself (apps differ on the slash)."""
    api = FeverApi(apps)
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    denied = {"api_version": API_VERSION, "auth": 0}

    async def endpoint(request: Request) -> Response:
        params: Params = dict(request.query_params)
        if request.method == "POST":
            form = await request.form(max_fields=200, max_files=0)
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
        if "api" not in params:
            return JSONResponse({"detail": "this is the Fever API: add ?api"}, status_code=400)
        client = request.client.host if request.client else "unknown"

        def run() -> Response:
            user = apps.fever_user(params.get("api_key"), client=client)
            if user is None:
                return JSONResponse(denied, status_code=401)
            try:
                return JSONResponse(api.respond(user, params))
            except InputError as exc:
                return JSONResponse({"api_version": API_VERSION, "auth": 1, "error": str(exc)}, status_code=400)
            except NewsloomError:
                return JSONResponse({"api_version": API_VERSION, "auth": 1, "error": "server error"}, status_code=502)

        return await run_in_threadpool(run)

    app.add_api_route("/", endpoint, methods=["GET", "POST"], include_in_schema=False)
    return app, endpoint
