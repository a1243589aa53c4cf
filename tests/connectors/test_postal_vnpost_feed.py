"""VNPost's tracking feed into the hub (issue #14): read after a durable cursor from the real simulator
over loopback, into canonical postal events and ``postal_events`` rows, on SQLite and PostgreSQL.

Every event is stored exactly once whatever the feed does (repeats, disorder, a page served twice, a
stall, tokens withdrawn), the cursor lives in the database and never moves back, and the mapping
files each event under its dossier with the leg and step it really is."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
from sqlalchemy import Engine, func, select

from connectors.postal_vnpost import records
from connectors.postal_vnpost.events import VIETNAM, dossier_of, event_time, map_events, store
from connectors.postal_vnpost.feed import CURSOR, read_feed
from connectors.postal_vnpost.interface import TrackingEvent
from connectors.postal_vnpost.simulator import UNKNOWN_CODE, create_app
from hub.config import Settings
from hub.context import context
from hub.store.engine import reading
from hub.store.tables import messages, postal_events
from tests.conftest import Hub, make_settings, seed_hub
from tests.support import RedisServer, ThreadedServer

PARTNER = "postal_vnpost"
AGENCY = "000.00.00.H49"


class Sim:
    """The VNPost simulator over loopback, with the controls the tests use."""

    def __init__(self, url: str) -> None:
        self.url = url

    def load(self, orders: int, per_order: int = 4, **extra: Any) -> dict[str, Any]:
        answer = httpx.post(f"{self.url}/_sim/load", json={"orders": orders, "events_per_order": per_order, **extra})
        answer.raise_for_status()
        return answer.json()

    def faults(self, **faults: Any) -> None:
        httpx.post(f"{self.url}/_sim/faults", json=faults).raise_for_status()

    def state(self) -> dict[str, Any]:
        return httpx.get(f"{self.url}/_sim/state").json()

    def partner_settings(self, **extra: Any) -> dict[str, Any]:
        """The hub's settings of partner postal_vnpost pointing at this simulator."""
        return {"token_url": f"{self.url}/oauth/token", "order_url": f"{self.url}/api/orders",
                "cancel_url": f"{self.url}/api/orders/cancel", "tracking_url": f"{self.url}/api/tracking",
                "price_url": f"{self.url}/api/price", **extra}


@pytest.fixture
def sim() -> Iterator[Sim]:
    with ThreadedServer(create_app(speed=0)).start() as server:
        yield Sim(server.url)


@pytest.fixture
def postal_hub(db_url: str, redis_server: RedisServer, tmp_path: Path, sim: Sim) -> Iterator[Hub]:
    settings = make_settings(db_url, redis_server.url, tmp_path,
                             partner_settings={PARTNER: sim.partner_settings(feed_page_size=50)})
    hub = seed_hub(settings, tmp_path)
    yield hub
    hub.engine.dispose()


def ctx_of(settings: Settings) -> Any:
    return context(PARTNER, settings)


def read_until_caught_up(settings: Settings, sim: Sim, runs: int = 12) -> int:
    """Run the job until the cursor is at the feed's last id; how many runs it took."""
    target = sim.state()["last_id"]
    for run in range(1, runs + 1):
        read_feed(ctx_of(settings))
        if ctx_of(settings).cursor(CURSOR).get() == target:
            return run
    raise AssertionError(f"the cursor did not reach {target} in {runs} runs")


def stored_events(engine: Engine) -> list[Any]:
    with reading(engine) as conn:
        return conn.execute(select(postal_events).order_by(postal_events.c.id)).all()


def stored_messages(engine: Engine) -> list[Any]:
    with reading(engine) as conn:
        return conn.execute(select(messages).where(messages.c.source == PARTNER)).all()


def feed_ids(sim: Sim, settings: Settings) -> list[str]:
    """Every id of the simulator's feed, read with a client of its own (faults off)."""
    from connectors.postal_vnpost.client import VnpostClient

    client = VnpostClient.from_context(ctx_of(settings))
    ids: list[str] = []
    last = None
    try:
        while True:
            page = client.track(last, 1000).events
            if not page:
                return ids
            ids.extend(str(e.event_id) for e in page)
            last = ids[-1]
    finally:
        client.close()


def assert_each_event_stored_once(hub: Hub, sim: Sim) -> None:
    sim.faults(duplicate_events=False, out_of_order=False, repeat_page=0, stall=False)
    expected = feed_ids(sim, hub.settings)
    rows = stored_events(hub.engine)
    assert sorted(r.event_id for r in rows) == sorted(expected), "each event of the feed once, none missed"
    ids = [m.message_id for m in stored_messages(hub.engine)]
    assert len(ids) == len(set(ids)) and sorted(ids) == sorted(f"vnpost-{i}" for i in expected)
    assert ctx_of(hub.settings).cursor(CURSOR).get() == expected[-1]


@pytest.mark.parametrize("fault", [{"duplicate_events": True}, {"out_of_order": True}, {"repeat_page": 3},
                                   {"stall": True}, {"expire_tokens": True}],
                         ids=["duplicate_events", "out_of_order", "repeat_page", "stall", "expire_tokens"])
