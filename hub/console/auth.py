"""Signing in and out of the console, the language switch, and the console's static files.

Sign-in is the API's (``POST /v1/auth/login``): the same accounts, the same limits on failed
attempts (``hub/access/signin.py``), the same IP restrictions, and an access record for every
attempt and sign-out. The session token goes into an HttpOnly, SameSite=Strict cookie scoped to
``/console`` (Secure behind TLS, always in production); JavaScript never sees it.
"""

from __future__ import annotations

from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response

from hub.access import accounts, csrf
from hub.access.principal import Principal
from hub.access.signin import Refusal
from hub.console import i18n
from hub.console.nav import home_of
from hub.console.render import SECURITY_HEADERS, STATIC, page, secure_cookies
from hub.console.routing import LOGIN, console_router, done, field, local_path
from hub.edge.problems import Problem

router = console_router()
PATH = "/console"

#: What /console/static serves: the files shipped in static/, found once (no path from the URL reaches the disk).
STATIC_FILES: dict[str, Path] = {p.relative_to(STATIC).as_posix(): p for p in STATIC.rglob("*") if p.is_file()}
MEDIA = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".txt": "text/plain; charset=utf-8",
         ".svg": "image/svg+xml", ".png": "image/png"}


@router.get("/console/static/{path:path}")
async def static(path: str) -> Response:
    found = STATIC_FILES.get(path)
    if found is None:
        raise Problem("not-found", f"no console file {path!r}")
    return FileResponse(found, media_type=MEDIA.get(found.suffix, "application/octet-stream"),
                        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"})


@router.get("/console")
async def root(request: Request) -> Response:
    return RedirectResponse("/console/home", status_code=303, headers=SECURITY_HEADERS)


@router.get("/console/home")
async def home(request: Request) -> Response:
    who: Principal = request.scope["state"]["principal"]
    return RedirectResponse(home_of(who.role), status_code=303, headers=SECURITY_HEADERS)


@router.get("/console/lang/{code}")
async def switch_language(request: Request, code: str, next: str | None = None) -> Response:
    """Remember the language (a cookie for a year) and go back to the page."""
    lang = code if code in i18n.LANGUAGES else i18n.DEFAULT
    answer = RedirectResponse(local_path(next), status_code=303, headers=SECURITY_HEADERS)
    answer.set_cookie(i18n.COOKIE, lang, max_age=365 * 86400, path="/console", samesite="strict",
                      secure=secure_cookies(request), httponly=True)
    return answer


def _login_page(request: Request, status: int = 200, error: str | None = None, username: str = "",
                headers: dict[str, str] | None = None) -> Response:
    token = request.cookies.get(csrf.PRE_SESSION_COOKIE) or csrf.new_pre_session_token()
    request.scope.setdefault("state", {})["pre_session_csrf"] = token
    answer = page(request, "login.html", status=status, headers=headers, error=error, username=username,
                  next=local_path(request.query_params.get("next") or field_or(request, "next"), ""))
    answer.set_cookie(csrf.PRE_SESSION_COOKIE, token, path="/console", samesite="strict", httponly=True,
                      secure=secure_cookies(request))
    return answer


def field_or(request: Request, name: str) -> str:
    form: dict[str, list[str]] = request.scope.get("state", {}).get("form") or {}
    return (form.get(name) or [""])[0]


@router.get("/console/login")
async def login_page(request: Request) -> Response:
    return _login_page(request)


@router.post("/console/login")
async def login(request: Request) -> Response:
    """Check the password (the API's sign-in), then set the session cookie and go to the person's home."""
    gate = request.app.state.gate
    settings = request.app.state.settings
    ip, _ = gate.client(request)
    username, password = field(request, "username", max_length=60), field(request, "password", max_length=200)
    state = request.scope.setdefault("state", {})
    state["attempt"], state["summary"] = {"account": username}, "console sign-in"
    if not username or not password:
        state["outcome"] = "login_failed:missing"
        return _login_page(request, 422, i18n._("Enter your username and password."), username)
    agent = request.headers.get("user-agent", "")
    result = await request.app.state.signin.attempt(username, ip, lambda slots: accounts.sign_in(
        request.app.state.engine, username, password, ip, agent, settings.effective_key_pepper,
        gate.people_networks, settings.session_hours, slots=slots))
    if isinstance(result, Refusal):
        state["response_headers"], state["outcome"] = result.headers, f"login_failed:{result.reason}"
        message = i18n._("Too many failed sign-ins. Wait a few minutes and try again.") if result.slug == "sign-in-limited" \
            else i18n._("The hub is busy checking sign-ins. Try again in a moment.")
        return _login_page(request, 429 if result.slug == "sign-in-limited" else 503, message, username, result.headers)
    if isinstance(result, str):
        state["outcome"] = f"login_failed:{result}"
        return _login_page(request, 401, i18n._("Wrong username or password, or not allowed from this address."), username)
    token, session = result
    state["outcome"] = "login"
    target = local_path(field(request, "next"), home_of(session["role"]))
    answer = RedirectResponse(target, status_code=303, headers=SECURITY_HEADERS)
    answer.set_cookie(csrf.SESSION_COOKIE, token, max_age=int(settings.session_hours * 3600), path="/console",
                      samesite="strict", httponly=True, secure=secure_cookies(request))
    answer.delete_cookie(csrf.PRE_SESSION_COOKIE, path="/console")
    return answer


def _signed_out(notice: str) -> Response:
    answer = done(LOGIN, notice)
    answer.delete_cookie(csrf.SESSION_COOKIE, path="/console")
    return answer


@router.post("/console/logout")
async def logout(request: Request) -> Response:
    hashed = request.scope["state"]["credential_digest"]
    await run_in_threadpool(accounts.sign_out, request.app.state.engine, hashed)
    request.app.state.gate.sessions.forget(hashed)
    request.scope["state"].update(outcome="logout", summary="console sign-out")
    return _signed_out("signed-out")


@router.post("/console/logout-everywhere")
async def logout_everywhere(request: Request) -> Response:
    """End every session of this account (other browsers, API tokens): they are refused within a second."""
    hashed = request.scope["state"]["credential_digest"]
    _, ended = await run_in_threadpool(accounts.sign_out_everywhere, request.app.state.engine, hashed)
    for d in ended:
        request.app.state.gate.sessions.forget(d)
    request.scope["state"].update(outcome="logout", summary=f"console sign-out everywhere ({len(ended)} sessions)")
    return _signed_out("signed-out-everywhere")
