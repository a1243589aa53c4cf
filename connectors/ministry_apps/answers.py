"""Reading a ministry system's answer into ok, transient or permanent (an adapter's ``answer`` rules).

The rules of the message type come first, then the adapter's own, then the defaults every HTTP
system gets: 2xx ok; 408, 425, 429 and 5xx transient (worth trying later); anything else permanent.
A connection that fails or times out never reaches here: it is transient.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any, Sequence

from connectors.ministry_apps.adapter import Rule
from connectors.ministry_apps.templates import MappingError, value

TRANSIENT_STATUSES = frozenset({408, 425, 429})
MAX_REASON = 300


@dataclass(frozen=True)
class Answer:
    """What came back: the HTTP status, the decoded JSON (None if not JSON), the text, a SOAP fault code."""

    status: int
    json: Any = None
    text: str = ""
    fault: str | None = None
    fault_text: str = ""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    outcome: str  # ok | transient | permanent
    reason: str
    reference: str | None = None


def _status_matches(wanted: Sequence[int | str], status: int) -> bool:
    return any(status == w if isinstance(w, int) else str(status)[0] == w[0] for w in wanted)


def _field(doc: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(doc, dict) and part in doc:
            doc = doc[part]
        elif isinstance(doc, list) and part.isdigit() and int(part) < len(doc):
            doc = doc[int(part)]
        else:
            return _MISSING
    return doc


_MISSING = object()


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


def _fault_matches(wanted: Sequence[str], fault: str | None) -> bool:
    if fault is None:
        return False
    local = fault.rsplit(":", 1)[-1]
    return any(w == "*" or w == fault or w.rsplit(":", 1)[-1] == local for w in wanted)


def holds(rule: Rule, answer: Answer) -> bool:
    """Every condition of ``rule`` holds for ``answer``."""
    if rule.http is not None and not _status_matches(rule.http, answer.status):
        return False
    if rule.field is not None:
        found = _field(answer.json, rule.field)
        if rule.is_in is None:
            if found is _MISSING:
                return False
        elif found is _MISSING or str(found) not in {str(v) for v in rule.is_in}:
            return False
    if rule.fault is not None and not _fault_matches(rule.fault, answer.fault):
        return False
    if rule.contains is not None:
        text = _fold(answer.fault_text or answer.text)
        if not any(_fold(phrase) in text for phrase in rule.contains):
            return False
    return True


def _default(answer: Answer) -> Verdict:
    if answer.fault is not None:
        return Verdict("permanent", f"SOAP fault {answer.fault}: {answer.fault_text}"[:MAX_REASON])
    if 200 <= answer.status < 300:
        return Verdict("ok", f"HTTP {answer.status}")
    if answer.status in TRANSIENT_STATUSES or answer.status >= 500:
        return Verdict("transient", f"HTTP {answer.status}")
    return Verdict("permanent", f"HTTP {answer.status}")


def classify(rules: Sequence[Rule], answer: Answer, where: str) -> Verdict:
    """The first rule that holds decides (its ``reason`` and ``reference`` rendered over the answer);
    none: the defaults."""
    context = {"answer": answer.json, "status": answer.status, "text": answer.text, "fault": answer.fault,
               "fault_text": answer.fault_text}
    for n, rule in enumerate(rules):
        if holds(rule, answer):
            try:
                reason = str(value(rule.reason, context, f"{where}.{n}.reason")) if rule.reason else ""
                reference = value(rule.reference, context, f"{where}.{n}.reference") if rule.reference else None
            except MappingError as exc:
                reason, reference = f"(reason unreadable: {exc.message})", None
            base = _default(answer).reason
            return Verdict(rule.then, f"{base}: {reason}"[:MAX_REASON] if reason else base,
                           str(reference)[:100] if reference not in (None, "") else None)
    return _default(answer)
