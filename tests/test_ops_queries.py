"""The operators' read queries on both databases: the backlog and its lag, deliveries of the last
minute, the latest failure per destination, throughput in 5-minute buckets, dead letters filtered,
message search newest first, what a replay became."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import update

from hub.access.principal import Principal
from hub.edge.prepare import prepare
from hub.routing import parse
from hub.seam import Outcome
from hub.store import outbox, queries
from hub.store.intake import accept
from hub.store.tables import deliveries
from tests.conftest import Hub
from tests.factories import dossier_code, status_changed, submitted

ROUTES = parse({"routes": [{"type": "*", "source": "motcua", "to": ["national_dvc"]}]})
MOTCUA = Principal("motcua", "one_stop", 1)
UTC = timezone.utc


def put(hub: Hub, *msgs: dict, now: datetime | None = None) -> list[int]:
    results = accept(hub.engine, [prepare(m, MOTCUA, ROUTES) for m in msgs], now=now)
    return [r.receipt.deliveries[0][0] for r in results]


def settle_all(hub: Hub, outcome: Outcome, now: datetime) -> list[int]:
    claimed = outbox.claim(hub.engine, "national_dvc", 100, 30, now)
    outbox.settle(hub.engine, [(c, outcome, 3) for c in claimed], [60.0], 0, now=now)
    return [c.id for c in claimed]


def test_backlog_counts_each_state_and_the_lag_of_the_oldest_due_delivery(hub: Hub) -> None:
    now = datetime.now(UTC)
    put(hub, submitted(seq=1), submitted(seq=2), now=now - timedelta(seconds=30))
    found = queries.backlog(hub.engine, now)
    assert found.counts == {"national_dvc": {"pending": 2}}
    assert 29 <= found.lag["national_dvc"] <= 31
    settle_all(hub, Outcome.transient("timeout"), now)  # both retry in a minute: none due, no lag
    later = queries.backlog(hub.engine, now)
    assert later.counts == {"national_dvc": {"retrying": 2}} and later.lag["national_dvc"] == 0.0


def test_delivered_since_counts_only_the_window(hub: Hub) -> None:
    now = datetime.now(UTC)
    put(hub, submitted(seq=1), submitted(seq=2), now=now - timedelta(minutes=9))
    settle_all(hub, Outcome.ok(), now - timedelta(minutes=5))
    put(hub, submitted(seq=3), now=now - timedelta(minutes=1))
    settle_all(hub, Outcome.ok(), now - timedelta(seconds=10))
    assert queries.delivered_since(hub.engine, now - timedelta(minutes=1)) == {"national_dvc": 1}
    assert queries.delivered_since(hub.engine, now - timedelta(minutes=10)) == {"national_dvc": 3}


def test_last_failures_gives_each_destinations_latest_failed_attempt(hub: Hub) -> None:
    now = datetime.now(UTC)
    put(hub, submitted(seq=1), submitted(seq=2), now=now - timedelta(minutes=9))
    settle_all(hub, Outcome.transient("first"), now - timedelta(minutes=3))  # retried a minute later
    settle_all(hub, Outcome.permanent("second"), now)
    found = queries.last_failures(hub.engine, now - timedelta(hours=1))
    assert set(found) == {"national_dvc"} and found["national_dvc"]["detail"] == "second"
    assert found["national_dvc"]["outcome"] == "permanent"
    assert queries.last_failures(hub.engine, now + timedelta(minutes=1)) == {}


def test_throughput_counts_per_five_minute_bucket_with_empty_buckets(hub: Hub) -> None:
    now = datetime(2026, 11, 23, 10, 2, 30, tzinfo=UTC)
    put(hub, submitted(seq=1), submitted(seq=2), now=now - timedelta(minutes=20))
    settle_all(hub, Outcome.transient("down"), now - timedelta(minutes=16))  # bucket 09:45
    settle_all(hub, Outcome.ok(), now - timedelta(minutes=1))  # bucket 10:00
    chart = queries.throughput(hub.engine, 1, 300, now)
    assert len(chart.times) == 12 and chart.times[-1] == int(datetime(2026, 11, 23, 10, 0, tzinfo=UTC).timestamp())
    assert chart.times[1] - chart.times[0] == 300
    assert chart.delivered["national_dvc"][-1] == 2 and sum(chart.delivered["national_dvc"]) == 2
    at_0945 = chart.times.index(int(datetime(2026, 11, 23, 9, 45, tzinfo=UTC).timestamp()))
    assert chart.failed["national_dvc"][at_0945] == 2 and sum(chart.failed["national_dvc"]) == 2
    assert queries.throughput(hub.engine, 1, 300, now + timedelta(hours=3)).delivered == {}


def test_dead_letters_filter_by_type_reason_and_time_and_page_by_id(hub: Hub) -> None:
    now = datetime.now(UTC)
    put(hub, submitted(seq=1), status_changed(seq=1, step=1), submitted(seq=2), now=now - timedelta(minutes=1))
    [a, b] = settle_all(hub, Outcome.permanent("MaHoSo 100% sai_x"), now)
    [c] = settle_all(hub, Outcome.permanent("TrangThai sai"), now)
    assert [d["id"] for d in queries.dead_letters(hub.engine)] == [a, c, b]
    assert [d["id"] for d in queries.dead_letters(hub.engine, type="status.changed")] == [c]
    assert [d["id"] for d in queries.dead_letters(hub.engine, reason="100% SAI_X")] == [a, b]
    assert queries.dead_letters(hub.engine, reason="100%% sai") == [], "LIKE's wildcards are taken literally"
    assert [d["id"] for d in queries.dead_letters(hub.engine, after_id=a, limit=1)] == [c]
    with hub.engine.begin() as conn:
        conn.execute(update(deliveries).where(deliveries.c.id == a).values(updated_at=now - timedelta(days=2)))
    assert [d["id"] for d in queries.dead_letters(hub.engine, died_from=now - timedelta(days=1))] == [c, b]
    assert [d["id"] for d in queries.dead_letters(hub.engine, died_to=now - timedelta(days=1))] == [a]
    [row] = queries.dead_letters(hub.engine, type="status.changed")
    assert row["dossier_code"] == dossier_code(1) and row["attempts"] == 1 and row["died_at"]


def test_search_messages_newest_first_by_keyset_with_their_delivery_states(hub: Hub) -> None:
    now = datetime.now(UTC)
    put(hub, submitted(seq=1), submitted(seq=2), now=now - timedelta(hours=2))
    put(hub, status_changed(seq=1), now=now)
    every = queries.search_messages(hub.engine, queries.MessageSearch())
    assert [m["dossier_code"] for m in every] == [dossier_code(1), dossier_code(2), dossier_code(1)]
    assert every[0]["deliveries"][0]["state"] == "pending"
    older = queries.search_messages(hub.engine, queries.MessageSearch(), before_id=every[0]["id"], limit=1)
    assert [m["id"] for m in older] == [every[1]["id"]]
    assert [m["type"] for m in queries.search_messages(hub.engine, queries.MessageSearch(type="status.changed"))] == ["status.changed"]
    by_code = queries.search_messages(hub.engine, queries.MessageSearch(dossier_code=dossier_code(2)))
    assert [m["dossier_code"] for m in by_code] == [dossier_code(2)]
    recent = queries.search_messages(hub.engine, queries.MessageSearch(received_from=now - timedelta(hours=1)))
    assert [m["type"] for m in recent] == ["status.changed"]
    assert queries.search_messages(hub.engine, queries.MessageSearch(source="national_payment")) == []


def test_a_replay_is_found_by_ids_or_by_destination_and_moment(hub: Hub) -> None:
    earlier = datetime.now(UTC) - timedelta(minutes=5)
    put(hub, submitted(seq=1), submitted(seq=2), now=earlier)
    dead = settle_all(hub, Outcome.permanent("no"), earlier)
    at = datetime.now(UTC)
    assert sorted(i for i, _ in outbox.replay(hub.engine, None, "national_dvc", now=at)) == dead
    put(hub, submitted(seq=3))  # made after the replay: not part of it
    assert [d["id"] for d in queries.deliveries_changed_since(hub.engine, "national_dvc", at)] == dead
    [one] = queries.deliveries_by_id(hub.engine, [dead[0], 999_999])
    assert one["state"] == "pending" and one["type"] == "dossier.submitted" and one["dossier_code"] == dossier_code(1)


def test_the_trace_names_each_messages_dossier_status(hub: Hub) -> None:
    put(hub, submitted(seq=1), status_changed(seq=1, status=2))
    assert [m.get("status") for m in queries.trace(hub.engine, dossier_code(1))] == [1, 2]
