"""The Google Reader API, as Miniflux and FreshRSS serve it: ``POST /accounts/ClientLogin`` and ``/reader/api/0/``.

Thin: parameters are parsed and checked here, everything else is ``AppService``. Apps sign in with their user
name and API password and then send ``Authorization: GoogleLogin auth=<token>``; POSTs also carry the ``T``
token from ``/reader/api/0/token``. Parameters may come in the query or a form body, as clients differ.

``/reader/atom/<stream>`` serves the same streams as Atom, with Google Reader's state categories: that is how
FeedHQ-mode clients (newsboat's ``urls-source "feedhq"``) read.

Bad input (malformed ids, unknown streams, bad ``n``/``c``/``ot``/``nt``/``xt``/``it``) is a 400 with a
short message, credentials a bare 401; nothing changes on either.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from newsloom.apps_service import CURATED_LABELS, AppService, ItemView, StreamSpec
from newsloom.errors import (
    AccessDeniedError,
    AuthError,
    InputError,
    NewsloomError,
    NotFoundError,
    RateLimitedError,
)
from newsloom.lru import Lru
from newsloom.storage.accounts_base import User
from newsloom.storage.apps_base import StreamQuery, StreamRow, Subscription
from newsloom.web.feeds import ATOM_MEDIA_TYPE, ATOM_NS, xml_text

LONG_ID_PREFIX = "tag:google.com,2005:reader/item/"
STATE = "user/-/state/com.google/"
READING_LIST, READ, STARRED, KEPT_UNREAD = (STATE + s for s in ("reading-list", "read", "starred", "kept-unread"))
# Clients ask for up to 10,000 ids at once (Reeder, FeedMe sync that way); more is refused, not trimmed, so a
# client never silently misses items.
MAX_ITEMS = 10_000
DEFAULT_ITEMS = 20
# Form bodies of edit-tag carry one field per item id.
MAX_FORM_FIELDS = MAX_ITEMS + 100
MAX_DB_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL; larger ones cannot exist
_STATE_RE = re.compile(r"user/(-|\d+)/state/com\.google/([a-z-]+)")
_LABEL_RE = re.compile(r"user/(-|\d+)/label/(.+)", re.S)
_GR_SCHEME = "http://www.google.com/reader/"
# Encoded story items kept in memory: a few full 1,000-item pages.
ITEM_JSON_MEMO = 4096

Params = dict[str, list[str]]


# -- parsing ----------------------------------------------------------------------------------------------------


def parse_item_id(text: str) -> int:
    """An item id in the long (``tag:google.com,2005:reader/item/<hex>``) or short (signed decimal) form."""
    value = text.strip()
    if value.startswith(LONG_ID_PREFIX):
        digits = value[len(LONG_ID_PREFIX) :]
        if not re.fullmatch(r"[0-9a-fA-F]{1,16}", digits):
            raise InputError("malformed item id")
        number = int(digits, 16)
    elif re.fullmatch(r"-?[0-9]{1,20}", value):
        number = int(value)
        if number < 0:  # Google Reader's short ids are the 64-bit id read as a signed number
            number += 2**64
        if number >= 2**64:
            raise InputError("malformed item id")
    else:
        raise InputError("malformed item id")
    return number


def long_id(item_id: int) -> str:
    return f"{LONG_ID_PREFIX}{item_id:016x}"


def _one(params: Params, name: str) -> str | None:
    values = params.get(name)
    return values[-1] if values else None


def _int(params: Params, name: str, *, low: int, high: int) -> int | None:
    raw = _one(params, name)
    if raw is None or raw == "":
        return None
    if not re.fullmatch(r"-?[0-9]{1,19}", raw.strip()):
        raise InputError(f"{name} must be a whole number")
    value = int(raw)
    if not low <= value <= high:
        raise InputError(f"{name} must be between {low} and {high}")
    return value


def _time(params: Params, name: str) -> datetime | None:
    seconds = _int(params, name, low=0, high=2**33)
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def encode_continuation(row: StreamRow) -> str:
    usec = int(row.dated_at.timestamp() * 1_000_000)
    return base64.urlsafe_b64encode(f"{usec}:{row.item_id}".encode()).decode().rstrip("=")


def decode_continuation(text: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("ascii")
        usec, item = raw.split(":")
        if not (usec.isdigit() and item.isdigit()) or len(usec) > 18 or len(item) > 12:
            raise ValueError(raw)
        return datetime.fromtimestamp(int(usec) / 1_000_000, UTC), int(item)
    except (ValueError, binascii.Error, UnicodeDecodeError, OverflowError, OSError) as exc:
        raise InputError("bad continuation") from exc


def parse_stream(apps: AppService, user: User, stream: str) -> StreamSpec:
    """A stream id as a ``StreamSpec``; ``InputError`` for any stream this reader has not got."""
    text = stream.strip()
    state = _STATE_RE.fullmatch(text)
    label = _LABEL_RE.fullmatch(text)
    owner = (state or label).group(1) if (state or label) else "-"  # type: ignore[union-attr]
    if owner not in ("-", str(user.id)):
        raise InputError("unknown stream")
    try:
        if state:
            specs = {"reading-list": StreamSpec(), "read": StreamSpec(read=True), "starred": StreamSpec(starred=True),
                     "kept-unread": StreamSpec(read=False), "fresh": StreamSpec(read=False)}  # fmt: skip
            if state.group(2) in specs:
                return specs[state.group(2)]
        elif label:
            return apps.folder_stream(user, label.group(2))
        elif text.startswith("feed/") and len(text) > 5:
            return apps.feed_stream(user, text[5:])
    except NotFoundError:
        pass
    raise InputError("unknown stream")


def _state_filters(params: Params) -> dict[str, bool]:
    """``xt`` (exclude) and ``it`` (include) as read/starred filters; only state streams are supported."""
    filters: dict[str, bool] = {}
    for name, wanted in (("xt", False), ("it", True)):
        for value in params.get(name, []):
            state = _STATE_RE.fullmatch(value.strip())
            kind = state.group(2) if state else None
            if kind == "read":
                filters["read"] = wanted
            elif kind == "starred":
                filters["starred"] = wanted
            elif kind == "kept-unread":
                filters["read"] = not wanted
            elif kind != "reading-list" or not wanted:
                raise InputError(f"unsupported {name}")
    return filters


def _item_ids(params: Params, name: str = "i") -> list[int]:
    ids = [parse_item_id(v) for v in params.get(name, [])]
    if len(ids) > MAX_ITEMS:
        raise InputError(f"at most {MAX_ITEMS} items at once")
    return [i for i in ids if 0 < i <= MAX_DB_ID]


# -- responses --------------------------------------------------------------------------------------------------


def _usec(when: datetime) -> str:
    return str(int(when.timestamp() * 1_000_000))


def _feed_id(sub: Subscription) -> str:
    return f"feed/{sub.url}"


def item_static(view: ItemView) -> dict[str, Any]:
    """The part of an item that is the same for every reader (cached per ``view.cache_key``)."""
    return {
        "id": long_id(view.id),
        "crawlTimeMsec": str(int(view.crawled.timestamp() * 1000)),
        "timestampUsec": _usec(view.published),
        "published": int(view.published.timestamp()),
        "updated": int(view.updated.timestamp()),
        "title": view.title,
        "author": view.author or "",
        "summary": {"direction": "ltr", "content": view.html},
        "content": {"direction": "ltr", "content": view.html},
        "alternate": [{"href": view.url, "type": "text/html"}] if view.url else [],
        "canonical": [{"href": view.url}] if view.url else [],
    }


def item_state(view: ItemView, user: User) -> dict[str, Any]:
    """The reader's part of an item: its labels, read and starred state, and the subscription it came from."""
    categories = [f"user/{user.id}/state/com.google/reading-list"]
    categories += [f"user/{user.id}/label/{f}" for f in view.folders]
    if view.read:
        categories.append(f"user/{user.id}/state/com.google/read")
    if view.starred:
        categories.append(f"user/{user.id}/state/com.google/starred")
    if view.source is not None:
        origin = {
            "streamId": _feed_id(view.source),
            "title": view.source.title,
            "htmlUrl": view.source.site_url or "",
        }
    else:
        origin = {"streamId": "feed/newsloom", "title": "newsloom", "htmlUrl": ""}
    return {"categories": categories, "origin": origin}


