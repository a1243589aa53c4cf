"""RFC 9457 problem details: every error the API gives is ``application/problem+json``.

Each problem has a stable ``type`` (a relative URI under ``/problems/``, documented there), a
human ``title`` and ``detail``, and for bad input an ``errors`` list naming each field and the rule it
broke, e.g. ``{"field": "payload.status", "rule": "less_than_equal", "message": "..."}``.
"""

from __future__ import annotations

import logging
from typing import Any, Iterable, Mapping

import orjson
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from hub.plugins import problem_types

log = logging.getLogger(__name__)
MEDIA_TYPE = "application/problem+json"

#: type slug -> (status, title). The /problems/{slug} page explains each. The hub's own, then each
#: partner's (its manifest's ``problems``), added when the module loads.
PROBLEM_TYPES: dict[str, tuple[int, str]] = {
    "malformed-json": (400, "The body is not valid JSON"),
    "bad-request": (400, "The request could not be read"),
    "unauthenticated": (401, "A valid API key or session token is required"),
    "signature-rejected": (401, "The request's HTTP message signature was refused"),
    "forbidden": (403, "This key may not do that"),
    "csrf-refused": (403, "The form's CSRF token is missing or wrong"),
    "not-found": (404, "No such resource"),
    "rate-limited": (429, "Too many requests for this key's limits"),
    "sign-in-limited": (429, "Too many failed sign-ins from this address"),
    "sign-in-busy": (503, "The hub is checking too many sign-ins at once; try again shortly"),
    "already-exists": (409, "Something with that name already exists"),
    "credential-not-found": (404, "No credential of that name in the vault"),
    "credential-name": (422, "Not a valid credential name"),
    "document-digest-mismatch": (502, "The document's SHA-256 differs from the one its message names"),
    "document-unavailable": (502, "The document could not be fetched"),
    "conflict": (409, "This message id was already used for a different message"),
    "body-too-large": (413, "The body is larger than the hub accepts"),
    "unsupported-media-type": (415, "The body must be application/json"),
    "validation": (422, "The message breaks the canonical model"),
    "no-route": (422, "No route sends this message anywhere"),
    "batch-too-large": (422, "Too many messages in one batch"),
    "method-not-allowed": (405, "Method not allowed"),
    "store-unavailable": (503, "The hub's store is unavailable now; send the request again"),
    "signature-unverifiable": (503, "The hub cannot check message signatures now; send it again"),
    "internal": (500, "The hub failed; the request was not stored"),
}

PROBLEM_TYPES.update({slug: spec for slug, spec in problem_types().items() if slug not in PROBLEM_TYPES})


def problem_type(slug: str) -> tuple[int, str]:
    """(status, title) of problem type ``slug``: the hub's, or a partner's (also one loaded later)."""
    return PROBLEM_TYPES.get(slug) or problem_types()[slug]


class Problem(Exception):
    """Raise to answer with a problem document."""

    def __init__(
        self,
        slug: str,
        detail: str,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.slug, self.detail, self.errors, self.headers, self.extra = slug, detail, errors, headers or {}, extra

    @property
    def status(self) -> int:
        return problem_type(self.slug)[0]

    def body(self, instance: str | None = None) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "type": f"/problems/{self.slug}",
            "title": problem_type(self.slug)[1],
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            doc["instance"] = instance
        if self.errors:
            doc["errors"] = self.errors
        doc.update(self.extra)
        return doc

    def response(self, instance: str | None = None) -> Response:
        return Response(orjson.dumps(self.body(instance)), status_code=self.status, media_type=MEDIA_TYPE, headers=self.headers)


def field_errors(errors: Iterable[Mapping[str, Any]], strip_tag: bool = True) -> list[dict[str, str]]:
    """Pydantic errors as ``{field, rule, message}``; the union tag pydantic puts first is dropped."""
    out = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ())]
        if strip_tag and loc and "." in loc[0]:  # discriminated-union tag, e.g. "status.changed"
            loc = loc[1:]
        rule = err.get("type", "invalid")
        field = ".".join(loc)
        if rule in ("union_tag_invalid", "union_tag_not_found"):
            field, rule = "type", "known_type"
        out.append({"field": field or "(body)", "rule": rule, "message": err.get("msg", "")})
    return out


