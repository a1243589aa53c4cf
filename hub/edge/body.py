"""Reading a JSON request body under the edge's rules: media type, size limit, UTF-8, NFC.

The one body reader: the guard (``hub/edge/guard.py``) reads every route's body with these, after
the caller is admitted; the payment callback, which answers in its partner's format, calls
:func:`read_body` itself."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import orjson
from fastapi import Request

from hub.edge.problems import Problem
from hub.messages.codes import nfc, nfc_deep

FORM = "application/x-www-form-urlencoded"
MAX_FORM_FIELDS = 2000  # a console form with a selection of dead letters has one field per row


async def read_body(request: Request, max_bytes: int, media_type: str = "application/json") -> bytes:
    """The raw body of a JSON request (what a signature's Content-Digest covers), or of a form when
    ``media_type`` is :data:`FORM`; 415 or 413 problems."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type == FORM:
        if media != FORM:
            raise Problem("unsupported-media-type", f"Content-Type must be {FORM}, got {media or 'nothing'!r}",
                          [{"field": "Content-Type", "rule": "media_type", "message": f"use {FORM}"}])
    elif media != "application/json" and not (media.startswith("application/") and media.endswith("+json")):
        raise Problem("unsupported-media-type", f"Content-Type must be application/json, got {media or 'nothing'!r}",
                      [{"field": "Content-Type", "rule": "media_type", "message": "use application/json"}])
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise Problem("body-too-large", f"body of {declared} bytes is over the limit of {max_bytes}", max_bytes=max_bytes)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise Problem("body-too-large", f"body is over the limit of {max_bytes} bytes", max_bytes=max_bytes)
    return bytes(body)


def decode_json(body: bytes) -> Any:
    """``body`` decoded and NFC-normalised; a 400 problem when it is not UTF-8 JSON."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Problem("malformed-json", f"body is not UTF-8: {exc}",
                      [{"field": "(body)", "rule": "utf8", "message": str(exc)}]) from None
    try:
        if "\\u" in text:  # escaped characters: normalise each decoded string
            return nfc_deep(orjson.loads(text))
        # JSON punctuation never combines with a neighbour, so normalising the whole text
        # normalises every string in it, in one C call.
        return orjson.loads(nfc(text))
    except orjson.JSONDecodeError as exc:
        raise Problem("malformed-json", f"not valid JSON: {exc}",
                      [{"field": "(body)", "rule": "json_syntax", "message": str(exc)}]) from None


def decode_form(body: bytes) -> dict[str, list[str]]:
    """A URL-encoded form: each field's values in order, NFC-normalised; a 400 problem when it is not
    UTF-8 or has more than :data:`MAX_FORM_FIELDS` fields."""
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS,
                          encoding="utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        raise Problem("bad-request", f"form is not UTF-8: {exc}", [{"field": "(body)", "rule": "utf8", "message": str(exc)}]) from None
    except ValueError as exc:
        raise Problem("bad-request", f"form could not be read: {exc}",
                      [{"field": "(body)", "rule": "form_syntax", "message": str(exc)}]) from None
    form: dict[str, list[str]] = {}
    for name, value in pairs:
        form.setdefault(nfc(name), []).append(nfc(value))
    return form
