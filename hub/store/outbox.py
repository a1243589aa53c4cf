"""The worker's side of the outbox: claim due deliveries, settle their outcomes, recover orphans.

Ordering rule: a delivery is claimable only when no earlier delivery of the same
``(destination, order_key)`` (order key = dossier code) is still open (pending, retrying or being
sent). So deliveries of one dossier to one destination take effect in acceptance order, while
different dossiers proceed in parallel. Dead deliveries do not block the ones behind them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Sequence

from sqlalchemy import Engine, and_, bindparam, exists, insert, select, update
from sqlalchemy.orm import aliased

from hub.messages.outcome import Outcome
from hub.store.engine import is_sqlite, reading
from hub.store.tables import (
    DEAD,
    DELIVERED,
    OPEN_STATES,
    PENDING,
    RETRYING,
    SENDING,
    WAITING_STATES,
    deliveries,
    delivery_attempts,
    messages,
)


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery leased to this worker, with the message body to send."""

    id: int
    attempt: int
    body: str


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def claim(engine: Engine, destination: str, limit: int, lease_seconds: float, now: datetime | None = None) -> list[Claimed]:
    """Lease up to ``limit`` due deliveries to ``destination`` that are at the head of their dossier.

    Leased deliveries move to ``sending`` with ``attempts`` incremented; the lease lets the relay
    take them back if this worker dies.
    """
    now = now or utcnow()
    earlier = aliased(deliveries)
    head = ~exists().where(
        earlier.c.destination == deliveries.c.destination,
        earlier.c.order_key == deliveries.c.order_key,
        earlier.c.id < deliveries.c.id,
        earlier.c.state.in_(OPEN_STATES),
    )
    pick = (
        select(deliveries.c.id)
        .where(
            deliveries.c.destination == destination,
            deliveries.c.state.in_(WAITING_STATES),
            deliveries.c.next_attempt_at <= now,
            head,
        )
        .order_by(deliveries.c.id)
        .limit(limit)
    )
    if not is_sqlite(engine):
        pick = pick.with_for_update(skip_locked=True)
    stmt = (
        update(deliveries)
        .where(deliveries.c.id.in_(pick.scalar_subquery()), deliveries.c.state.in_(WAITING_STATES))
        .values(
            state=SENDING,
            attempts=deliveries.c.attempts + 1,
            lease_until=now + timedelta(seconds=lease_seconds),
            updated_at=now,
        )
        .returning(deliveries.c.id, deliveries.c.attempts, deliveries.c.message_pk)
    )
    with engine.begin() as conn:
        leased = conn.execute(stmt).all()
        if not leased:
            return []
        bodies = {
            row.id: row.body
            for row in conn.execute(
                select(messages.c.id, messages.c.body).where(messages.c.id.in_([r.message_pk for r in leased]))
            )
        }
    return sorted((Claimed(r.id, r.attempts, bodies[r.message_pk]) for r in leased), key=lambda c: c.id)


def retry_delay(attempt: int, schedule: Sequence[float], jitter: float) -> float | None:
    """Seconds to wait after failed ``attempt`` (1-based), or None when the schedule is spent."""
    if attempt > len(schedule):
        return None
    base = schedule[attempt - 1]
    return base * (1 + random.uniform(-jitter, jitter))


