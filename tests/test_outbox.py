"""Outbox rules on both databases: per-dossier order, retry schedule, dead letters, leases, replay."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from hub.access.principal import Principal
from hub.edge.prepare import prepare
from hub.routing import parse
from hub.seam import Outcome
from hub.store import outbox
from hub.store.intake import accept
from hub.store.outbox import retry_delay, utcnow
from hub.store.tables import deliveries
from tests.conftest import Hub
from tests.factories import status_changed

ROUTES = parse({"routes": [{"type": "*", "source": "motcua", "to": ["national_dvc"]}]})
MOTCUA = Principal("motcua", "one_stop", 1)


def put(hub: Hub, *msgs: dict) -> list[int]:
    results = accept(hub.engine, [prepare(m, MOTCUA, ROUTES) for m in msgs])
    return [r.receipt.deliveries[0][0] for r in results]


def claim(hub: Hub, limit: int = 50, now=None) -> list[int]:
    return [c.id for c in outbox.claim(hub.engine, "national_dvc", limit, 30, now)]


def test_only_the_head_of_each_dossier_is_claimed(hub: Hub) -> None:
    a1, a2, b1 = put(hub, status_changed(seq=1, step=1), status_changed(seq=1, step=2), status_changed(seq=2, step=1))
    assert claim(hub) == [a1, b1]
    assert claim(hub) == []  # a2 waits while a1 is being sent


def test_next_of_a_dossier_is_claimable_once_the_head_is_delivered(hub: Hub) -> None:
    a1, a2 = put(hub, status_changed(step=1), status_changed(step=2))
    [c] = outbox.claim(hub.engine, "national_dvc", 50, 30)
    outbox.settle(hub.engine, [(c, Outcome.ok(), 1)], [1.0], 0)
    assert claim(hub) == [a2]


def test_transient_failure_retries_after_backoff_and_blocks_the_dossier(hub: Hub) -> None:
    a1, a2 = put(hub, status_changed(step=1), status_changed(step=2))
    [c] = outbox.claim(hub.engine, "national_dvc", 50, 30)
    counts = outbox.settle(hub.engine, [(c, Outcome.transient("timeout"), 1)], [10.0], 0)
    assert counts["retrying"] == 1
    assert claim(hub) == []  # neither a1 (not due) nor a2 (behind a1)
    assert claim(hub, now=utcnow() + timedelta(seconds=11)) == [a1]


def test_delivery_is_dead_after_the_last_retry(hub: Hub) -> None:
    [a1] = put(hub, status_changed())
    later = utcnow()
    for _ in range(2):
        [c] = outbox.claim(hub.engine, "national_dvc", 50, 30, later)
        outbox.settle(hub.engine, [(c, Outcome.transient("503"), 1)], [0.0], 0, later)
        later += timedelta(seconds=1)
    dead = outbox.replay(hub.engine, destination="national_dvc")
    assert dead == [(a1, "national_dvc")]


def test_permanent_rejection_goes_straight_to_dead_letters_and_does_not_block(hub: Hub) -> None:
    a1, a2 = put(hub, status_changed(step=1), status_changed(step=2))
    [c] = outbox.claim(hub.engine, "national_dvc", 50, 30)
    counts = outbox.settle(hub.engine, [(c, Outcome.permanent("02: TrangThai invalid"), 1)], [1.0, 2.0], 0)
    assert counts["dead"] == 1
    assert claim(hub) == [a2]


def test_expired_lease_is_taken_back(hub: Hub) -> None:
    [a1] = put(hub, status_changed())
    assert [c.id for c in outbox.claim(hub.engine, "national_dvc", 50, 0.01)] == [a1]
    later = utcnow() + timedelta(seconds=1)
    assert outbox.reclaim_expired(hub.engine, later) == 1
    assert claim(hub, now=later) == [a1]


def test_replay_of_a_dead_delivery_sends_it_again(hub: Hub) -> None:
    [a1] = put(hub, status_changed())
    [c] = outbox.claim(hub.engine, "national_dvc", 50, 30)
    outbox.settle(hub.engine, [(c, Outcome.permanent("bad"), 1)], [1.0], 0)
    assert outbox.replay(hub.engine, [a1]) == [(a1, "national_dvc")]
    [again] = outbox.claim(hub.engine, "national_dvc", 50, 30)
    assert again.id == a1 and again.attempt == 1


@pytest.mark.parametrize("attempt,expected", [(1, 1.0), (2, 5.0), (3, 30.0), (4, None)])
def test_retry_delay_follows_the_schedule(attempt: int, expected: float | None) -> None:
    assert retry_delay(attempt, [1.0, 5.0, 30.0], 0.0) == expected


def test_retry_delay_jitter_stays_within_its_fraction() -> None:
    delays = {retry_delay(1, [10.0], 0.2) for _ in range(200)}
    assert all(8.0 <= d <= 12.0 for d in delays) and len(delays) > 1  # type: ignore[operator]


def test_a_stale_worker_cannot_settle_a_delivery_taken_back_and_resent(hub: Hub) -> None:
    [a1] = put(hub, status_changed())
    [stale] = outbox.claim(hub.engine, "national_dvc", 50, 0.01)
    later = utcnow() + timedelta(seconds=1)
    outbox.reclaim_expired(hub.engine, later)
    [fresh] = outbox.claim(hub.engine, "national_dvc", 50, 30, later)
    assert fresh.attempt == stale.attempt + 1
    outbox.settle(hub.engine, [(stale, Outcome.permanent("late answer"), 1)], [1.0], 0)
    assert outbox.replay(hub.engine, [a1]) == [], "the stale outcome must not kill the resent delivery"
    outbox.settle(hub.engine, [(fresh, Outcome.ok(), 1)], [1.0], 0)
    with hub.engine.connect() as conn:
        state = conn.execute(select(deliveries.c.state).where(deliveries.c.id == a1)).scalar_one()
    assert state == "delivered", "the current owner's outcome is the one recorded"


def test_settling_a_chunk_renews_the_lease_of_the_rest_of_the_claim(hub: Hub) -> None:
    put(hub, status_changed(seq=1), status_changed(seq=2))
    first, second = outbox.claim(hub.engine, "national_dvc", 50, 0.5)
    outbox.settle(hub.engine, [(first, Outcome.ok(), 1)], [1.0], 0, still_held=[second], lease_seconds=30)
    assert outbox.reclaim_expired(hub.engine, utcnow() + timedelta(seconds=5)) == 0
