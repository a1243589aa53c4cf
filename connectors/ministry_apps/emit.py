"""The way back: an item a pull read or an event the system pushed, mapped to canonical messages.

Each ``emit`` whose ``when`` holds renders its ``message`` tree; the hub adds ``source`` (the
ministry's code), ``message_id`` (from the emit's ``id``: the same event read twice, or pushed and
pulled, is one message) and ``occurred_at`` when the mapping gives none. The result is checked
against the canonical model here, so a mapping's mistake is named with its place.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Any, Mapping, Sequence

from pydantic import ValidationError

from connectors.ministry_apps.adapter import Emit
from connectors.ministry_apps.templates import MappingError, tree, truth, value
from hub.seam import MESSAGE_ADAPTER


def message_id(code: str, event_id: str) -> str:
    """A stable message id for event ``event_id`` of ministry ``code`` (at most 56 characters)."""
    return f"{code[:15]}:{hashlib.sha256(f'{code}|{event_id}'.encode()).hexdigest()[:40]}"


def emitted(code: str, emits: Sequence[Emit], context: Mapping[str, Any], where: str) -> list[dict[str, Any]]:
    """The canonical messages (JSON form, checked) of ``emits`` over ``context``; raises :class:`MappingError`."""
    out = []
    for n, emit in enumerate(emits):
        place = f"{where}.{n}"
        if not truth(emit.when, context, f"{place}.when"):
            continue
        message = tree(emit.message, context, f"{place}.message")
        if not isinstance(message, dict):
            raise MappingError(f"{place}.message", "a message is a mapping")
        message["source"] = code
        message["message_id"] = message_id(code, str(value(emit.id, context, f"{place}.id")))
        message.setdefault("occurred_at", datetime.now(timezone.utc).isoformat())
        try:
            checked = MESSAGE_ADAPTER.validate_python(message)
        except ValidationError as exc:
            first = exc.errors(include_url=False, include_input=False)[0]
            at = ".".join(map(str, first["loc"][1:])) or "(the message)"
            raise MappingError(f"{place}.message", f"not a canonical {message.get('type')}: {at}: {first['msg']}"
                               + (f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else "")) from None
        out.append(checked.model_dump(mode="json"))
    return out
