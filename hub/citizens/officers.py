"""The officer registry: who may look citizens up in the population database (seed 002 Đ10, 001 Đ11).

An officer (``MaCanBo``) is registered by the partner whose system calls for them (the one-stop
system), with an agency, a unit, a rights tier (``own_dossiers`` by default, ``own_unit``,
``whole_agency``), a validity and a state (``active``, ``disabled``, ``revoked``). No shared
accounts: one row per person and partner. The review lists officers without a look-up for N
months and disables them. Every change is an admin action (who, what, before, after).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, insert, select, update

from hub.access import actions
from hub.messages.codes import AGENCY_PATTERN, OFFICER_CODE_PATTERN, nfc
from hub.store.engine import reading
from hub.store.queries import page_rows
from hub.store.tables import officers, partners

TIERS = ("own_dossiers", "own_unit", "whole_agency")
STATES = ("active", "disabled", "revoked")
_CODE = re.compile(OFFICER_CODE_PATTERN)
_AGENCY = re.compile(AGENCY_PATTERN)
CHANGEABLE = ("full_name", "agency_id", "unit", "tier", "valid_from", "valid_until", "state", "reason")


@dataclass(frozen=True, slots=True)
class Officer:
    """One registry row, as the look-up path needs it."""

    id: int
    partner_code: str
    officer_code: str
    agency_id: str
    unit: str
    tier: str
    state: str
    valid_from: datetime
    valid_until: datetime | None
    last_lookup_at: datetime | None


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def view(r: Any) -> dict[str, Any]:
    """An officer as lists, answers and admin actions show it."""
    return {"partner": r.partner_code, "officer_code": r.officer_code, "full_name": r.full_name,
            "agency_id": r.agency_id, "unit": r.unit, "tier": r.tier, "state": r.state, "reason": r.reason,
            "valid_from": _iso(r.valid_from), "valid_until": _iso(r.valid_until), "created_at": _iso(r.created_at),
            "updated_at": _iso(r.updated_at), "last_lookup_at": _iso(r.last_lookup_at)}


def _target(partner: str, code: str) -> str:
    return f"officer:{partner}/{code}"


def _where(partner: str, code: str) -> Any:
    return (officers.c.partner_code == partner) & (officers.c.officer_code == code)


def _checked(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` NFC-normalised and checked; ValueError names the field and the rule."""
    out = {k: (nfc(v).strip() if isinstance(v, str) else v) for k, v in values.items()}
    if "full_name" in out and not out["full_name"]:
        raise ValueError("full_name: must not be empty")
    if "agency_id" in out and not _AGENCY.match(out["agency_id"] or ""):
        raise ValueError("agency_id: an agency identifier V1V2V3.Z1Z2.Y1Y2.MX1X2, e.g. 000.00.00.H49")
    if "tier" in out and out["tier"] not in TIERS:
        raise ValueError(f"tier: one of {', '.join(TIERS)}")
    if "state" in out and out["state"] not in STATES:
        raise ValueError(f"state: one of {', '.join(STATES)}")
    for name in ("valid_from", "valid_until"):
        if out.get(name) is not None and out[name].tzinfo is None:
            raise ValueError(f"{name}: give a time zone (ISO 8601 with offset)")
    return out


def _valid_span(row: dict[str, Any]) -> None:
    if row["valid_until"] is not None and row["valid_until"] <= row["valid_from"]:
        raise ValueError("valid_until: must come after valid_from")


def _one(conn: Connection, partner: str, code: str) -> Any:
    return conn.execute(select(officers).where(_where(partner, code))).first()


def register(engine: Engine, partner: str, code: str, full_name: str, agency_id: str, *, unit: str = "",
             tier: str = "own_dossiers", valid_from: datetime | None = None, valid_until: datetime | None = None,
             actor: str, client_ip: str = "") -> dict[str, Any]:
    """Register officer ``code`` for ``partner``; a revoked officer may be registered again.

    ValueError for a bad field, LookupError for an unknown partner, AlreadyExists if the officer is
    registered and not revoked."""
    if not _CODE.match(code):
        raise ValueError("officer_code: 1-60 of letters, digits and . _ @ -")
    now = _now()
    values = _checked({"full_name": full_name, "agency_id": agency_id, "unit": unit, "tier": tier,
                       "valid_from": valid_from or now, "valid_until": valid_until})
    _valid_span(values)
    with engine.begin() as conn:
        if conn.execute(select(partners.c.id).where(partners.c.code == partner)).first() is None:
            raise LookupError(f"no partner {partner!r}")
        before = _one(conn, partner, code)
        if before is not None and before.state != "revoked":
            raise actions.AlreadyExists(f"officer {code!r} of {partner!r} is already registered ({before.state})")
        if before is None:
            conn.execute(insert(officers).values(partner_code=partner, officer_code=code, state="active", reason="",
                                                 created_at=now, **values))
        else:
            conn.execute(update(officers).where(_where(partner, code))
                         .values(state="active", reason="registered again", updated_at=now, **values))
        after = view(_one(conn, partner, code))
        actions.record(conn, actor, "officer.register", _target(partner, code),
                       None if before is None else view(before), after, client_ip)
    return after


