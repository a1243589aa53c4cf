"""The fingerprints of the key set in use, kept in the database so that every process of one hub runs
on the same keys (table ``key_fingerprints``; the keys themselves are hub/keyset.py).

A fingerprint is the first 16 hex digits of the SHA-256 of a key's material: enough to tell two
keys apart, useless to recover a 256-bit key. The first process to start records each key's
fingerprint; every later one compares. Two replicas starting at once cannot both record: the name
is the primary key, so the loser's insert fails and it compares against the winner's row instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from hub.store.engine import reading
from hub.store.tables import key_fingerprints

SHARE_HINT = ("every replica must run on one key set: mount the same secrets or the same keys volume "
              "(docs/OPERATIONS.md, 'Sharing the key set between replicas'); after a rotation, install the new "
              "key on every replica before restarting it")


@dataclass(frozen=True)
class Difference:
    """One key whose fingerprint differs from the one the database records."""

    name: str
    have: str
    recorded: str
    since: str  # who recorded it, and when

    def __str__(self) -> str:
        return (f"{self.name} differs from the key this hub's database records: this process has fingerprint "
                f"{self.have}, the database records {self.recorded} ({self.since})")


class KeysDiffer(RuntimeError):
    """This process's keys are not the ones the other processes of the hub use. Never carries a key."""

    def __init__(self, differences: list[Difference]) -> None:
        self.differences = differences
        lines = "\n".join(f"  - {d}" for d in differences)
        super().__init__(f"this process's key set differs from the hub's; it refuses to start:\n{lines}\n"
                         f"  What to do: {SHARE_HINT}.")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _since(row: Any) -> str:
    changed_at, changed_by = row.changed_at, row.changed_by
    if changed_at is not None:
        return f"changed {changed_at:%Y-%m-%d %H:%M} UTC by {changed_by}"
    return f"first seen {row.first_seen:%Y-%m-%d %H:%M} UTC by {row.first_by}"


def recorded(engine: Engine) -> dict[str, str]:
    """Every recorded fingerprint, by key name."""
    with reading(engine) as conn:
        return {r.name: r.fingerprint for r in conn.execute(select(key_fingerprints))}


def record_or_compare(engine: Engine, found: dict[str, str], by: str) -> None:
    """Record each fingerprint in ``found`` that is absent; compare the others.

    Raises :class:`KeysDiffer` listing every key that differs (all of them, not the first only).
    """
    differences = []
    for name, fingerprint in found.items():
        with reading(engine) as conn:
            row = conn.execute(select(key_fingerprints).where(key_fingerprints.c.name == name)).first()
        if row is None:
            try:
                with engine.begin() as conn:
                    conn.execute(insert(key_fingerprints).values(name=name, fingerprint=fingerprint, first_seen=_now(),
                                                                 first_by=by[:120]))
                continue
            except IntegrityError:  # another process recorded it first: compare with its row
                with reading(engine) as conn:
                    row = conn.execute(select(key_fingerprints).where(key_fingerprints.c.name == name)).one()
        if row.fingerprint != fingerprint:
            differences.append(Difference(name, fingerprint, row.fingerprint, _since(row)))
    if differences:
        raise KeysDiffer(differences)


def record_rotation(conn: Connection, name: str, fingerprint: str, by: str) -> None:
    """Put the new fingerprint of rotated key ``name`` in place, in the rotation's own transaction."""
    now = _now()
    done = conn.execute(update(key_fingerprints).where(key_fingerprints.c.name == name)
                        .values(fingerprint=fingerprint, changed_at=now, changed_by=by[:120])).rowcount
    if not done:  # nothing recorded yet (no process has started): this is the first record
        conn.execute(insert(key_fingerprints).values(name=name, fingerprint=fingerprint, first_seen=now,
                                                     first_by=by[:120]))
