"""One request to a ministry system, ready to send (what ``lienthong ministry try`` prints)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping


@dataclass(frozen=True)
class Outgoing:
    """One request, ready: REST (``method``, ``url``, ``headers``, ``json`` or ``text``) or SOAP
    (``operation``, ``args``)."""

    method: str = "POST"
    url: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, Any] = field(default_factory=dict)
    json: Any = None
    text: str | None = None
    operation: str | None = None
    args: Mapping[str, Any] = field(default_factory=dict)
