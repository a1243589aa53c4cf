"""The guard every route passes before its handler runs: the route's rule, then its body.

In order: the caller (``Gate.authenticate`` under the route's :class:`~hub.edge.rules.Rule`: no
body is read before the caller is known) → the rate limit → the body, read once under its size
limit and media type (``hub/edge/body.py``) → the partner's HTTP message signature, over the body
or, for a call without one, without ``content-digest`` → for ``json`` routes the decoded,
NFC-normalised document, which FastAPI's parameter parsing then reads from the request's cache.

A refused signature (``hub/signatures/verifier.py`` raises it, knowing nothing of HTTP) is noted
here for the access record as ``signature:<rule>``, charged to the client address like a refused
credential, and answered as :func:`signature_problem` says.

:class:`GuardedRoute` is the route class of every router and of the app itself; the fast path
(``hub/edge/fast_path.py``) calls :func:`enter` for its routes. A route without a rule cannot be
built (``rule_for`` raises), and an app whose routes are not all guarded does not start
(:func:`check_routes`).
"""

from __future__ import annotations

from typing import Any, Callable, Coroutine, Iterable

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from hub.access import csrf
from hub.access.principal import Principal
from hub.edge.body import FORM, decode_form, decode_json, read_body
from hub.edge.problems import Problem
from hub.edge.rules import Rule, leaf_routes, route_methods, rule_for
from hub.signatures.verifier import SignatureError, SignatureRefused, SignatureUnverifiable

Endpoint = Callable[[Request], Coroutine[Any, Any, Response]]


async def enter(request: Request, rule: Rule) -> Principal | None:
    """Admit the caller of ``request`` under ``rule`` and read its body as the rule says.

    Returns the admitted principal (None for an anonymous caller). The raw body, once read, is the
    request's cached ``body()``; a ``json`` body is also its cached ``json()``. Raises the refusing
    :class:`Problem`: 401/403/429 for the caller, 413/415/400 for the body, 401 for a signature.
    """
    gate = request.app.state.gate
    caller: Principal | None = await gate.admit(request, rule)
    if rule.body in ("none", "callback"):
        body = b""
    else:
        limit = rule.max_bytes or request.app.state.settings.max_body_bytes
        try:
            # A json route may take no body at all (FastAPI then says which field is missing); raw
            # routes (intake, look-ups) always read, sparing the hot path the header look-ups.
            if rule.body == "form":
                body = await read_body(request, limit, FORM)
            else:
                body = await read_body(request, limit) if rule.body == "raw" or _has_body(request) else b""
        except Problem:
            if caller is not None and rule.charge == "handler":
                await gate.limit(request, caller, rule.route_class)  # bad input is charged too
            raise
        request._body = body  # Starlette's cache: FastAPI and the handler read the same bytes
    if caller is not None and caller.signatures != "off":
        try:
            keyid = await request.app.state.signatures.check(request, caller, body)
        except SignatureError as refusal:
            gate.refuse(request, f"signature:{refusal.rule}", partner=caller.partner_code, key_id=caller.key_id)
            raise await gate.charge_refusal(request, signature_problem(refusal)) from None
        if keyid is not None:
            request.scope.setdefault("state", {})["signature_keyid"] = keyid
    if rule.body == "json" and body:
        request._json = decode_json(body)
    if rule.body == "form":
        form = decode_form(body)
        check_csrf(request, caller, form)
        request.scope.setdefault("state", {})["form"] = form
    return caller


def check_csrf(request: Request, caller: Principal | None, form: dict[str, list[str]]) -> None:
    """A console form must carry its CSRF token (``hub/access/csrf.py``): the session's for a signed-in
    person, the double-submit cookie's before sign-in. Refused: 403 ``csrf-refused``, recorded as ``csrf``."""
    given = (form.get(csrf.FIELD) or [request.headers.get(csrf.HEADER, "")])[0]
    if caller is not None:
        expected = csrf.session_token(request.app.state.settings.effective_key_pepper,
                                      request.scope["state"]["credential_digest"])
    else:
        expected = request.cookies.get(csrf.PRE_SESSION_COOKIE, "")
    if not csrf.matches(expected, given):
        request.app.state.gate.refuse(request, "csrf", partner=caller.partner_code if caller else None,
                                      account=caller.account if caller else None)
        raise Problem("csrf-refused", "this form's CSRF token is missing or wrong: reload the page and send it again")


def signature_problem(refusal: SignatureError) -> Problem:
    """The answer to a signature the verifier did not accept: 401 ``signature-rejected`` naming the
    rule and the header at fault, or 503 ``signature-unverifiable`` with Retry-After."""
    if isinstance(refusal, SignatureUnverifiable):
        return Problem("signature-unverifiable", refusal.message, headers={"Retry-After": str(refusal.retry_after)})
    assert isinstance(refusal, SignatureRefused)
    return Problem("signature-rejected", f"signature refused ({refusal.rule}): {refusal.message}",
                   [{"field": refusal.field, "rule": refusal.rule, "message": refusal.message}])


def _has_body(request: Request) -> bool:
    """Whether the request carries a body at all (an absent body is not a wrong media type)."""
    headers = request.headers
    length = headers.get("content-length")
    return "transfer-encoding" in headers or (length is not None and length.strip() not in ("", "0"))


class GuardedRoute(APIRoute):
    """An APIRoute whose handler first passes :func:`enter` under the route's rule."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        methods = kwargs.get("methods") or ["GET"]
        self.rules = {m.upper(): rule_for(m.upper(), path) for m in methods}  # LookupError: no rule declared
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Endpoint:
        handler = super().get_route_handler()
        rules = self.rules

        async def guarded(request: Request) -> Response:
            await enter(request, rules[request.method if request.method != "HEAD" else "GET"])
            return await handler(request)

        return guarded


def check_routes(routes: Iterable[BaseRoute]) -> None:
    """Refuse an app with a route that has no rule, or a credentialed route not guarded by the gate."""
    for route in leaf_routes(routes):
        for method, path in route_methods(route):
            rule = rule_for(method, path)
            if rule.needs_credential and not isinstance(route, GuardedRoute):
                raise LookupError(f"route {method} {path} needs a credential but is not a guarded route")
