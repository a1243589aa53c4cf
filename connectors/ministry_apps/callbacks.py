"""The pushed way back: a ministry system calls the hub with its steps (the land system's callbacks).

Two routes serve every adapter that has ``callbacks``:

* ``POST /v1/ministry/{code}/hooks/{event}/{secret}``: no API key; the path's last segment must be
  the adapter's callback secret (compared in constant time; the access record shows ``***``);
* ``POST /v1/ministry/{code}/push/{event}``: the caller's API key, which must be the ministry's own.

An adapter answers on the route of its ``callbacks.auth`` only. The event's body (JSON, at most
256 KiB, NFC) is mapped by its ``emit`` into canonical messages, stored through the intake path as
the ministry's, and answered in the system's own format (``callbacks.ok``/``refused``/``unavailable``).
"""

from __future__ import annotations

import hmac
import unicodedata
from typing import Any, Callable

import orjson

from connectors.ministry_apps.adapter import Reply as ReplySpec
from connectors.ministry_apps.auth import SecretMissing, secret_getter
from connectors.ministry_apps.emit import emitted
from connectors.ministry_apps.outbound import base_context
from connectors.ministry_apps.registry import Loaded, Registry
from connectors.ministry_apps.templates import MappingError, tree
from hub.seam import Context, Inbound, Refused, Reply, Unavailable

MAX_BYTES = 256 * 1024


def _nfc(value: Any) -> Any:
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {_nfc(k): _nfc(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nfc(v) for v in value]
    return value


def _answer(spec: ReplySpec, error: str, status: int | None = None) -> Reply:
    try:
        body = tree(spec.json_body, {"error": error, "ok": not error}, "callbacks.reply") if spec.json_body is not None \
            else {"ok": not error, "error": error or None}
    except MappingError:
        body = {"ok": not error, "error": error or None}
    return Reply(status or spec.status, body)


def handler(registry: Callable[[Context], Registry], style: str) -> Callable[[Inbound], Any]:
    """The route handler for ``style`` ``secret`` (hooks) or ``key`` (push)."""

    async def callback(call: Inbound) -> Reply:
        code, event = call.path_params["code"], call.path_params["event"]
        given = call.path_params.get("secret", "")
        call.conceal(given)
        loaded: Loaded | None = registry(call.ctx).get(code)
        spec = loaded.adapter.callbacks if loaded is not None else None
        if loaded is None or spec is None or spec.auth != style:
            call.note("unknown-ministry", f"no ministry {code!r} takes {style} callbacks")
            return Reply(404, {"error": "not found"})
        try:
            member = call.ctx.member(code)
        except LookupError:
            call.note("unknown-ministry", f"{code!r} is not loaded")
            return Reply(404, {"error": "not found"})
        if style == "secret":
            try:
                expected = secret_getter(loaded.adapter, member)(str(spec.secret))
            except SecretMissing:
                call.note("unavailable", f"{code}: its callback secret is not set")
                return _answer(spec.unavailable, "not configured")
            if not hmac.compare_digest(given.encode(), expected.encode()):
                call.note("forbidden", f"{code} {event}: wrong callback secret")
                return _answer(spec.refused, "forbidden", 403)
        elif call.partner_code != code:
            call.note("forbidden", f"{code} {event}: a key of {call.partner_code!r}")
            return _answer(spec.refused, "forbidden", 403)
        emits = spec.events.get(event)
        if emits is None:
            call.note("unknown-event", f"{code}: no event {event!r}")
            return _answer(spec.refused, f"unknown event {event}", 404)
        try:
            raw = await call.body(MAX_BYTES)
            body = _nfc(orjson.loads(raw))
        except Refused as refused:
            call.note(refused.slug, f"{code} {event}: {refused.detail}")
            return _answer(spec.refused, refused.slug, 413 if refused.slug == "body-too-large" else 415)
        except orjson.JSONDecodeError:
            call.note("malformed", f"{code} {event}: not JSON")
            return _answer(spec.refused, "malformed")
        try:
            messages = emitted(code, emits, base_context(loaded, {"body": body, "event": event}), f"callbacks.events.{event}")
        except MappingError as exc:
            call.note("mapping", f"{code} {event}: {exc}"[:300])
            return _answer(spec.refused, f"cannot read the event: {exc.message}"[:200], 422)
        verdicts = []
        for message in messages:
            try:
                verdicts.append(await call.submit(message, source=code, types=sorted(loaded.adapter.emitted())))
            except Refused as refused:
                call.note(refused.slug, f"{code} {event}: {refused.detail}"[:300])
                return _answer(spec.refused, refused.slug, 422)
            except Unavailable:
                call.note("unavailable", f"{code} {event}: the store is unavailable")
                return _answer(spec.unavailable, "try again")
        call.note("ok", f"{code} {event}: {', '.join(verdicts) or 'nothing to store'}")
        return _answer(spec.ok, "")

    callback.__name__ = f"ministry_{style}_callback"
    return callback