def settle(
    engine: Engine,
    results: Sequence[tuple[Claimed, Outcome, int]],
    schedule: Sequence[float],
    jitter: float,
    now: datetime | None = None,
    still_held: Sequence[Claimed] = (),
    lease_seconds: float = 0.0,
) -> dict[str, int]:
    """Record each ``(claimed, outcome, duration_ms)`` and move the delivery to its next state.

    ``ok`` → delivered; ``permanent`` → dead with the partner's reason; ``transient`` → retrying
    after the schedule's delay, or dead once the schedule is spent. A delivery whose lease was
    taken back meanwhile (its attempt number moved on) is left to its new owner. ``still_held``
    deliveries, claimed but not sent yet, get their lease renewed in the same transaction.
    Returns counts per intended new state (for the log; stale rows are skipped silently).
    """
    now = now or utcnow()
    rows = []
    counts = {DELIVERED: 0, RETRYING: 0, DEAD: 0}
    for claimed, outcome, _ in results:
        if outcome.kind == "ok":
            state, next_at, delivered_at, error = DELIVERED, now, now, None
        elif outcome.kind == "permanent":
            state, next_at, delivered_at, error = DEAD, now, None, f"permanent: {outcome.detail}"
        else:
            delay = retry_delay(claimed.attempt, schedule, jitter)
            if delay is None:
                state, next_at, error = DEAD, now, f"retries exhausted: {outcome.detail}"
            else:
                state, next_at, error = RETRYING, now + timedelta(seconds=delay), f"transient: {outcome.detail}"
            delivered_at = None
        counts[state] += 1
        rows.append(
            {"b_id": claimed.id, "b_attempt": claimed.attempt, "b_state": state, "b_next": next_at,
             "b_delivered": delivered_at, "b_error": error}
        )
    stmt = (
        update(deliveries)
        .where(
            deliveries.c.id == bindparam("b_id"),
            deliveries.c.state == SENDING,
            deliveries.c.attempts == bindparam("b_attempt"),
        )
        .values(
            state=bindparam("b_state"),
            next_attempt_at=bindparam("b_next"),
            delivered_at=bindparam("b_delivered"),
            last_error=bindparam("b_error"),
            lease_until=None,
            updated_at=now,
        )
    )
    attempts = [
        {
            "delivery_id": c.id,
            "attempt": c.attempt,
            "at": now,
            "outcome": o.kind,
            "detail": o.detail[:2000],
            "duration_ms": ms,
        }
        for c, o, ms in results
    ]
    with engine.begin() as conn:
        conn.execute(stmt, rows)
        conn.execute(insert(delivery_attempts), attempts)
        if still_held:
            conn.execute(
                update(deliveries)
                .where(deliveries.c.id.in_([c.id for c in still_held]), deliveries.c.state == SENDING)
                .values(lease_until=now + timedelta(seconds=lease_seconds))
            )
    return counts


def release(engine: Engine, claimed: Sequence[Claimed], until: datetime) -> None:
    """Give leased deliveries back untried (e.g. the circuit opened): no attempt is counted."""
    if not claimed:
        return
    with engine.begin() as conn:
        conn.execute(
            update(deliveries)
            .where(deliveries.c.id.in_([c.id for c in claimed]), deliveries.c.state == SENDING)
            .values(state=PENDING, attempts=deliveries.c.attempts - 1, lease_until=None, next_attempt_at=until)
        )


def reclaim_expired(engine: Engine, now: datetime | None = None) -> int:
    """Put deliveries whose worker lease ran out (the worker died) back to pending; return how many."""
    now = now or utcnow()
    with engine.begin() as conn:
        return conn.execute(
            update(deliveries)
            .where(deliveries.c.state == SENDING, deliveries.c.lease_until < now)
            .values(state=PENDING, lease_until=None, next_attempt_at=now, updated_at=now)
        ).rowcount


def due_destinations(engine: Engine, now: datetime | None = None) -> list[str]:
    """Destinations that have at least one delivery waiting and due now."""
    now = now or utcnow()
    with reading(engine) as conn:
        return list(
            conn.execute(
                select(deliveries.c.destination)
                .where(deliveries.c.state.in_(WAITING_STATES), deliveries.c.next_attempt_at <= now)
                .group_by(deliveries.c.destination)
            ).scalars()
        )


def replay(
    engine: Engine, ids: Sequence[int] | None = None, destination: str | None = None, now: datetime | None = None
) -> list[tuple[int, str]]:
    """Send dead deliveries again (by id, or all dead ones of ``destination``); returns (id, destination).

    Their attempt history is kept; the retry schedule starts over.
    """
    now = now or utcnow()
    cond = [deliveries.c.state == DEAD]
    if ids is not None:
        cond.append(deliveries.c.id.in_(list(ids)))
    if destination is not None:
        cond.append(deliveries.c.destination == destination)
    with engine.begin() as conn:
        return [
            (r.id, r.destination)
            for r in conn.execute(
                update(deliveries)
                .where(and_(*cond))
                .values(state=PENDING, attempts=0, next_attempt_at=now, last_error=None, updated_at=now)
                .returning(deliveries.c.id, deliveries.c.destination)
            )
        ]
