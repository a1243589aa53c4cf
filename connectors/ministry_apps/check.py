"""``lienthong ministry check`` and ``try``: an adapter judged before it goes live, mistakes by line.

``check`` loads the file (its schema, every template compiled, its wire schemas and WSDL read) and
then runs it on its ``samples``: each canonical message through its mapping and the wire schema,
each sample callback and pull answer through its ``emit`` and the canonical model. ``try`` shows
exactly what one message would be sent as. Documents are not fetched here: ``document(d)`` gives a
placeholder's base64.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from connectors.ministry_apps.emit import emitted
from connectors.ministry_apps.outbound import base_context, render
from connectors.ministry_apps.outgoing import Outgoing
from connectors.ministry_apps.registry import Broken, Loaded, Mistake, load
from connectors.ministry_apps.templates import MappingError, value
from hub.seam import MESSAGE_ADAPTER

PLACEHOLDER = b"(the document's bytes)"


def _placeholder(url: str, sha256: str) -> bytes:
    return PLACEHOLDER


def _sample(loaded: Loaded, index: int, name: str) -> list[Mistake]:
    line = loaded.source.line(("samples", index))
    try:
        sample = orjson.loads(loaded.sibling(name).read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        return [Mistake(line, f"samples.{index}: cannot read {name}: {exc}")]
    try:
        if isinstance(sample, dict) and "callback" in sample:
            spec = loaded.adapter.callbacks
            if spec is None or sample["callback"] not in spec.events:
                return [Mistake(line, f"samples.{index}: {name} is a callback {sample['callback']!r} the adapter has not")]
            emitted(loaded.adapter.code, spec.events[sample["callback"]],
                    base_context(loaded, {"body": sample.get("body"), "event": sample["callback"]}),
                    f"callbacks.events.{sample['callback']}")
        elif isinstance(sample, dict) and "pull" in sample:
            _pull(loaded, sample)
        else:
            message = MESSAGE_ADAPTER.validate_python(sample).model_dump(mode="json")
            if message["type"] in loaded.adapter.send:
                render(loaded, message, _placeholder)
    except MappingError as exc:
        return [Mistake(loaded.source.line_of(exc.where), f"{exc} (on sample {name})")]
    except ValueError as exc:  # the sample itself is not a canonical message
        return [Mistake(line, f"samples.{index}: {name} is not a canonical message: {str(exc)[:300]}")]
    return []


def _pull(loaded: Loaded, sample: dict[str, Any]) -> None:
    pull = loaded.adapter.pull
    if pull is None:
        raise MappingError("samples", "a pull sample, but the adapter has no pull")
    answer = sample["pull"]
    context = base_context(loaded, {"cases": sample.get("cases", []), "group": sample.get("group", ""),
                                    "cursor": sample.get("cursor", ""), "answer": answer})
    items = value(pull.items, context, "pull.items")
    if not isinstance(items, list):
        raise MappingError("pull.items", "the answer's items are not a list")
    cases = {str(c.get("dossier_code")): c for c in sample.get("cases", [])}
    for item in items:
        extra: dict[str, Any] = {"item": item}
        if pull.cases is not None:
            key = str(value(pull.cases.key, extra, "pull.cases.key"))
            extra.update(case=cases.get(key, {"dossier_code": key, "state": None}), previous=None,
                         state=str(value(pull.cases.state, extra, "pull.cases.state")))
        emitted(loaded.adapter.code, pull.emit, {**context, **extra}, "pull.emit")


def check(path: Path) -> tuple[Loaded | None, list[Mistake], list[str]]:
    """The adapter (None if it does not load), its mistakes, and notes (what was tried)."""
    try:
        loaded = load(path)
    except Broken as broken:
        return None, broken.mistakes, []
    mistakes: list[Mistake] = []
    for index, name in enumerate(loaded.adapter.samples):
        mistakes.extend(_sample(loaded, index, name))
    tried = {str(orjson.loads(loaded.sibling(n).read_bytes()).get("type")) for n in loaded.adapter.samples
             if loaded.sibling(n).is_file()} if not mistakes else set()
    notes = [f"no sample message of {t}: its mapping was compiled, not tried" for t in sorted(loaded.adapter.send)
             if t not in tried and not mistakes]
    return loaded, mistakes, notes


def attempt(path: Path, message_file: Path) -> tuple[Loaded, Outgoing]:
    """What ``message_file`` (a canonical message) would be sent as; raises Broken, MappingError, ValueError."""
    loaded = load(path)
    message = MESSAGE_ADAPTER.validate_python(orjson.loads(message_file.read_bytes())).model_dump(mode="json")
    return loaded, render(loaded, message, _placeholder)
