"""The catalogue's rows in the hub's database (``hub/store/tables.py``: ``catalogue_procedures``,
``catalogue_history``, ``catalogue_agencies``, ``catalogue_fields``), read and written here only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, func, select, update

from connectors.national_dvc.catalogue.model import dumps
from hub.seam import reading, tables

P, H = tables.catalogue_procedures, tables.catalogue_history


@dataclass(frozen=True)
class Held:
    """A procedure's latest version as the hub holds it."""

    version: int
    digest: str
    published: bool
    content: dict[str, Any]


@dataclass(frozen=True)
class Version:
    """A new version to write, with its history row."""

    code: str
    version: int
    digest: str
    content: dict[str, Any]
    changes: list[str]
    fee_channels: list[int]
    detail: dict[str, Any]
    decision: str | None
    decided_on: str | None
    message_id: str | None
    seen_at: datetime


def held(engine: Engine) -> dict[str, Held]:
    with reading(engine) as conn:
        rows = conn.execute(select(P.c.code, P.c.version, P.c.digest, P.c.published, P.c.content)).all()
    return {r.code: Held(r.version, r.digest, bool(r.published), orjson.loads(r.content)) for r in rows}


def write(conn: Connection, v: Version) -> None:
    """The version and its history row, in ``conn``'s transaction. A version that another run wrote
    meanwhile makes the history insert fail (unique code+version): the whole transaction rolls back."""
    values = {"name": v.content["name"], "published": int(v.content["published"]), "version": v.version,
              "digest": v.digest, "content": dumps(v.content), "updated_at": v.seen_at}
    if v.version == 1:
        conn.execute(P.insert().values(code=v.code, **values))
    elif not conn.execute(update(P).where(P.c.code == v.code, P.c.version == v.version - 1).values(**values)).rowcount:
        raise RuntimeError(f"procedure {v.code}: version {v.version - 1} is no longer the latest (another sync ran)")
    conn.execute(H.insert().values(code=v.code, version=v.version, seen_at=v.seen_at, changes=",".join(v.changes),
                                   fee_channels=",".join(str(c) for c in v.fee_channels), detail=dumps(v.detail),
                                   decision=v.decision, decided_on=v.decided_on, message_id=v.message_id))


def replace_directory(engine: Engine, table: Any, rows: list[dict[str, Any]], now: datetime) -> int:
    """Upsert an agency or field directory (``code, name`` and one more column); how many rows changed."""
    changed = 0
    with engine.begin() as conn:
        current = {r.code: tuple(r) for r in conn.execute(select(table)).all()}
        for row in rows:
            found = current.get(row["code"])
            if found is None:
                conn.execute(table.insert().values(**row, updated_at=now))
                changed += 1
            elif found[1:-1] != tuple(row[k] for k in list(row)[1:]):
                conn.execute(update(table).where(table.c.code == row["code"]).values(**row, updated_at=now))
                changed += 1
    return changed


def version_mark(engine: Engine) -> int:
    """A number that changes whenever the catalogue held changes (the last history row's id); 0: never synced."""
    with reading(engine) as conn:
        return int(conn.execute(select(func.max(H.c.id))).scalar() or 0)


def history(engine: Engine, code: str) -> list[dict[str, Any]]:
    with reading(engine) as conn:
        rows = conn.execute(select(H).where(H.c.code == code).order_by(H.c.version)).mappings().all()
    return [{**dict(r), "detail": orjson.loads(r["detail"] or "{}")} for r in rows]


def procedure(engine: Engine, code: str) -> dict[str, Any] | None:
    with reading(engine) as conn:
        row = conn.execute(select(P).where(P.c.code == code)).mappings().first()
    return None if row is None else {**dict(row), "content": orjson.loads(row["content"])}
