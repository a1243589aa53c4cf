"""Read-only views for the API and CLI: a message's deliveries, a dossier's trace, dead letters."""

from __future__ import annotations

from typing import Any, Sequence

import orjson
from sqlalchemy import Engine, Table, func, or_, select

from hub.messages.postal import postal_states
from hub.store.engine import reading
from hub.store.tables import DEAD, deliveries, delivery_attempts, messages


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _delivery_view(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "destination": row.destination,
        "state": row.state,
        "attempts": row.attempts,
        "next_attempt_at": _iso(row.next_attempt_at),
        "delivered_at": _iso(row.delivered_at),
        "last_error": row.last_error,
    }


def _deliveries_of(engine: Engine, message_pks: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {pk: [] for pk in message_pks}
    if not message_pks:
        return out
    with reading(engine) as conn:
        for row in conn.execute(
            select(deliveries).where(deliveries.c.message_pk.in_(list(message_pks))).order_by(deliveries.c.id)
        ):
            out[row.message_pk].append(_delivery_view(row))
    return out


def _message_view(row: Any, dels: list[dict[str, Any]], with_body: bool) -> dict[str, Any]:
    view = {
        "message_id": row.message_id,
        "source": row.source,
        "type": row.type,
        "dossier_code": row.dossier_code,
        "occurred_at": _iso(row.occurred_at),
        "accepted_at": _iso(row.received_at),
        "deliveries": dels,
    }
    if with_body:
        view["message"] = orjson.loads(row.body)
    elif row.type.startswith("postal."):  # the trace names each postal step: what the operator said, where
        payload = orjson.loads(row.body).get("payload", {})
        view["postal"] = {k: payload.get(k) for k in ("leg", "order_number", "waybill", "at", "post_office",
                                                      "operator_code", "operator_meaning", "recognised")}
    return view


def find_messages(engine: Engine, message_id: str, source: str | None = None) -> list[dict[str, Any]]:
    """Messages stored under ``message_id`` (one per source), with delivery state and body."""
    q = select(messages).where(messages.c.message_id == message_id)
    if source:
        q = q.where(messages.c.source == source)
    with reading(engine) as conn:
        rows = conn.execute(q.order_by(messages.c.id)).all()
    dels = _deliveries_of(engine, [r.id for r in rows])
    return [_message_view(r, dels[r.id], with_body=True) for r in rows]


def trace(engine: Engine, dossier_code: str, viewer: str | None = None) -> list[dict[str, Any]]:
    """Every message of a dossier across partners, in the order the events occurred.

    ``viewer`` (a partner code) limits the trace to messages it sent or that were routed to it;
    ``None`` shows everything (operators).
    """
    q = select(messages).where(messages.c.dossier_code == dossier_code)
    if viewer is not None:
        routed_to_viewer = select(deliveries.c.message_pk).where(deliveries.c.destination == viewer)
        q = q.where(or_(messages.c.source == viewer, messages.c.id.in_(routed_to_viewer)))
    with reading(engine) as conn:
        rows = conn.execute(q.order_by(messages.c.occurred_at, messages.c.id)).all()
    dels = _deliveries_of(engine, [r.id for r in rows])
    return [_message_view(r, dels[r.id], with_body=False) for r in rows]


def dossier_postal(engine: Engine, dossier_code: str) -> dict[str, Any]:
    """The dossier's derived pickup and result-by-post states (hub/messages/postal.py), from all its messages."""
    with reading(engine) as conn:
        bodies = conn.execute(select(messages.c.body).where(messages.c.dossier_code == dossier_code)
                              .order_by(messages.c.occurred_at, messages.c.id)).scalars().all()
    return postal_states(orjson.loads(b) for b in bodies)


def dead_letters(engine: Engine, destination: str | None = None, after_id: int = 0, limit: int = 100) -> list[dict[str, Any]]:
    """Dead deliveries, oldest first, paged by delivery id."""
    q = (
        select(deliveries, messages.c.message_id, messages.c.source, messages.c.type, messages.c.dossier_code)
        .join(messages, messages.c.id == deliveries.c.message_pk)
        .where(deliveries.c.state == DEAD, deliveries.c.id > after_id)
        .order_by(deliveries.c.id)
        .limit(limit)
    )
    if destination:
        q = q.where(deliveries.c.destination == destination)
    with reading(engine) as conn:
        return [
            {
                **_delivery_view(r),
                "message_id": r.message_id,
                "source": r.source,
                "type": r.type,
                "dossier_code": r.dossier_code,
            }
            for r in conn.execute(q)
        ]


def delivery_detail(engine: Engine, delivery_id: int) -> dict[str, Any] | None:
    """One delivery with its message and every attempt made, or None."""
    with reading(engine) as conn:
        row = conn.execute(select(deliveries).where(deliveries.c.id == delivery_id)).first()
        if row is None:
            return None
        msg = conn.execute(select(messages).where(messages.c.id == row.message_pk)).one()
        attempts = conn.execute(
            select(delivery_attempts).where(delivery_attempts.c.delivery_id == delivery_id).order_by(delivery_attempts.c.id)
        ).all()
    view = _delivery_view(row)
    view["message"] = _message_view(msg, [], with_body=True)
    del view["message"]["deliveries"]
    view["history"] = [
        {"attempt": a.attempt, "at": _iso(a.at), "outcome": a.outcome, "detail": a.detail, "duration_ms": a.duration_ms}
        for a in attempts
    ]
    return view


def state_counts(engine: Engine) -> list[tuple[str, str, int]]:
    """(destination, state, count) for every delivery: the flow at a glance."""
    with reading(engine) as conn:
        return [
            (r[0], r[1], r[2])
            for r in conn.execute(
                select(deliveries.c.destination, deliveries.c.state, func.count())
                .group_by(deliveries.c.destination, deliveries.c.state)
                .order_by(deliveries.c.destination, deliveries.c.state)
            )
        ]


def page_rows(engine: Engine, table: Table, after_id: int, limit: int, **equal: Any) -> list[Any]:
    """Rows of ``table`` with id above ``after_id``, in id order, at most ``limit``; ``equal`` filters
    on columns (a None value means no filter)."""
    query = select(table).where(table.c.id > after_id).order_by(table.c.id).limit(limit)
    for column, value in equal.items():
        if value is not None:
            query = query.where(table.c[column] == value)
    with reading(engine) as conn:
        return list(conn.execute(query).all())
