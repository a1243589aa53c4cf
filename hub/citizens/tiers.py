"""May this officer look this citizen up for this dossier? The registry's state and the rights tier.

Every look-up names a dossier and a citizen. The dossier code starts with its agency identifier
(``000.00.00.H49-261123-0001``), which must be the officer's agency whatever the tier (intake
refuses a message whose dossier code starts with another agency than its ``agency_id``:
``hub/messages/models.py``, rule ``dossier_code_agency``); then:

- ``whole_agency``: any dossier of the agency, any citizen;
- ``own_unit``: a dossier the hub knows, whose handling unit is the officer's unit: the latest
  ``handling_unit`` of a ``dossier.*`` message or ``department`` of a ``status.changed``
  (compared NFC, case-folded, spaces collapsed), any citizen; also the officer's own dossiers,
  bound to their citizens as below;
- ``own_dossiers`` (the default): a dossier one of whose messages names the officer
  (``payload.officer_code``), and only **the citizens of that dossier** (rule
  ``officer:citizen_not_in_dossier`` otherwise).

The citizens of a dossier are the 12-digit personal IDs (``id_type`` 1) in
``payload.applicant.ids[].number`` of any of its ``dossier.submitted`` and ``dossier.updated``
messages (every version counts, as for the officers a dossier names). The canonical model has
no other citizen ID field: ``status.changed`` carries none, 9-digit old ID cards cannot be looked
up. The binding applies wherever the right comes from being named in the dossier; a unit's or
an agency's right is not bound to one dossier's people (a unit's officers may need to look up
people around its dossiers that the one-stop system does not send), nor could ``whole_agency``
be (it also covers dossiers the hub has never seen).

Only the calling partner's own messages count: officer codes are the partner's own, and another
partner's messages cannot widen its officers' rights. Everything comes from one query on the
``dossier_code`` index (:func:`dossier_facts`): the look-up path is latency-benchmarked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import orjson
from sqlalchemy import Connection, Engine, bindparam, select

from hub.citizens.officers import Officer, load
from hub.messages.codes import nfc
from hub.store.engine import reading
from hub.store.tables import messages

DOSSIER_TYPES = ("dossier.submitted", "dossier.updated", "status.changed")
#: The message types whose payload holds the dossier's citizens (``applicant.ids``).
CITIZEN_TYPES = frozenset({"dossier.submitted", "dossier.updated"})


# Built once (building a statement costs more than running it); by the dossier_code index.
_FACTS = (select(messages.c.type, messages.c.body)
          .where(messages.c.dossier_code == bindparam("dossier"), messages.c.source == bindparam("partner"),
                 messages.c.type.in_(DOSSIER_TYPES))
          .order_by(messages.c.occurred_at, messages.c.id))


class Refused(Exception):
    """The officer may not make this look-up: ``rule`` (``officer:<why>``) and a message for the caller."""

    def __init__(self, rule: str, message: str, field: str = "officer_code") -> None:
        super().__init__(message)
        self.rule, self.message, self.field = rule, message, field


@dataclass(frozen=True, slots=True)
class DossierFacts:
    """What the calling partner's messages say of one dossier."""

    unit: str | None  # the latest handling unit, if any
    officers: frozenset[str]  # the officer codes its messages name
    citizens: frozenset[str]  # the 12-digit personal IDs of its applicant (every version)


def dossier_agency(dossier_code: str) -> str:
    """The agency identifier a dossier code starts with."""
    return dossier_code.split("-", 1)[0]


def same_unit(a: str, b: str) -> bool:
    """Units compared as people write them: NFC, case-folded, spaces collapsed."""
    def norm(s: str) -> str:
        return " ".join(nfc(s).casefold().split())
    return bool(norm(a)) and norm(a) == norm(b)


def dossier_facts(conn: Connection, partner: str, dossier_code: str) -> DossierFacts:
    """The dossier's latest handling unit, the officers its messages name and its citizens, from
    ``partner``'s messages (one query)."""
    rows = conn.execute(_FACTS, {"dossier": dossier_code, "partner": partner})
    unit: str | None = None
    named: set[str] = set()
    citizens: set[str] = set()
    for kind, body in rows:
        payload = orjson.loads(body).get("payload") or {}
        found = payload.get("department" if kind == "status.changed" else "handling_unit")
        if found:
            unit = found
        if payload.get("officer_code"):
            named.add(payload["officer_code"])
        if kind in CITIZEN_TYPES:
            for doc in (payload.get("applicant") or {}).get("ids") or ():
                number = doc.get("number")
                if isinstance(number, str) and len(number) == 12:  # id_type 1; the look-up takes no other
                    citizens.add(number)
    return DossierFacts(unit, frozenset(named), frozenset(citizens))


def check(conn: Connection, partner: str, officer_code: str, dossier_code: str, citizen_id: str,
          now: datetime) -> Officer:
    """The officer, allowed to look ``citizen_id`` up for ``dossier_code`` at ``now``; raises :class:`Refused`
    (whose message never names the citizen)."""
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
    facts = dossier_facts(conn, partner, dossier_code)
    if officer.tier == "own_unit" and facts.unit is not None and same_unit(facts.unit, officer.unit):
        return officer
    if officer_code in facts.officers:
        if citizen_id in facts.citizens:
            return officer
        raise Refused("officer:citizen_not_in_dossier",
                      f"tier {officer.tier}: the citizen is not among the dossier's applicants (payload.applicant.ids "
                      "of its dossier.submitted and dossier.updated messages)", field="id_number")
    if officer.tier == "own_unit":
        raise Refused("officer:out_of_tier", "tier own_unit: the dossier is not handled by the officer's unit"
                      + ("" if facts.unit is not None else " (the hub holds no handling unit for it)"))
    raise Refused("officer:out_of_tier", "tier own_dossiers: no message of this dossier names the officer")


def admit(engine: Engine, partner: str, officer_code: str, dossier_code: str, citizen_id: str,
          now: datetime) -> Officer:
    """:func:`check` on a read-only connection."""
    with reading(engine) as conn:
        return check(conn, partner, officer_code, dossier_code, citizen_id, now)
