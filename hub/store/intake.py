"""Accepting messages: one transaction writes each message and one delivery row per destination.

This is the transactional outbox: once :func:`accept` returns, the message and its deliveries are
committed together, and the worker side will deliver them whatever happens to Redis afterwards.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Literal, Sequence, cast

import orjson
from sqlalchemy import Connection, Engine, Table, insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError

from hub.store.tables import PENDING, deliveries, messages


@dataclass(frozen=True, slots=True)
class Prepared:
    """A validated message ready to store: its canonical body, digest and routed destinations."""

    source: str
    message_id: str
    type: str
    dossier_code: str | None  #: None for a notice (no dossier)
    occurred_at: datetime
    body: str
    body_sha256: str
    destinations: tuple[str, ...]
    order_key: str = ""  #: what the outbox keeps in order (the dossier code, or a notice's subject)

    @classmethod
    def of(cls, msg: Any, canonical: dict[str, Any], destinations: Sequence[str]) -> "Prepared":
        """A validated canonical message (``hub.messages.models``; ``canonical``: its JSON dump) routed to
        ``destinations``."""
        body = orjson.dumps(canonical, option=orjson.OPT_SORT_KEYS)
        return cls(source=msg.source, message_id=msg.message_id, type=msg.type, dossier_code=msg.dossier,
                   occurred_at=msg.occurred_at, body=body.decode(), body_sha256=hashlib.sha256(body).hexdigest(),
                   destinations=tuple(destinations), order_key=msg.order_key)


@dataclass(slots=True)
class Receipt:
    """What the hub promises back: the message is stored and will go to these destinations."""

    message_id: str
    source: str
    type: str
    dossier_code: str | None
    accepted_at: datetime
    deliveries: list[tuple[int, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The receipt as the API shows it."""
        return {
            "message_id": self.message_id,
            "source": self.source,
            "type": self.type,
            "dossier_code": self.dossier_code,
            "accepted_at": self.accepted_at.isoformat(),
            "destinations": [d for _, d in self.deliveries],
            "deliveries": [{"id": i, "destination": d} for i, d in self.deliveries],
        }


Verdict = Literal["created", "duplicate", "conflict"]


class StoreUnavailable(RuntimeError):
    """The group was not stored (the database or the intake's writer process failed); the caller may
    resend. The edge answers it 503 ``store-unavailable`` (``hub/edge/problems.py``)."""


@dataclass(frozen=True, slots=True)
class IntakeResult:
    """``created``: stored now; ``duplicate``: same id and body seen before; ``conflict``: same id, other body."""

    verdict: Verdict
    receipt: Receipt


def accept(engine: Engine, items: Sequence[Prepared], now: datetime | None = None,
           then: Callable[[Connection, list[IntakeResult]], None] | None = None) -> list[IntakeResult]:
    """Store ``items`` in one transaction and return a result per item; ``then(conn, results)``, when
    given, writes more in that same transaction (a feed's own rows and its cursor: all or nothing).

    The same ``(source, message_id)`` again answers the original receipt and stores nothing new.
    """
    now = now or datetime.now(timezone.utc)
    try:
        with engine.begin() as conn:
            results = _accept(conn, items, now, optimistic=True)
            if then is not None:
                then(conn, results)
            return results
    except IntegrityError:
        # A message id already stored (or stored concurrently): take the careful path.
        with engine.begin() as conn:
            results = _accept(conn, items, now, optimistic=False)
            if then is not None:
                then(conn, results)
            return results


def _accept(conn: Connection, items: Sequence[Prepared], now: datetime, optimistic: bool) -> list[IntakeResult]:
    known: dict[tuple[str, str], tuple[str, Receipt]] = {} if optimistic else _existing(conn, items)
    results: list[IntakeResult | None] = [None] * len(items)
    fresh: list[int] = []
    for i, item in enumerate(items):
        key = (item.source, item.message_id)
        if key in known:
            sha, receipt = known[key]
            results[i] = IntakeResult("duplicate" if sha == item.body_sha256 else "conflict", receipt)
            continue
        fresh.append(i)
        known[key] = (item.body_sha256, _receipt(item, now))
        results[i] = IntakeResult("created", known[key][1])
    done = cast(list[IntakeResult], results)  # the loop above filled every slot
    if fresh:
        _insert(conn, [items[i] for i in fresh], [done[i].receipt for i in fresh], now)
    return done


