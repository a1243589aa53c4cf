"""The routing table: which destinations a message goes to, by type, source and payload conditions.

The table is YAML (``LIENTHONG_ROUTES_FILE``)::

    routes:
      - type: status.changed          # a type, a list of types, or "*"
        source: motcua                # a partner code, a list, or "*"
        when:                         # optional: dotted path into the message -> value or list
          payload.channel: [2, 3]
        to: [national_dvc]

A message goes to the union of the destinations of every rule that matches it, in table order.
A message no rule matches is refused (422), never silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from hub.config import Settings

ANY = "*"


@dataclass(frozen=True, slots=True)
class Rule:
    """One row of the routing table."""

    types: frozenset[str]
    sources: frozenset[str]
    to: tuple[str, ...]
    when: tuple[tuple[tuple[str, ...], frozenset[Any]], ...] = ()

    def matches(self, msg_type: str, source: str, message: Mapping[str, Any]) -> bool:
        if ANY not in self.types and msg_type not in self.types:
            return False
        if ANY not in self.sources and source not in self.sources:
            return False
        return all(_lookup(message, path) in allowed for path, allowed in self.when)


def _lookup(message: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = message
    for part in path:
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value if not isinstance(value, (list, dict)) else None


def _as_set(value: Any) -> frozenset[Any]:
    return frozenset(value) if isinstance(value, list) else frozenset([value])


@dataclass(frozen=True, slots=True)
class RoutingTable:
    """An ordered list of rules."""

    rules: tuple[Rule, ...] = field(default_factory=tuple)

    def destinations(self, msg_type: str, source: str, message: Mapping[str, Any]) -> tuple[str, ...]:
        """Destinations for a message (its JSON form), in table order, without repeats."""
        out: dict[str, None] = {}
        for rule in self.rules:
            if rule.matches(msg_type, source, message):
                out.update(dict.fromkeys(rule.to))
        return tuple(out)

    def all_destinations(self) -> set[str]:
        return {d for r in self.rules for d in r.to}

    def extended(self, rules: Iterable[Mapping[str, Any]]) -> "RoutingTable":
        """This table followed by ``rules`` (decoded YAML, as in the file); ValueError naming a bad one."""
        return RoutingTable(self.rules + parse({"routes": list(rules)}).rules) if rules else self

    def check(
        self,
        connectors: Mapping[str, frozenset[str]],
        message_types: Iterable[str],
        partners: Iterable[str] | None = None,
    ) -> list[str]:
        """Problems in the table: unknown destinations, types or sources, and types a destination cannot take.

        ``connectors`` maps each destination name to the message types it accepts.
        """
        known_types = set(message_types)
        known_partners = set(partners) if partners is not None else None
        problems = []
        for n, rule in enumerate(self.rules, 1):
            for t in rule.types - {ANY}:
                if t not in known_types:
                    problems.append(f"rule {n}: unknown message type {t!r}")
            if known_partners is not None:
                for s in rule.sources - {ANY}:
                    if s not in known_partners:
                        problems.append(f"rule {n}: unknown source partner {s!r}")
            for dest in rule.to:
                if dest not in connectors:
                    problems.append(f"rule {n}: no connector named {dest!r}")
                    continue
                wanted = known_types if ANY in rule.types else rule.types & known_types
                for t in sorted(wanted - connectors[dest]):
                    problems.append(f"rule {n}: destination {dest!r} cannot take {t!r}")
        return problems


def parse(data: Mapping[str, Any]) -> RoutingTable:
    """Build a table from its decoded YAML; raises ValueError naming the bad rule."""
    rules = []
    for n, raw in enumerate(data.get("routes") or [], 1):
        if not isinstance(raw, Mapping) or "to" not in raw:
            raise ValueError(f"rule {n}: needs at least 'to'")
        to = raw["to"] if isinstance(raw["to"], list) else [raw["to"]]
        if not to or not all(isinstance(d, str) for d in to):
            raise ValueError(f"rule {n}: 'to' must name one or more destinations")
        when = tuple((tuple(str(k).split(".")), _as_set(v)) for k, v in (raw.get("when") or {}).items())
        rules.append(Rule(_as_set(raw.get("type", ANY)), _as_set(raw.get("source", ANY)), tuple(to), when))
    return RoutingTable(tuple(rules))


def load(path: Path) -> RoutingTable:
    """Read the routing table from a YAML file."""
    with open(path, encoding="utf-8") as fh:
        return parse(yaml.safe_load(fh) or {})


_loaded: dict[Path, tuple[tuple[int, int], RoutingTable]] = {}


def routes_for(settings: Settings) -> RoutingTable:
    """The routing table ``LIENTHONG_ROUTES_FILE`` names, read again only when the file changed
    (its modification time or size): a scheduled pull asks for it on every page."""
    path = Path(settings.routes_file)
    stat = path.stat()
    stamp = (stat.st_mtime_ns, stat.st_size)
    cached = _loaded.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    table = load(path)
    _loaded[path] = (stamp, table)
    return table