def change(engine: Engine, partner: str, code: str, changes: dict[str, Any], *, actor: str,
           client_ip: str = "", action: str = "officer.change") -> dict[str, Any]:
    """Change any of :data:`CHANGEABLE`; LookupError if no such officer, ValueError for a bad value
    or a revoked officer (revoked stays revoked: register them again)."""
    unknown = set(changes) - set(CHANGEABLE)
    if unknown:
        raise ValueError(f"{sorted(unknown)[0]}: cannot be changed")
    values = _checked(changes)
    if values.get("valid_from", 0) is None:
        raise ValueError("valid_from: must not be empty")
    with engine.begin() as conn:
        before = _one(conn, partner, code)
        if before is None:
            raise LookupError(f"no officer {code!r} of {partner!r}")
        if before.state == "revoked" and action != "officer.revoke":
            raise ValueError("state: the officer is revoked; register them again instead")
        _valid_span({"valid_from": values.get("valid_from", before.valid_from),
                     "valid_until": values.get("valid_until", before.valid_until)})
        if values:
            conn.execute(update(officers).where(_where(partner, code)).values(updated_at=_now(), **values))
        after = view(_one(conn, partner, code))
        actions.record(conn, actor, action, _target(partner, code), view(before), after, client_ip)
    return after


def revoke(engine: Engine, partner: str, code: str, reason: str = "", *, actor: str, client_ip: str = "") -> dict[str, Any]:
    """Revoke the officer's right to look up, for good (registering again is a new grant)."""
    return change(engine, partner, code, {"state": "revoked", "reason": reason or "revoked"}, actor=actor,
                  client_ip=client_ip, action="officer.revoke")


def get_officer(engine: Engine, partner: str, code: str) -> dict[str, Any] | None:
    with reading(engine) as conn:
        row = _one(conn, partner, code)
    return view(row) if row else None


def list_officers(engine: Engine, partner: str | None = None, state: str | None = None) -> list[dict[str, Any]]:
    """Officers by partner and code, optionally of one partner or in one state."""
    query = select(officers).order_by(officers.c.partner_code, officers.c.officer_code)
    if partner:
        query = query.where(officers.c.partner_code == partner)
    if state:
        query = query.where(officers.c.state == state)
    with reading(engine) as conn:
        return [view(r) for r in conn.execute(query)]


def page_officers(engine: Engine, after: int = 0, limit: int = 50, partner: str | None = None,
                  state: str | None = None) -> tuple[list[dict[str, Any]], int | None]:
    """Officers in registration order with row id above ``after`` (keyset), at most ``limit``, optionally of
    one partner or in one state: their views and the id to page after next (None on the last page)."""
    rows = page_rows(engine, officers, after, limit + 1, partner_code=partner or None, state=state or None)
    more = len(rows) > limit
    return [view(r) for r in rows[:limit]], rows[limit - 1].id if more else None


def months_before(at: datetime, months: int) -> datetime:
    """``at`` moved back ``months`` calendar months (the day clamped to the month's length)."""
    year, month0 = divmod(at.year * 12 + at.month - 1 - months, 12)
    return at.replace(year=year, month=month0 + 1, day=min(at.day, calendar.monthrange(year, month0 + 1)[1]))


def unused(engine: Engine, months: int) -> list[dict[str, Any]]:
    """Active officers without a look-up for ``months`` months (never used: counted from registration)."""
    cutoff = months_before(_now(), months)
    query = (select(officers).where(officers.c.state == "active",
                                    func.coalesce(officers.c.last_lookup_at, officers.c.created_at) < cutoff)
             .order_by(officers.c.partner_code, officers.c.officer_code))
    with reading(engine) as conn:
        return [view(r) for r in conn.execute(query)]


def disable_unused(engine: Engine, months: int, *, actor: str, client_ip: str = "") -> list[dict[str, Any]]:
    """Disable every officer :func:`unused` lists, each an admin action ``officer.disable``; their views."""
    return [change(engine, o["partner"], o["officer_code"],
                   {"state": "disabled", "reason": f"no look-up for {months} months (review)"},
                   actor=actor, client_ip=client_ip, action="officer.disable")
            for o in unused(engine, months)]


# --- the look-up path ------------------------------------------------------------------------


# Built once: building a statement costs more than running it (SQLAlchemy caches the compiled form).
_LOAD = select(officers.c.id, officers.c.partner_code, officers.c.officer_code, officers.c.agency_id, officers.c.unit,
               officers.c.tier, officers.c.state, officers.c.valid_from, officers.c.valid_until,
               officers.c.last_lookup_at).where(officers.c.partner_code == bindparam("partner"),
                                                officers.c.officer_code == bindparam("code"))


def load(conn: Connection, partner: str, code: str) -> Officer | None:
    """The officer ``code`` of ``partner`` for the admission check, or None."""
    r = conn.execute(_LOAD, {"partner": partner, "code": code}).first()
    return Officer(**r._mapping) if r else None


def touch(engine: Engine, officer: Officer, now: datetime, every_seconds: float = 3600.0) -> None:
    """Note a look-up by ``officer`` at ``now``; written at most once per ``every_seconds`` per officer
    (the review counts months, so an hour's precision costs one write an hour instead of one a look-up)."""
    if officer.last_lookup_at is None or (now - officer.last_lookup_at).total_seconds() >= every_seconds:
        with engine.begin() as conn:
            conn.execute(update(officers).where(officers.c.id == officer.id).values(last_lookup_at=now))