def test_every_event_of_the_feed_is_stored_exactly_once_whatever_the_feed_does(
        postal_hub: Hub, sim: Sim, fault: dict[str, Any]) -> None:
    sim.load(20, 4)
    read_feed(ctx_of(postal_hub.settings))  # a first run: a token, pages of 50 read
    sim.load(20, 4)
    sim.faults(**fault)
    read_feed(ctx_of(postal_hub.settings))
    if fault.get("stall"):
        assert len(stored_events(postal_hub.engine)) == 80, "a stalled feed: nothing new, nothing lost"
        sim.faults(stall=False)
    read_until_caught_up(postal_hub.settings, sim)
    if fault.get("expire_tokens"):
        assert sim.state()["counters"]["calls"]["token"] == 2, "the withdrawn token was renewed once"
    assert_each_event_stored_once(postal_hub, sim)


def test_the_cursor_lives_in_the_database_and_a_new_process_resumes_where_it_stopped(postal_hub: Hub, sim: Sim) -> None:
    sim.load(15, 4)
    read_feed(ctx_of(postal_hub.settings))
    first = ctx_of(postal_hub.settings).cursor(CURSOR).get()
    sim.load(15, 4)
    pages_before = sim.state()["counters"]["pages"]
    later = postal_hub.settings.model_copy()  # another settings object: a fresh context, as a new process has
    assert ctx_of(later) is not ctx_of(postal_hub.settings)
    assert ctx_of(later).cursor(CURSOR).get() == first
    read_feed(ctx_of(later))
    assert sim.state()["counters"]["pages"] - pages_before == 2, "it asked only for what came after the cursor"
    assert_each_event_stored_once(postal_hub, sim)


def test_the_cursor_never_moves_back(postal_hub: Hub, sim: Sim) -> None:
    sim.load(5, 2)
    read_until_caught_up(postal_hub.settings, sim)
    cursor = ctx_of(postal_hub.settings).cursor(CURSOR)
    ahead = "f" * 24
    cursor.set(ahead)
    sim.load(5, 2)  # ids below the cursor: the feed serves none of them after it
    read_feed(ctx_of(postal_hub.settings))
    assert cursor.get() == ahead and len(stored_events(postal_hub.engine)) == 10


def test_an_unknown_status_code_becomes_postal_unrecognised_kept_and_flagged(postal_hub: Hub, sim: Sim) -> None:
    sim.faults(unknown_code=True)
    sim.load(3, 2)
    read_until_caught_up(postal_hub.settings, sim)
    rows = stored_events(postal_hub.engine)
    assert len(rows) == 6 and {(r.step, r.operator_code, r.recognised) for r in rows} == {
        ("postal.unrecognised", UNKNOWN_CODE[0], 0)}
    bodies = [__import__("orjson").loads(m.body) for m in stored_messages(postal_hub.engine)]
    assert {(b["type"], b["payload"]["recognised"], b["payload"]["operator_meaning"]) for b in bodies} == {
        ("postal.unrecognised", False, UNKNOWN_CODE[1])}
    assert records.unrecognised_codes(postal_hub.engine, PARTNER)[0] | {"last_at": None} == {
        "code": UNKNOWN_CODE[0], "events": 6, "last_at": None}


def event(number: str, code: str, oid: str, at: int | str = 1_764_000_000_000, **extra: Any) -> TrackingEvent:
    return TrackingEvent.model_validate({"_id": {"$oid": oid}, "OrderNumber": number, "ItemCode": "EE1VN",
                                         "EventTime": at, "POSID": "200000", "StatusCode": code,
                                         "StatusMessage": "Phát thành công", **extra})


def test_the_leg_is_the_held_orders_else_the_order_numbers_suffix(postal_hub: Hub) -> None:
    held = f"{AGENCY}-261123-0001"
    with postal_hub.engine.begin() as conn:
        records.book(conn, PARTNER, held, dossier_code=held, agency_id=AGENCY, leg="result",
                     job=records.Job("A", "0912345678", "B", None, "193", "22", ["Kết quả"]))
    batch = [(f"{i:024x}", e) for i, e in enumerate([
        event(held, "14", "1"), event(f"{AGENCY}-261123-0002-KQ", "14", "2"), event(f"{AGENCY}-261123-0003", "14", "3")], 1)]
    mapped = map_events(postal_hub.engine, PARTNER, batch)
    assert [(m.message["dossier_code"], m.message["payload"]["leg"], m.message["type"]) for m in mapped if m.message] == [
        (held, "result", "postal.delivered"),  # held as a result delivery: the citizen got it
        (f"{AGENCY}-261123-0002", "result", "postal.delivered"),  # -KQ: a result delivery
        (f"{AGENCY}-261123-0003", "pickup", "postal.handed_over"),  # a pickup order, delivered to the agency
    ]
    assert {m.message["payload"]["agency_id"] for m in mapped if m.message} == {AGENCY}
    assert [m.message["message_id"] for m in mapped if m.message] == [f"vnpost-{i:024x}" for i in (1, 2, 3)]