def dumps(value: Any) -> str:
    """Compact JSON, as JSONResponse writes it."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


class ItemEncoder:
    """Items as JSON text: the reader-independent part of a story item is encoded once per story version.

    A 1,000-item page is mostly the items' HTML; encoding it is most of the page's cost once the reads are
    batched, so the encoded text of each story item is kept (keyed by item id, story id and version).
    """

    def __init__(self, size: int = ITEM_JSON_MEMO) -> None:
        self._static: Lru[str] = Lru(size)

    def encode(self, view: ItemView, user: User) -> str:
        static = self._static.get(view.cache_key) if view.cache_key is not None else None
        if static is None:
            static = dumps(item_static(view))[1:-1]
            if view.cache_key is not None:
                self._static.put(view.cache_key, static)
        return "{" + static + "," + dumps(item_state(view, user))[1:]


def _atom_document(views: list[ItemView], title: str, self_url: str) -> bytes:
    ET.register_namespace("", ATOM_NS)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", {k: xml_text(v) for k, v in attrs.items()})
        if text is not None:
            element.text = xml_text(text)
        return element

    def stamp(when: datetime) -> str:
        return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    sub(feed, "id", self_url)
    sub(feed, "title", title)
    sub(feed, "updated", stamp(max((v.updated for v in views), default=datetime(1970, 1, 1, tzinfo=UTC))))
    sub(feed, "link", rel="self", href=self_url)
    for view in views:
        entry = sub(feed, "entry")
        sub(entry, "id", long_id(view.id))
        sub(entry, "title", view.title)
        sub(entry, "published", stamp(view.published))
        sub(entry, "updated", stamp(view.updated))
        if view.url:
            sub(entry, "link", rel="alternate", href=view.url, type="text/html")
        if view.author:
            sub(sub(entry, "author"), "name", view.author)
        # FeedHQ's state labels: newsboat takes read / unread ("fresh") from these on every reload.
        state = "read" if view.read else "fresh"
        sub(entry, "category", term=f"user/-/state/com.google/{state}", scheme=_GR_SCHEME, label=state)
        if view.starred:
            sub(entry, "category", term=STARRED, scheme=_GR_SCHEME, label="starred")
        sub(entry, "content", view.html, type="html")
    body: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return body


# -- the app ----------------------------------------------------------------------------------------------------


def _auth_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "googlelogin" and value.strip().lower().startswith("auth="):
        return value.strip()[5:].strip() or None
    if scheme.lower() == "bearer":
        return value.strip() or None
    return None


async def _params(request: Request) -> Params:
    params: Params = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    if request.method == "POST":
        form: FormData = await request.form(max_fields=MAX_FORM_FIELDS, max_files=0)
        for key, field in form.multi_items():
            if isinstance(field, str):
                params.setdefault(key, []).append(field)
    return params


def create_greader(apps: AppService) -> tuple[FastAPI, Callable[[Request], Any]]:
    """The app mounted at ``/reader`` and the ClientLogin endpoint (routed at ``/accounts/ClientLogin``)."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    encoder = ItemEncoder()

    async def call(request: Request, handler: Callable[[User, Params, str], Response], *, post: bool) -> Response:
        if post and request.method != "POST":
            return PlainTextResponse("use POST", status_code=405)
        token = _auth_token(request)
        params = await _params(request)

        def run() -> Response:
            user = apps.token_user(token)
            assert token is not None
            if post:
                apps.check_action_token(user, token, _one(params, "T"))
            return handler(user, params, token)

        return await run_in_threadpool(run)

    def route(path: str, *, post: bool = False) -> Callable[[Callable[[User, Params, str], Response]], None]:
        def register(handler: Callable[[User, Params, str], Response]) -> None:
            async def endpoint(request: Request) -> Response:
                return await call(request, handler, post=post)

            app.add_api_route(path, endpoint, methods=["GET", "POST"], include_in_schema=False)

        return register

    def page(user: User, params: Params, stream: str) -> tuple[list[StreamRow], str | None, StreamQuery]:
        spec = parse_stream(apps, user, stream)
        n = _int(params, "n", low=1, high=MAX_ITEMS) or DEFAULT_ITEMS
        cont = _one(params, "c")
        query = apps.query(
            user, spec, mode=apps.item_mode(user), since=_time(params, "ot"), until=_time(params, "nt"),
            order="oldest" if _one(params, "r") == "o" else "newest",
            after=decode_continuation(cont) if cont else None, limit=n + 1, **_state_filters(params),
        )  # fmt: skip
        rows = apps.stream(user, query)
        more = len(rows) > n
        rows = rows[:n]
        return rows, encode_continuation(rows[-1]) if more and rows else None, query

    def contents_json(user: User, stream_id: str, views: list[ItemView], continuation: str | None) -> Response:
        head: dict[str, Any] = {
            "direction": "ltr", "id": stream_id, "title": stream_id, "author": user.username,
            "updated": int(apps.now().timestamp()),
        }  # fmt: skip
        if continuation:
            head["continuation"] = continuation
        items = ",".join(encoder.encode(v, user) for v in views)
        body = dumps(head)[:-1] + ',"items":[' + items + "]}"
        return Response(body.encode(), media_type="application/json")

    @route("/api/0/token")
    def token(user: User, params: Params, auth: str) -> Response:
        return PlainTextResponse(apps.action_token(user, auth))

    @route("/api/0/user-info")
    def user_info(user: User, params: Params, auth: str) -> Response:
        return JSONResponse({"userId": str(user.id), "userName": user.username, "userProfileId": str(user.id),
                             "userEmail": "", "isBloggerUser": False, "signupTimeSec": int(user.created_at.timestamp())})  # fmt: skip

    @route("/api/0/subscription/list")
    def subscription_list(user: User, params: Params, auth: str) -> Response:
        subs = [
            {"id": _feed_id(s), "title": s.title, "url": s.url, "htmlUrl": s.site_url or "", "iconUrl": "",
             "firstitemmsec": str(int(s.created_at.timestamp() * 1000)), "sortid": f"{s.source_id:08X}",
             "categories": [{"id": f"user/{user.id}/label/{s.folder}", "label": s.folder}] if s.folder else []}
            for s in apps.subscriptions(user)
        ]  # fmt: skip
        return JSONResponse({"subscriptions": subs})

    @route("/api/0/subscription/quickadd", post=True)
    def quickadd(user: User, params: Params, auth: str) -> Response:
        url = _one(params, "quickadd") or _one(params, "s") or ""
        sub = apps.quickadd(user, url)
        return JSONResponse({"numResults": 1, "query": url, "streamId": _feed_id(sub), "streamName": sub.title})

    @route("/api/0/subscription/edit", post=True)
    def subscription_edit(user: User, params: Params, auth: str) -> Response:
        action = _one(params, "ac") or "edit"
        streams = params.get("s", [])
        if not streams:
            raise InputError("no stream (s) given")
        refs = []
        for stream in streams:
            if not stream.startswith("feed/") or len(stream) <= 5:
                raise InputError("unknown stream")
            refs.append(stream[5:])
        add, remove = _one(params, "a"), _one(params, "r")
        if action == "subscribe":
            for ref in refs:
                apps.quickadd(user, ref, title=_one(params, "t"), folder=_label(add))
        elif action == "unsubscribe":
            for ref in refs:
                apps.unsubscribe(user, ref)
        elif action == "edit":
            for ref in refs:
                apps.edit_subscription(user, ref, title=_one(params, "t"), add_folder=_label(add), remove_folder=_label(remove))
        else:
            raise InputError("ac is subscribe, unsubscribe or edit")
        return PlainTextResponse("OK")

    @route("/api/0/tag/list")
    def tag_list(user: User, params: Params, auth: str) -> Response:
        tags: list[dict[str, str]] = [{"id": f"user/{user.id}/state/com.google/starred"}]
        tags += [{"id": f"user/{user.id}/label/{name}", "type": "tag"} for name in CURATED_LABELS]
        tags += [{"id": f"user/{user.id}/label/{name}", "type": "folder"} for name in apps.folders(user)]
        return JSONResponse({"tags": tags})

    @route("/api/0/rename-tag", post=True)
    def rename_tag(user: User, params: Params, auth: str) -> Response:
        old, new = _label(_one(params, "s") or _one(params, "t")), _label(_one(params, "dest"))
        if not old or not new:
            raise InputError("rename-tag needs s (the label) and dest")
        try:
            apps.rename_folder(user, old, new)
        except NotFoundError as exc:
            raise InputError("unknown stream") from exc
        return PlainTextResponse("OK")

    @route("/api/0/disable-tag", post=True)
    def disable_tag(user: User, params: Params, auth: str) -> Response:
        label = _label(_one(params, "s") or _one(params, "t"))
        if not label:
            raise InputError("disable-tag needs s (the label)")
        try:
            apps.remove_folder(user, label)
        except NotFoundError as exc:
            raise InputError("unknown stream") from exc
        return PlainTextResponse("OK")

    @route("/api/0/unread-count")
    def unread_count(user: User, params: Params, auth: str) -> Response:
        per_source, total = apps.unread_counts(user)
        subs = apps.subscriptions(user)
        counts = []
        folders: dict[str, int] = {}
        newest_all = None
        for sub in subs:
            count, newest = per_source.get(sub.source_id, (0, None))
            if count:
                counts.append({"id": _feed_id(sub), "count": count, "newestItemTimestampUsec": _usec(newest) if newest else "0"})
                if sub.folder:
                    folders[sub.folder] = folders.get(sub.folder, 0) + count
                newest_all = newest if newest_all is None or (newest and newest > newest_all) else newest_all
        counts += [{"id": f"user/{user.id}/label/{name}", "count": n, "newestItemTimestampUsec": "0"} for name, n in folders.items()]
        counts.append({"id": f"user/{user.id}/state/com.google/reading-list", "count": total,
                       "newestItemTimestampUsec": _usec(newest_all) if newest_all else "0"})  # fmt: skip
        return JSONResponse({"max": total, "unreadcounts": counts})

    def stream_contents_handler(stream: str) -> Callable[[User, Params, str], Response]:
        def handler(user: User, params: Params, auth: str) -> Response:
            rows, continuation, query = page(user, params, stream)
            return contents_json(user, stream, apps.items(user, [r.item_id for r in rows], query.mode), continuation)

        return handler

    @app.api_route("/api/0/stream/contents/{stream:path}", methods=["GET", "POST"], include_in_schema=False)
    async def stream_contents(request: Request, stream: str) -> Response:
        return await call(request, stream_contents_handler(stream), post=False)

    @app.api_route("/api/0/stream/contents", methods=["GET", "POST"], include_in_schema=False)
    async def stream_contents_default(request: Request) -> Response:
        stream = request.query_params.get("s") or READING_LIST
        return await call(request, stream_contents_handler(stream), post=False)

    @route("/api/0/stream/items/ids")
    def stream_item_ids(user: User, params: Params, auth: str) -> Response:
        rows, continuation, _ = page(user, params, _one(params, "s") or READING_LIST)
        body: dict[str, Any] = {"itemRefs": [{"id": str(r.item_id), "directStreamIds": [], "timestampUsec": _usec(r.dated_at)}
                                             for r in rows]}  # fmt: skip
        if continuation:
            body["continuation"] = continuation
        return JSONResponse(body)

    @route("/api/0/stream/items/contents")
    def stream_item_contents(user: User, params: Params, auth: str) -> Response:
        ids = _item_ids(params)
        if not ids and not params.get("i"):
            raise InputError("no item ids (i) given")
        return contents_json(user, READING_LIST, apps.items(user, ids), None)

    @route("/api/0/edit-tag", post=True)
    def edit_tag(user: User, params: Params, auth: str) -> Response:
        ids = _item_ids(params)
        if not params.get("i"):
            raise InputError("no item ids (i) given")
        changes: dict[str, bool] = {}
        for name, on in (("a", True), ("r", False)):
            for tag in params.get(name, []):
                state = _STATE_RE.fullmatch(tag.strip())
                kind = state.group(2) if state else None
                if kind == "read":
                    changes["read"] = on
                elif kind == "starred":
                    changes["starred"] = on
                elif kind == "kept-unread":
                    changes.setdefault("read", not on)
                elif kind in ("tracking-kept-unread", "broadcast", "like", "fresh"):
                    continue
                else:
                    raise InputError("unsupported tag")
        if changes:
            apps.set_state(user, ids, **changes)
        return PlainTextResponse("OK")

    @route("/api/0/mark-all-as-read", post=True)
    def mark_all_as_read(user: User, params: Params, auth: str) -> Response:
        spec = parse_stream(apps, user, _one(params, "s") or READING_LIST)
        usec = _int(params, "ts", low=0, high=2**62)
        before = datetime.fromtimestamp(usec / 1_000_000, UTC) if usec else None
        apps.mark_all_read(user, spec, before=before)
        return PlainTextResponse("OK")

    @app.api_route("/atom/{stream:path}", methods=["GET"], include_in_schema=False)
    async def atom(request: Request, stream: str) -> Response:
        def handler(user: User, params: Params, auth: str) -> Response:
            rows, _, query = page(user, params, stream)
            views = apps.items(user, [r.item_id for r in rows], query.mode)
            return Response(_atom_document(views, stream, str(request.url)), media_type=ATOM_MEDIA_TYPE)

        return await call(request, handler, post=False)

    install_errors(app)

    async def client_login(request: Request) -> Response:
        params = await _params(request)
        email, password = _one(params, "Email") or "", _one(params, "Passwd") or ""
        client = request.client.host if request.client else "unknown"
        try:
            token = await run_in_threadpool(apps.client_login, email, password, client=client, app=_one(params, "source"))
        except (AuthError, RateLimitedError) as exc:
            return _error_response(exc)
        return PlainTextResponse(f"SID={token}\nLSID={token}\nAuth={token}\n")

    return app, client_login


