"""Rendering the console's pages: one Jinja2 environment, the layout's context, the security headers.

:func:`page` renders a template inside the layout (``templates/base.html``) with what every page
needs: the person, their menu, the CSRF token of their session, the language. Pages are never
cached and never framed; the Content-Security-Policy allows scripts, styles and connections to the
hub itself only (nothing is fetched from outside).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from hub.access import csrf
from hub.access.principal import Principal
from hub.console import i18n
from hub.console.nav import ROLE_LABELS, SECTIONS, menu_for
from hub.console.notices import NOTICES

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(moment=i18n.moment, day=i18n.day, number=i18n.number)
    env.globals.update(SECTIONS=SECTIONS, ROLE_LABELS=ROLE_LABELS, N_=i18n.N_, urlencode=urlencode)
    return env


ENV = _environment()


def person(request: Request) -> Principal | None:
    """The signed-in person of a console request (None on a public page)."""
    found: Principal | None = request.scope.get("state", {}).get("principal")
    return found


def csrf_token(request: Request) -> str:
    """The token this request's forms carry: the session's, or the pre-session cookie's value."""
    state = request.scope.get("state", {})
    digest = state.get("credential_digest")
    if digest and state.get("principal") is not None:
        return csrf.session_token(request.app.state.settings.effective_key_pepper, digest)
    token: str = state.get("pre_session_csrf") or request.cookies.get(csrf.PRE_SESSION_COOKIE, "")
    return token


def render(request: Request, template: str, **context: Any) -> str:
    """``template`` rendered for ``request``'s person and language."""
    who = person(request)
    lang = i18n.current()
    full = {
        "request": request, "who": who, "menu": menu_for(who.role if who else None), "csrf": csrf_token(request),
        "lang": lang, "other_lang": "en" if lang == "vi" else "vi", "path": request.url.path,
        "query": request.url.query, "here": quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""), safe=""),
        "notice": NOTICES.get(request.query_params.get("notice", "")), **context,
    }
    return ENV.get_template(template).render(full)


def page(request: Request, template: str, status: int = 200, headers: dict[str, str] | None = None,
         **context: Any) -> Response:
    """An HTML response of ``template`` with the console's security headers."""
    return HTMLResponse(render(request, template, **context), status_code=status,
                        headers={**SECURITY_HEADERS, **(headers or {})})


def fragment(request: Request, template: str, **context: Any) -> Response:
    """A piece of a page (what htmx swaps in), with the same headers."""
    return page(request, template, **context)


def secure_cookies(request: Request) -> bool:
    """Whether cookies must be ``Secure``: always in production, and whenever the browser came over TLS
    (directly, or through a trusted proxy that said so)."""
    if request.app.state.settings.profile == "production":
        return True
    origin = request.scope.get("state", {}).get("origin")
    scheme = getattr(origin, "scheme", None) or request.url.scheme
    return scheme == "https"