def validation_problem(exc: ValidationError, prefix: str = "") -> Problem:
    errs = field_errors(exc.errors(include_url=False, include_input=False))
    if prefix:
        for e in errs:
            e["field"] = f"{prefix}.{e['field']}"
    names = ", ".join(sorted({e["field"] for e in errs}))
    return Problem("validation", f"{len(errs)} rule(s) broken: {names}", errs)


def answer(request: Request, problem: Problem) -> Response:
    """``problem`` as the response to ``request``; its type becomes the request's recorded outcome
    unless the gate already noted a more precise one."""
    request.scope.setdefault("state", {}).setdefault("outcome", problem.slug)
    return problem.response(request.url.path)


async def problem_handler(request: Request, exc: Problem) -> Response:
    return answer(request, exc)


async def http_exception_handler(request: Request, exc: StarletteHTTPException) -> Response:
    slug = {400: "bad-request", 401: "unauthenticated", 403: "forbidden", 404: "not-found", 405: "method-not-allowed",
            413: "body-too-large", 415: "unsupported-media-type", 422: "validation"}.get(exc.status_code, "internal")
    return answer(request, Problem(slug, str(exc.detail)))


async def request_validation_handler(request: Request, exc: RequestValidationError) -> Response:
    errs = field_errors(exc.errors(), strip_tag=False)
    for e in errs:  # a body field is named as in the body ("reason"); query and path ones keep their place
        if e["field"].startswith("body."):
            e["field"] = e["field"][len("body."):]
    return answer(request, Problem("validation", "the request's parameters break a rule", errs))


async def unexpected_error_handler(request: Request, exc: Exception) -> Response:
    """Any other failure (the database is down, a bug): 500 problem+json, the cause in the log only."""
    log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path, exc_info=exc)
    return answer(request, Problem("internal", "the hub could not complete the request; nothing was stored"))


async def store_unavailable_handler(request: Request, exc: Exception) -> Response:
    """The store could not take the message (database or writer process down): 503, send again."""
    log.warning("store unavailable on %s %s: %s", request.method, request.url.path, type(exc).__name__)
    return answer(request, Problem("store-unavailable", "the hub's store is unavailable now; nothing was stored, "
                                                        "send the request again", headers={"Retry-After": "1"}))


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "instance": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object", "properties": {
            "field": {"type": "string"}, "rule": {"type": "string"}, "message": {"type": "string"}}}},
    },
}


def document_problems(schema: dict[str, Any]) -> None:
    """Publish in an OpenAPI document the problem answers every operation may give (the guard's
    401/403/413/415/429, a handler's 400/404/409/422, a partner's 502-504), as problem+json.

    Operations flagged ``x-own-errors`` (the payment callback: the platform's own reply format)
    document their errors themselves."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    content = {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    statuses: dict[int, str] = {}
    for status, title in PROBLEM_TYPES.values():
        if status != 500:
            statuses.setdefault(status, title)
    for ops in schema.get("paths", {}).values():
        for op in ops.values():
            if not isinstance(op, dict) or op.get("x-own-errors"):
                continue
            responses = op.setdefault("responses", {})
            for status, title in sorted(statuses.items()):
                entry = responses.setdefault(str(status), {"description": title})
                entry["content"] = content  # also FastAPI's own 422: the hub answers it as a problem


async def data_error_handler(request: Request, exc: Exception) -> Response:
    """A value the database refuses to store as given (too long, out of range): 422, not 500. Each
    such answer is a missing bound on a model field; the log says which route, never the value."""
    log.warning("the database refused a value on %s %s (%s): bound the field", request.method, request.url.path,
                type(exc).__name__)
    return answer(request, Problem("validation", "a value is longer or larger than the hub stores",
                                   [{"field": "(body)", "rule": "storable", "message": "shorten or reduce the value"}]))