def test_the_feeds_created_event_of_an_order_the_hub_booked_is_kept_but_not_said_again(postal_hub: Hub) -> None:
    booked = f"{AGENCY}-261123-0005"
    with postal_hub.engine.begin() as conn:
        records.book(conn, PARTNER, booked, dossier_code=booked, agency_id=AGENCY, leg="pickup",
                     job=records.Job("A", "0912345678", "B", None, "193", "22", ["Tờ khai"]))
    batch = [("e" * 24, event(booked, "1", "e")), ("f" * 24, event(booked, "6", "f"))]
    result = store(ctx_of(postal_hub.settings), map_events(postal_hub.engine, PARTNER, batch), "feed")
    assert (result.stored, result.without_dossier) == (2, 0), "both kept; neither lacks a dossier"
    assert [m.message_id for m in stored_messages(postal_hub.engine)] == ["vnpost-" + "f" * 24], \
        "postal.booked is the hub's own word (the connector's), the collection is VNPost's"


def test_an_event_naming_no_dossier_is_kept_without_a_message_and_nothing_fails(postal_hub: Hub) -> None:
    ctx = ctx_of(postal_hub.settings)
    batch = [("a" * 24, event("HS-ABC-123", "6", "a")),  # no dossier code
             ("b" * 24, event(f"{AGENCY}-261123-0009", "6", "b", at="not a time")),
             ("c" * 24, event(f"{AGENCY}-261123-0009", "6", "c", CODAmount=35000, Notes="  Giao cho ông A  "))]
    result = store(ctx, map_events(postal_hub.engine, PARTNER, batch), "feed")
    assert (result.stored, result.without_dossier) == (3, 2)
    rows = {r.event_id: r for r in stored_events(postal_hub.engine)}
    assert rows["a" * 24].dossier_code is None and rows["a" * 24].order_number == "HS-ABC-123"
    [message] = stored_messages(postal_hub.engine)
    body = __import__("orjson").loads(message.body)
    assert body["payload"]["cod_amount"] == 35000 and body["payload"]["note"] == "Giao cho ông A"
    assert store(ctx, map_events(postal_hub.engine, PARTNER, batch), "push").stored == 0, "once, whichever way"


def test_an_incomplete_document_in_the_feed_is_kept_flagged_and_does_not_stall_the_feed(
        db_url: str, redis_server: RedisServer, tmp_path: Path) -> None:
    with ThreadedServer(create_app(speed=0)).start() as server:
        sim = Sim(server.url)
        sim.load(2, 2)
        postal = server.server.config.app.state.postal  # a document with no ItemCode, POSID, StatusCode, message
        postal._append({"OrderNumber": f"{AGENCY}-261123-0099"}, postal.epoch_ms + 10_000_000)
        sim.load(1, 1, code_prefix="000.00.01.H49")
        settings = make_settings(db_url, redis_server.url, tmp_path,
                                 partner_settings={PARTNER: sim.partner_settings(feed_page_size=50)})
        hub = seed_hub(settings, tmp_path)
        try:
            read_until_caught_up(settings, sim)
            rows = stored_events(hub.engine)
            assert len(rows) == 6, "the events before and after the incomplete one, and it"
            [odd] = [r for r in rows if r.order_number == f"{AGENCY}-261123-0099"]
            assert (odd.step, odd.recognised) == ("postal.unrecognised", 0)
        finally:
            hub.engine.dispose()


def test_event_time_is_epoch_milliseconds_or_iso_text_in_vietnam_time_when_naive() -> None:
    utc = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
    ms = int(utc.timestamp() * 1000)
    assert event_time(ms) == utc and event_time(str(ms)) == utc
    assert event_time("2026-11-23T09:00:00") == utc, "a naive time is Vietnam's (UTC+7)"
    assert event_time("2026-11-23T02:00:00Z") == utc
    assert event_time(ms).utcoffset() == timedelta(hours=7) and VIETNAM.tzname(None) == "Asia/Ho_Chi_Minh"
    assert event_time("yesterday") is None and event_time(-1) is None and event_time(10**20) is None


def test_an_order_number_is_a_dossier_code_or_one_with_the_result_suffix() -> None:
    assert dossier_of(f"{AGENCY}-261123-0001") == (f"{AGENCY}-261123-0001", "pickup")
    assert dossier_of(f"{AGENCY}-261123-0001-KQ") == (f"{AGENCY}-261123-0001", "result")
    assert dossier_of(f"{AGENCY}-261323-0001")[0] is None, "month 13: no dossier code"
    assert dossier_of("HS-0001-KQ")[0] is None


def test_a_page_of_repeats_counts_each_event_once(postal_hub: Hub) -> None:
    ctx = ctx_of(postal_hub.settings)
    one = event(f"{AGENCY}-261123-0001", "6", "d" * 24)
    result = store(ctx, map_events(postal_hub.engine, PARTNER, [("d" * 24, one)] * 3), "feed")
    assert (result.received, result.stored) == (1, 1)
    with reading(postal_hub.engine) as conn:
        assert conn.execute(select(func.count()).select_from(messages)).scalar_one() == 1
