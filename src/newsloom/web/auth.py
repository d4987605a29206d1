"""Sign-up, sign-in, sign-out, the account page (API tokens, feed URL) and the admin page.

Sessions are random tokens in an HttpOnly, SameSite=Lax cookie (Secure over https); storage keeps only their
hash. Every form here carries the CSRF token (``verify_csrf`` on the router).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from newsloom.accounts import SESSION_LIFETIME
from newsloom.apps_service import AppService
from newsloom.errors import AccessDeniedError, AuthError, InputError, NewsloomError
from newsloom.reader_service import ReaderService
from newsloom.storage.accounts_base import User
from newsloom.web.csrf import verify_csrf
from newsloom.web.render import render

SESSION_COOKIE = "nl_session"

router = APIRouter(dependencies=[Depends(verify_csrf)])


def reader_of(request: Request) -> ReaderService:
    reader: ReaderService = request.app.state.reader
    return reader


def optional_user(request: Request) -> User | None:
    """The signed-in reader (cached on the request), or None."""
    if hasattr(request.state, "user"):
        cached: User | None = request.state.user
        return cached
    user = reader_of(request).session_user(request.cookies.get(SESSION_COOKIE))
    request.state.user = user
    return user


def require_user(request: Request) -> User:
    user = optional_user(request)
    if user is None:
        raise AuthError("sign in to see this page")
    return user


def require_admin(request: Request) -> User:
    return ReaderService.require_admin(require_user(request))


def safe_next(target: str | None) -> str:
    """Redirect only to a path of this site (``//evil.example`` and ``https://...`` are refused)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def redirect(target: str) -> RedirectResponse:
    return RedirectResponse(target, status_code=303)


def signed_in(response: Response, request: Request, session_token: str) -> Response:
    """The session cookie: HttpOnly, SameSite=Lax, Secure when the reader came over https."""
    response.set_cookie(
        SESSION_COOKIE, session_token, max_age=int(SESSION_LIFETIME.total_seconds()), httponly=True,
        samesite="lax", secure=request.url.scheme == "https", path="/",
    )  # fmt: skip
    return response


@router.get("/signin")
def signin_form(request: Request, next: str = "/") -> Response:
    return render(request, "signin.html", {"next": safe_next(next), "error": None, "title": "Sign in"})


@router.post("/signin")
def signin(
    request: Request, username: str = Form(""), password: str = Form(""), next: str = Form("/")
) -> Response:
    reader = reader_of(request)
    try:
        result = reader.signin(username, password, client=client_address(request), user_agent=request.headers.get("user-agent"))
    except AuthError as exc:
        return render(request, "signin.html", {"next": safe_next(next), "error": str(exc), "username": username,
                                               "title": "Sign in"}, status_code=401)  # fmt: skip
    return signed_in(redirect(safe_next(next)), request, result.session_token)


@router.post("/signout")
def signout(request: Request) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        reader_of(request).signout(token)
    response = redirect("/")
    response.delete_cookie(SESSION_COOKIE, path="/")
    # Drop the offline copies of pages this reader saw (the service worker's cache) on a shared device.
    response.headers["Clear-Site-Data"] = '"cache"'
    return response


@router.get("/signup")
def signup_form(request: Request, invite: str = "") -> Response:
    mode = reader_of(request).signup_mode()
    return render(request, "signup.html", {"mode": mode, "invite": invite, "error": None, "title": "Sign up"})


@router.post("/signup")
def signup(
    request: Request, username: str = Form(""), password: str = Form(""), invite: str = Form("")
) -> Response:
    reader = reader_of(request)
    try:
        reader.signup(username, password, invite_code=invite or None)
        result = reader.signin(username, password, client=client_address(request), user_agent=request.headers.get("user-agent"))
    except (InputError, AccessDeniedError) as exc:
        context = {"mode": reader.signup_mode(), "invite": invite, "error": str(exc), "username": username, "title": "Sign up"}
        return render(request, "signup.html", context, status_code=400)
    return signed_in(redirect("/following?welcome=1"), request, result.session_token)


def apps_of(request: Request) -> AppService:
    apps: AppService = request.app.state.apps
    return apps


def _account_page(request: Request, user: User, *, new_token: str | None = None, api_notice: str | None = None,
                  status_code: int = 200) -> Response:  # fmt: skip
    reader, apps = reader_of(request), apps_of(request)
    feed_url = str(request.url_for("for_you_feed", key=reader.feed_key(user)))
    context = {
        "tokens": reader.api_tokens(user), "feed_url": feed_url, "new_token": new_token, "title": "Account",
        "base_url": str(request.base_url).rstrip("/"), "has_api_password": apps.has_api_password(user),
        "item_mode": apps.item_mode(user), "api_notice": api_notice,
    }  # fmt: skip
    return render(request, "account.html", context, status_code=status_code)


@router.get("/account")
def account(request: Request, user: User = Depends(require_user)) -> Response:
    return _account_page(request, user)


@router.post("/account/tokens")
def create_token(request: Request, name: str = Form("token"), user: User = Depends(require_user)) -> Response:
    _, token = reader_of(request).create_api_token(user, name)
    return _account_page(request, user, new_token=token)


@router.post("/account/api-password")
def set_api_password(request: Request, password: str = Form(""), user: User = Depends(require_user)) -> Response:
    try:
        apps_of(request).set_api_password(user, password)
    except InputError as exc:
        return _account_page(request, user, api_notice=str(exc), status_code=400)
    return _account_page(request, user, api_notice="API password set: sign your apps in with it.")


@router.post("/account/app-mode")
def set_app_mode(request: Request, mode: str = Form(""), user: User = Depends(require_user)) -> Response:
    apps_of(request).set_item_mode(user, mode)
    return redirect("/account")


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(request: Request, token_id: int, user: User = Depends(require_user)) -> Response:
    reader_of(request).revoke_api_token(user, token_id)
    return redirect("/account")


@router.post("/account/feed/reset")
def reset_feed(request: Request, user: User = Depends(require_user)) -> Response:
    reader_of(request).reset_feed_key(user)
    return redirect("/account")


# -- admin --------------------------------------------------------------------------------------------------


@router.get("/admin")
def admin(request: Request, user: User = Depends(require_admin)) -> Response:
    reader = reader_of(request)
    return render(request, "admin.html", {"users": reader.users(user), "mode": reader.signup_mode(),
                                          "invites": reader.invites(user), "new_invite": None, "title": "Admin"})  # fmt: skip


@router.post("/admin/signup-mode")
def set_signup_mode(request: Request, mode: str = Form(...), user: User = Depends(require_admin)) -> Response:
    reader_of(request).set_signup_mode(user, mode)
    return redirect("/admin")


@router.post("/admin/invites")
def create_invite(request: Request, user: User = Depends(require_admin)) -> Response:
    reader = reader_of(request)
    _, code = reader.create_invite(user)
    link = str(request.url_for("signup_form").include_query_params(invite=code))
    return render(request, "admin.html", {"users": reader.users(user), "mode": reader.signup_mode(),
                                          "invites": reader.invites(user), "new_invite": link, "title": "Admin"})  # fmt: skip


@router.post("/admin/users/{user_id}")
def change_user(
    request: Request, user_id: int, action: str = Form(...), user: User = Depends(require_admin)
) -> Response:
    reader = reader_of(request)
    actions = {
        "make-admin": lambda: reader.set_user_role(user, user_id, "admin"),
        "make-reader": lambda: reader.set_user_role(user, user_id, "reader"),
        "disable": lambda: reader.set_user_disabled(user, user_id, True),
        "enable": lambda: reader.set_user_disabled(user, user_id, False),
    }
    if action not in actions:
        raise InputError(f"unknown action {action!r}")
    actions[action]()
    return redirect("/admin")


@router.post("/sources/add")
def add_source(request: Request, url: str = Form(...), category: str = Form(""), user: User = Depends(require_admin)) -> Response:
    result = reader_of(request).add_source(user, url, category=category)
    source = result.source
    return redirect(f"/sources?added={source.id}" if source is not None else "/sources")


@router.post("/sources/import")
async def import_opml(request: Request, file: UploadFile, user: User = Depends(require_admin)) -> Response:
    content = await file.read(5_000_000)
    try:
        added, existing = reader_of(request).import_opml(user, content)
    except NewsloomError as exc:
        raise InputError(f"that OPML file could not be read: {exc}") from exc
    return redirect(f"/sources?imported={added}&existing={existing}")


@router.post("/sources/{source_id}/remove")
def remove_source(request: Request, source_id: int, user: User = Depends(require_admin)) -> Response:
    reader_of(request).remove_source(user, source_id)
    return redirect("/sources")
