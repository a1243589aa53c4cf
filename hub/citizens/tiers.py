"""May this officer look a citizen up for this dossier? The registry's state and the rights tier.

Every look-up names a dossier. The dossier code starts with its agency identifier
(``000.00.00.H49-261123-0001``), which must be the officer's agency whatever the tier; then:

- ``whole_agency``: any dossier of the agency;
- ``own_unit``: a dossier the hub knows, whose handling unit is the officer's unit: the latest
  ``handling_unit`` of a ``dossier.*`` message or ``department`` of a ``status.changed``
  (compared NFC, case-folded, spaces collapsed); also the officer's own dossiers;
- ``own_dossiers`` (the default): a dossier one of whose messages names the officer
  (``payload.officer_code``).

Only the calling partner's own messages count: officer codes are the partner's own, and another
partner's messages cannot widen its officers' rights.
"""

from __future__ import annotations

from datetime import datetime

import orjson
from sqlalchemy import Connection, Engine, bindparam, select

from hub.citizens.officers import Officer, load
from hub.messages.codes import nfc
from hub.store.engine import reading
from hub.store.tables import messages

DOSSIER_TYPES = ("dossier.submitted", "dossier.updated", "status.changed")


# Built once (building a statement costs more than running it); by the dossier_code index.
_FACTS = (select(messages.c.type, messages.c.body)
          .where(messages.c.dossier_code == bindparam("dossier"), messages.c.source == bindparam("partner"),
                 messages.c.type.in_(DOSSIER_TYPES))
          .order_by(messages.c.occurred_at, messages.c.id))


class Refused(Exception):
    """The officer may not make this look-up: ``rule`` (``officer:<why>``) and a message for the caller."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule, self.message = rule, message


def dossier_agency(dossier_code: str) -> str:
    """The agency identifier a dossier code starts with."""
    return dossier_code.split("-", 1)[0]


def same_unit(a: str, b: str) -> bool:
    """Units compared as people write them: NFC, case-folded, spaces collapsed."""
    def norm(s: str) -> str:
        return " ".join(nfc(s).casefold().split())
    return bool(norm(a)) and norm(a) == norm(b)


def dossier_facts(conn: Connection, partner: str, dossier_code: str) -> tuple[str | None, set[str]]:
    """The dossier's latest handling unit and the officers its messages name, from ``partner``'s messages."""
    rows = conn.execute(_FACTS, {"dossier": dossier_code, "partner": partner})
    unit: str | None = None
    named: set[str] = set()
    for kind, body in rows:
        payload = orjson.loads(body).get("payload") or {}
        found = payload.get("department" if kind == "status.changed" else "handling_unit")
        if found:
            unit = found
        if payload.get("officer_code"):
            named.add(payload["officer_code"])
    return unit, named


def check(conn: Connection, partner: str, officer_code: str, dossier_code: str, now: datetime) -> Officer:
    """The officer, allowed to look up for ``dossier_code`` at ``now``; raises :class:`Refused`."""
    officer = load(conn, partner, officer_code)
    if officer is None:
        raise Refused("officer:unregistered", f"officer {officer_code!r} is not registered for {partner!r}")
    if officer.state != "active":
        raise Refused(f"officer:{officer.state}", f"officer {officer_code!r} is {officer.state}")
    if now < officer.valid_from:
        raise Refused("officer:not_yet_valid", f"officer {officer_code!r} may look up from {officer.valid_from.isoformat()}")
    if officer.valid_until is not None and now >= officer.valid_until:
        raise Refused("officer:expired", f"officer {officer_code!r} could look up until {officer.valid_until.isoformat()}")
    agency = dossier_agency(dossier_code)
    if agency != officer.agency_id:
        raise Refused("officer:out_of_tier", f"the dossier belongs to agency {agency}; the officer to {officer.agency_id}")
    if officer.tier == "whole_agency":
        return officer
    unit, named = dossier_facts(conn, partner, dossier_code)
    if officer_code in named:
        return officer
    if officer.tier == "own_unit":
        if unit is not None and same_unit(unit, officer.unit):
            return officer
        raise Refused("officer:out_of_tier", "tier own_unit: the dossier is not handled by the officer's unit"
                      + ("" if unit is not None else " (the hub holds no handling unit for it)"))
    raise Refused("officer:out_of_tier", "tier own_dossiers: no message of this dossier names the officer")


def admit(engine: Engine, partner: str, officer_code: str, dossier_code: str, now: datetime) -> Officer:
    """:func:`check` on a read-only connection."""
    with reading(engine) as conn:
        return check(conn, partner, officer_code, dossier_code, now)
