"""The console's route class: the guard, then the language, and every refusal answered as a page.

:class:`ConsoleRoute` is a :class:`~hub.edge.guard.GuardedRoute` (the same rules, gate and CSRF
check as the API), whose problems become HTML for people: no session sends the browser to the
sign-in page (``303``; for htmx, ``HX-Redirect``), other refusals and bad input render the error page
with the problem's status and its fields. Nothing of the JSON problem is lost: the access record
keeps the problem's type as its outcome.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, TypeVar
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from hub.console import i18n
from hub.console.render import SECURITY_HEADERS, page
from hub.edge.guard import Endpoint, GuardedRoute
from hub.edge.problems import Problem, field_errors

LOGIN = "/console/login"


def local_path(target: str | None, default: str = "/console/home") -> str:
    """``target`` if it is a console path of this hub, else ``default``: a ``next=`` can never send a
    person to another site (``//evil.example``, ``/\\evil``, ``https://...``)."""
    if not target or not target.startswith("/console") or target.startswith("//") or "\\" in target:
        return default
    if any(c in target for c in "\r\n\t") or "://" in target:
        return default
    return target


def to_login(request: Request) -> Response:
    """Send the browser to the sign-in page, coming back here afterwards."""
    back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    target = f"{LOGIN}?next={quote(local_path(back), safe='')}"
    if request.headers.get("hx-request"):
        return Response(status_code=401, headers={"HX-Redirect": target, **SECURITY_HEADERS})
    if request.method == "GET":
        return RedirectResponse(target, status_code=303, headers=SECURITY_HEADERS)
    return page(request, "error.html", status=401, title=i18n._("Please sign in"),
                detail=i18n._("Your session has ended. Sign in again, then repeat the action."), login=target,
                slug="unauthenticated")


def problem_page(request: Request, problem: Problem) -> Response:
    """A refused or failed console request as a page (401: the sign-in page)."""
    request.scope.setdefault("state", {}).setdefault("outcome", problem.slug)
    if problem.status == 401 and problem.slug == "unauthenticated":
        return to_login(request)
    titles = {403: i18n._("Not allowed"), 404: i18n._("Not found"), 409: i18n._("Already exists"),
              413: i18n._("Too large"), 429: i18n._("Too many requests")}
    title = titles.get(problem.status, i18n._("The request could not be done"))
    detail = i18n._("This form has expired or did not come from this console. Reload the page and try again.") \
        if problem.slug == "csrf-refused" else problem.detail
    return page(request, "error.html", status=problem.status, headers=problem.headers, title=title, detail=detail,
                errors=problem.errors or [], slug=problem.slug, login=None)


class ConsoleRoute(GuardedRoute):
    """A guarded route whose answers are pages, in the person's language."""

    def get_route_handler(self) -> Endpoint:
        guarded = super().get_route_handler()

        async def console(request: Request) -> Response:
            i18n.use(i18n.language_of(request.cookies.get(i18n.COOKIE)))
            try:
                return await guarded(request)
            except Problem as problem:
                return problem_page(request, problem)
            except RequestValidationError as exc:
                errs = field_errors(exc.errors(), strip_tag=False)
                return problem_page(request, Problem("validation", i18n._("Some fields are not valid."), errs))

        return console


def console_router() -> APIRouter:
    """A router of console pages (not in the OpenAPI document: they are pages, not API)."""
    return APIRouter(route_class=ConsoleRoute, include_in_schema=False)


# --- forms -----------------------------------------------------------------------------------------


def form_of(request: Request) -> dict[str, list[str]]:
    """The URL-encoded form the guard read and checked (CSRF included)."""
    form: dict[str, list[str]] = request.scope["state"]["form"]
    return form


def field(request: Request, name: str, default: str = "", max_length: int = 500) -> str:
    """One field's first value, stripped; a 422 problem naming the field when it is too long."""
    value = (form_of(request).get(name) or [default])[0].strip()
    if len(value) > max_length:
        raise Problem("validation", i18n._("A field is too long."),
                      [{"field": name, "rule": "max_length", "message": f"at most {max_length} characters"}])
    return value


def values(request: Request, name: str) -> list[str]:
    """Every value of a repeated field (checkboxes)."""
    return [v.strip() for v in form_of(request).get(name, []) if v.strip()]


def number_field(request: Request, name: str, *, low: int = 0, high: int = 2**63 - 1, default: int | None = None) -> int | None:
    """An integer field in ``[low, high]`` (None when empty and no default); 422 naming the field."""
    raw = field(request, name)
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise Problem("validation", i18n._("A number is not valid."),
                      [{"field": name, "rule": "integer_range", "message": f"a whole number from {low} to {high}"}])
    return value


def lines(request: Request, name: str) -> list[str]:
    """A textarea of one value per line (an allowlist), empty lines dropped."""
    return [line.strip() for line in field(request, name, max_length=20_000).splitlines() if line.strip()]


def confirmed(request: Request) -> bool:
    """Whether the person confirmed an action that cannot be undone (the confirmation page's button)."""
    return field(request, "confirm") == "yes"


def confirmation(request: Request, question: str, consequence: str, back: str) -> Response:
    """The page asking to confirm an irreversible action: the same form again, with ``confirm=yes``."""
    carried = [(k, v) for k, vs in form_of(request).items() if k not in ("confirm", "csrf_token") for v in vs]
    return page(request, "confirm.html", question=question, consequence=consequence, action=request.url.path,
                carried=carried, back=local_path(back))


def done(target: str, notice: str | None = None) -> Response:
    """After a change, back to a page (POST-redirect-GET), with a notice named by its code in
    :data:`hub.console.notices.NOTICES` (a code, not text: a link cannot make the console say anything)."""
    location = local_path(target)
    if notice:
        location += ("&" if "?" in location else "?") + "notice=" + quote(notice, safe="")
    return RedirectResponse(location, status_code=303, headers=SECURITY_HEADERS)


Handler = Callable[..., Any]
M = TypeVar("M", bound=BaseModel)


def invalid(name: str, rule: str, message: str) -> Problem:
    """A 422 problem about one field (the error page names it)."""
    return Problem("validation", message, [{"field": name, "rule": rule, "message": message}])


def validated(model: type[M], data: dict[str, Any]) -> M:
    """``data`` checked by ``model`` (often the API twin's own); a 422 problem naming each bad field,
    never echoing its value."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise Problem("validation", i18n._("Some fields are not valid."),
                      field_errors(exc.errors(include_url=False, include_input=False), strip_tag=False)) from None


def local_moment(name: str, value: str) -> datetime | None:
    """An ``<input type="datetime-local">`` value read in Vietnam time, as the pages show times (None
    when empty); a 422 problem naming the field when it is not a real moment."""
    if not value:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise invalid(name, "datetime_local", i18n._("Not a real date and time.")) from None
    return at if at.tzinfo else at.replace(tzinfo=i18n.ZONE)


def local_input(value: datetime | str | None) -> str:
    """A stored moment as a ``datetime-local`` input's value, in Vietnam time ('' for None)."""
    if value is None or value == "":
        return ""
    at = (datetime.fromisoformat(value) if isinstance(value, str) else value).astimezone(i18n.ZONE)
    return at.strftime("%Y-%m-%dT%H:%M:%S" if at.second else "%Y-%m-%dT%H:%M")
