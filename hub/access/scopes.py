"""What a key may do: message types it may send, route classes it may call, look-ups it may make.

Route classes group the hub's endpoints: ``intake`` (sending messages), ``read`` (a message's
state, a dossier's trace), ``ops`` (flows, dead letters, replay), ``lookup`` (citizen look-ups),
and, for people only, ``admin``, ``audit`` and ``people``. ``"*"`` in a list means everything of that
kind: in a key's endpoints, every *partner* route class, never a people-only one. Which class each
route has, and who may call it, is the table in ``hub/edge/rules.py``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

ROUTE_CLASSES = ("intake", "read", "ops", "lookup", "admin", "audit", "people")
KEY_ROUTE_CLASSES = ("intake", "read", "ops", "lookup")
LOOKUPS = ("lookup", "verify", "household", "residence")
ROLES = ("admin", "operator", "auditor")

#: Roles that see every partner's messages and run operations (the ``read`` and ``ops`` routes of
#: ``hub/edge/rules.py``); auditors do not: they read the audit trail.
OPERATOR_ROLES = ("operator", "admin")

#: Scopes a new key gets when the admin does not say, by partner kind.
DEFAULT_ENDPOINTS: dict[str, tuple[str, ...]] = {
    "operator": ("read", "ops"),
}


@dataclass(frozen=True, slots=True)
class Scopes:
    """A key's scopes; ``allows_*`` answer the edge's questions."""

    types: tuple[str, ...] = ("*",)
    endpoints: tuple[str, ...] = ("intake", "read")
    lookups: tuple[str, ...] = field(default_factory=tuple)

    def allows_route(self, route_class: str) -> bool:
        """True for a partner route class the key's endpoints name (or ``"*"``); never for admin, audit
        or people routes, whatever the stored scopes say."""
        return route_class in KEY_ROUTE_CLASSES and ("*" in self.endpoints or route_class in self.endpoints)

    def allows_type(self, message_type: str) -> bool:
        return "*" in self.types or message_type in self.types

    def as_json(self) -> dict[str, list[str]]:
        return {"types": list(self.types), "endpoints": list(self.endpoints), "lookups": list(self.lookups)}


def default_scopes(partner_kind: str) -> Scopes:
    """The scopes of a key issued without explicit ones."""
    return Scopes(endpoints=DEFAULT_ENDPOINTS.get(partner_kind, ("intake", "read")))


def parse_scopes(data: dict[str, Any] | None, partner_kind: str, known_types: Collection[str]) -> Scopes:
    """Scopes from stored or submitted JSON; missing parts take the kind's defaults.

    Raises ValueError naming the field and the value that is not allowed.
    """
    base = default_scopes(partner_kind)
    data = data or {}

    def pick(name: str, allowed: Collection[str], fallback: tuple[str, ...]) -> tuple[str, ...]:
        values = data.get(name)
        if values is None:
            return fallback
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ValueError(f"scopes.{name}: a list of strings")
        for v in values:
            if v != "*" and v not in allowed:
                raise ValueError(f"scopes.{name}: {v!r} is not one of {', '.join(allowed)} or *")
        return tuple(values)

    return Scopes(
        types=pick("types", known_types, base.types),
        endpoints=pick("endpoints", KEY_ROUTE_CLASSES, base.endpoints),
        lookups=pick("lookups", LOOKUPS, base.lookups),
    )