def _receipt(item: Prepared, now: datetime) -> Receipt:
    return Receipt(item.message_id, item.source, item.type, item.dossier_code, now)


def _insert(conn: Connection, items: list[Prepared], receipts: list[Receipt], now: datetime) -> None:
    pks = insert_rows(conn, messages, [
        {
            "source": it.source,
            "message_id": it.message_id,
            "type": it.type,
            "dossier_code": it.dossier_code,
            "occurred_at": it.occurred_at,
            "received_at": now,
            "body_sha256": it.body_sha256,
            "body": it.body,
        }
        for it in items
    ])
    targets = [(receipt, dest) for it, receipt in zip(items, receipts) for dest in it.destinations]
    if not targets:
        return
    ids = insert_rows(conn, deliveries, [
        {
            "message_pk": pk,
            "destination": dest,
            "order_key": it.order_key or it.dossier_code,
            "state": PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for pk, it in zip(pks, items)
        for dest in it.destinations
    ])
    for delivery_id, (receipt, dest) in zip(ids, targets):
        receipt.deliveries.append((delivery_id, dest))


def insert_rows(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` into ``table`` in one statement batch; return their ids in row order.

    SQLite gets a plain ``executemany`` (SQLAlchemy's RETURNING in row order would insert row by
    row there, and its per-row processing was most of the intake's database cost): inside our
    ``BEGIN IMMEDIATE`` no one else writes, so the new rowids are consecutive and end at
    ``last_insert_rowid()``. Datetimes are written as SQLAlchemy's SQLite dialect writes them
    (naive UTC text, see UtcDateTime). Other databases use RETURNING in row order.
    """
    if conn.dialect.name != "sqlite":
        stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        return list(conn.execute(stmt, rows).scalars())
    columns = list(rows[0])
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    texts: dict[datetime, str] = {}  # the same instants recur in every row

    def value(v: Any) -> Any:
        if isinstance(v, datetime):
            if v not in texts:
                texts[v] = v.astimezone(timezone.utc).replace(tzinfo=None).isoformat(" ", "microseconds")
            return texts[v]
        return v

    # Straight on the DBAPI cursor, inside SQLAlchemy's transaction: its per-statement execution
    # context cost more than SQLite's own work here.
    cursor = conn.connection.cursor()
    try:
        cursor.executemany(sql, [tuple(value(row[c]) for c in columns) for row in rows])
        last = cursor.execute("SELECT last_insert_rowid()").fetchone()[0]
    except conn.dialect.loaded_dbapi.Error as exc:  # as SQLAlchemy would have raised it (IntegrityError, ...)
        raise DBAPIError.instance(sql, None, exc, conn.dialect.loaded_dbapi.Error) from exc
    finally:
        cursor.close()
    return list(range(last - len(rows) + 1, last + 1))


def _existing(conn: Connection, items: Sequence[Prepared]) -> dict[tuple[str, str], tuple[str, Receipt]]:
    """Messages already stored under the items' ids, with their original receipts."""
    by_source: dict[str, list[str]] = {}
    for it in items:
        by_source.setdefault(it.source, []).append(it.message_id)
    found: dict[tuple[str, str], tuple[str, Receipt]] = {}
    for source, ids in by_source.items():
        rows = conn.execute(
            select(messages.c.id, messages.c.message_id, messages.c.type, messages.c.dossier_code,
                   messages.c.received_at, messages.c.body_sha256)
            .where(messages.c.source == source, messages.c.message_id.in_(ids))
        ).all()
        by_pk: dict[int, Receipt] = {}
        for r in rows:
            receipt = Receipt(r.message_id, source, r.type, r.dossier_code, r.received_at)
            by_pk[r.id] = receipt
            found[(source, r.message_id)] = (r.body_sha256, receipt)
        if by_pk:
            for d in conn.execute(
                select(deliveries.c.id, deliveries.c.message_pk, deliveries.c.destination)
                .where(deliveries.c.message_pk.in_(list(by_pk)))
                .order_by(deliveries.c.id)
            ):
                by_pk[d.message_pk].deliveries.append((d.id, d.destination))
    return found