def _label(value: str | None) -> str | None:
    if value is None:
        return None
    match = _LABEL_RE.fullmatch(value.strip())
    return match.group(2) if match else (value.strip() or None)


def _error_response(exc: Exception) -> Response:
    if isinstance(exc, AuthError):
        return PlainTextResponse("Unauthorized", status_code=401, headers={"WWW-Authenticate": "GoogleLogin"})
    if isinstance(exc, RateLimitedError):
        return PlainTextResponse("Too many tries", status_code=429, headers={"Retry-After": str(exc.retry_after_s)})
    if isinstance(exc, AccessDeniedError):
        return PlainTextResponse(str(exc), status_code=403)
    if isinstance(exc, (InputError, NotFoundError)):  # an unknown feed, item or folder is the app's mistake
        return PlainTextResponse(str(exc), status_code=400)
    return PlainTextResponse("server error", status_code=502)


def install_errors(app: FastAPI) -> None:
    """Short plain-text errors (apps show them as they are); validation problems are 400, never 422 or 500."""

    async def handle(request: Request, exc: Exception) -> Response:
        return _error_response(exc)

    async def invalid(request: Request, exc: Exception) -> Response:
        return PlainTextResponse("bad request", status_code=400)

    app.add_exception_handler(NewsloomError, handle)
    app.add_exception_handler(RequestValidationError, invalid)
