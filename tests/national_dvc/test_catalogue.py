"""The national catalogue: sync, history, the late-fee alert, the simulator's part (issue 17)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
from sqlalchemy import func, select

from connectors.motcua.simulator import PATH as MOTCUA_PATH
from connectors.motcua.simulator import create_app as motcua_app
from connectors.national_dvc.catalogue import store as catalogue_store
from connectors.national_dvc.catalogue.alerts import check_late
from connectors.national_dvc.catalogue.simulator import DEMO_CODES, CataloguePart
from connectors.national_dvc.catalogue.store import history, procedure
from connectors.national_dvc.catalogue.sync import due, sync
from connectors.national_dvc.simulator import Adapter, create_app, describe, load_validators
from connectors.national_dvc.wire_types import HANOI
from hub.context import connector
from hub.queue.deliverer import Deliverer
from hub.runtime import redis_for
from hub.store import tables
from tests.national_dvc.catalogue_support import Portal, hub_settings, synced_hub
from tests.support import RedisServer, ThreadedServer

TODAY = datetime.now(HANOI).date()


@pytest.fixture(scope="module")
def portal() -> Iterator[Portal]:
    with ThreadedServer(create_app()).start() as server:
        yield Portal(server)


@pytest.fixture(scope="module")
def onestop() -> Iterator[ThreadedServer]:
    with ThreadedServer(motcua_app()).start() as server:
        yield server


@pytest.fixture
def hub(portal: Portal, onestop: ThreadedServer, redis_server: RedisServer, tmp_path: Path) -> Iterator[tuple[Any, Any]]:
    """A fresh hub whose catalogue was synced once from a freshly reset portal."""
    portal.reset()
    redis_server.flush()
    settings = hub_settings(tmp_path, redis_server.url, portal.url, f"{onestop.url}{MOTCUA_PATH}")
    h, ctx = synced_hub(settings, tmp_path)
    yield h, ctx
    h.engine.dispose()


def deliver_to_onestop(h: Any) -> None:
    """The hub's real delivery, in this process: claim motcua's due deliveries, send, settle."""
    deliverer = Deliverer(h.settings, h.engine, redis_for(h.settings), lambda name: connector(name, h.settings))
    try:
        deliverer.drain("motcua", budget_seconds=10)
    finally:
        deliverer.close()


def count(h: Any, table: Any) -> int:
    with h.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar() or 0)


def test_a_fee_change_at_the_portal_reaches_the_one_stop_system_and_its_history_names_the_decision(
        hub: tuple[Any, Any], portal: Portal, onestop: ThreadedServer) -> None:
    h, ctx = hub
    deliver_to_onestop(h)  # the first sync's notices (one per procedure published)
    portal.control("fees", code="2.000477", channel=2, fees=[{"code": "LP-2.000477", "amount": 6000}],
                   decision="1234/QĐ-BTP", decided_on=TODAY)
    report = sync(ctx)
    assert report.changed == {"2.000477": ["fees"]}
    deliver_to_onestop(h)
    inbox = onestop.server.config.app.state.inbox.messages
    notice = inbox["catalogue-2.000477-v2"]
    payload = notice["message"]["payload"]
    assert notice["times"] == 1
    assert payload["changes"] == ["fees"] and payload["fee_channels"] == [2]
    assert payload["decision"].startswith("1234/QĐ-BTP") and payload["decided_on"] == TODAY.isoformat()
    online = next(c for c in payload["channels"] if c["channel"] == 2)
    assert [(f["code"], f["amount"]) for f in online["fees"]] == [("LP-2.000477", 6000)]
    check_late(ctx)
    row = history(h.engine, "2.000477")[-1]
    assert (row["version"], row["changes"], row["fee_channels"]) == (2, "fees", "2")
    assert row["decision"].startswith("1234/QĐ-BTP") and row["decided_on"] == TODAY.isoformat()
    assert row["message_id"] == "catalogue-2.000477-v2" and row["delivered_at"] is not None
    assert row["detail"]["fees"]["2"] == {"before": [["LP-2.000477", 4000]], "after": [["LP-2.000477", 6000]]}
    assert check_late(ctx, datetime.now(timezone.utc) + timedelta(days=30)) == [], "delivered in time: no alert, ever"


def test_a_fee_change_not_delivered_within_five_days_of_its_decision_raises_the_alert(hub: tuple[Any, Any], portal: Portal) -> None:
    h, ctx = hub
    portal.control("fees", code="1.001193", channel=1, fees=[{"code": "LP-1.001193", "amount": 5000}],
                   decision="77/QĐ-UBND", decided_on=TODAY)
    sync(ctx)  # stored and queued, never delivered (no worker in this test)
    end_of_day_5 = datetime.combine(TODAY + timedelta(days=6), datetime.min.time(), HANOI)
    assert check_late(ctx, end_of_day_5 - timedelta(minutes=1)) == [], "not late yet on the fifth day"
    assert check_late(ctx, end_of_day_5 + timedelta(minutes=1)) == ["1.001193"]
    assert "not delivered by the deadline" in _alert_detail(h, "procedure:1.001193")
    assert history(h.engine, "1.001193")[-1]["alerted_at"] is not None
    assert check_late(ctx, end_of_day_5 + timedelta(hours=2)) == [], "raised once per change"


def test_a_fee_change_seen_later_than_five_days_after_its_decision_raises_the_alert_at_once(
        hub: tuple[Any, Any], portal: Portal) -> None:
    h, ctx = hub
    portal.control("fees", code="1.000656", channel=2, fees=[{"code": "LP-1.000656", "amount": 1000}],
                   decision="5/QĐ-BTP", decided_on=TODAY - timedelta(days=9))
    sync(ctx)
    assert check_late(ctx) == ["1.000656"]
    assert "seen only after the deadline" in _alert_detail(h, "procedure:1.000656")


def _alert_detail(h: Any, subject: str) -> str:
    alerts = tables.alerts
    with h.engine.connect() as conn:
        row = conn.execute(select(alerts).where(alerts.c.subject == subject,
                                                alerts.c.rule == "national_dvc.fee_change_late")).mappings().first()
    assert row is not None
    return str(row["detail"])


def test_a_second_sync_without_changes_stores_and_sends_nothing(hub: tuple[Any, Any]) -> None:
    h, ctx = hub
    before = (count(h, tables.messages), count(h, tables.catalogue_history))
    assert before[0] == before[1] == 40, "the first sync: one version and one notice per procedure"
    report = sync(ctx)
    assert (report.listed, report.changed) == (40, {})
    assert (count(h, tables.messages), count(h, tables.catalogue_history)) == before


def test_a_crash_while_storing_a_batch_leaves_nothing_of_it_and_the_next_sync_sends_each_change_once(
        hub: tuple[Any, Any], portal: Portal, monkeypatch: pytest.MonkeyPatch) -> None:
    h, ctx = hub
    portal.control("fees", code="2.000575", channel=1, fees=[{"code": "LP-2.000575", "amount": 90000}],
                   decision="8/QĐ-UBND", decided_on=TODAY)
    portal.control("withdraw", code="1.100000", decision="9/QĐ-UBND", decided_on=TODAY)
    real = catalogue_store.write
    written: list[str] = []

    def crash_on_the_second(conn: Any, version: Any) -> None:
        written.append(version.code)
        if len(written) == 2:
            raise RuntimeError("the hub died mid-transaction")
        real(conn, version)

    monkeypatch.setattr("connectors.national_dvc.catalogue.store.write", crash_on_the_second)
    monkeypatch.setattr("connectors.national_dvc.catalogue.sync.write", crash_on_the_second)
    messages = count(h, tables.messages)
    with pytest.raises(RuntimeError):
        sync(ctx)
    assert count(h, tables.messages) == messages and procedure(h.engine, "2.000575")["version"] == 1  # type: ignore[index]
    monkeypatch.undo()
    assert set(sync(ctx).changed) == {"2.000575", "1.100000"}
    assert count(h, tables.messages) == messages + 2
    assert sync(ctx).changed == {}


def test_a_procedure_missing_from_the_list_is_withdrawn_citing_its_decision(hub: tuple[Any, Any], portal: Portal) -> None:
    h, ctx = hub
    portal.control("withdraw", code="1.100002", decision="42/QĐ-UBND", decided_on=TODAY)
    assert sync(ctx).changed == {"1.100002": ["withdrawn"]}
    held = procedure(h.engine, "1.100002")
    assert held is not None and held["published"] == 0 and held["version"] == 2
    row = history(h.engine, "1.100002")[-1]
    assert row["decision"].startswith("42/QĐ-UBND") and row["message_id"] == "catalogue-1.100002-v2"
    portal.control("publish", code="1.100002", decision="43/QĐ-UBND", decided_on=TODAY)
    assert sync(ctx).changed == {"1.100002": ["published"]}


def test_the_simulator_refuses_a_lay_thu_tuc_request_that_breaks_its_schema(portal: Portal) -> None:
    missing = portal.call("LayThuTuc")
    assert missing["error_code"] == "02" and "maTTHC" in missing["message"]
    malformed = portal.call("LayThuTuc", maTTHC="2.477")
    assert malformed["error_code"] == "02" and "pattern" in malformed["message"]
    unknown = portal.call("LayThuTuc", maTTHC="9.999999")
    assert unknown["error_code"] == "04"
    found = portal.call("LayThuTuc", maTTHC="2.000477.000.00.00.H56")
    assert found["error_code"] == "00" and found["result"][0]["MATTHC"] == "2.000477"


def test_the_simulated_catalogue_is_the_same_for_a_seed_and_publishes_the_demo_procedures_with_fees_per_channel() -> None:
    validators = load_validators()
    one, two = CataloguePart(Adapter("u", "p", 60, validators), describe), CataloguePart(Adapter("u", "p", 60, validators), describe)
    one.configure(size=300)
    two.configure(size=300)
    assert one.procedures == two.procedures and len(one.procedures) == 300
    for code in DEMO_CODES:
        item = one.procedures[code]
        assert item["TRANGTHAI"] == "1" and {w["KENH"] for w in item["CACHTHUCTHUCHIEN"]} >= {"1", "2"}
    fees = {w["KENH"]: w["THOIGIAN"][0]["PHILEPHI"] for w in one.procedures["2.000477"]["CACHTHUCTHUCHIEN"]}
    assert fees["1"][0]["SOTIEN"] == 8000 and fees["2"][0]["SOTIEN"] == 4000


def test_the_simulator_drift_makes_one_scripted_change_per_period_of_its_own_clock() -> None:
    now = [1000.0]
    part = CataloguePart(Adapter("u", "p", 60, load_validators(), clock=lambda: now[0]), describe)
    part.configure(drift=60)
    part.drift()
    assert part.changes == type(part.changes)(maxlen=50)
    now[0] += 60 * 4 + 1
    part.drift()
    assert [c.kind for c in part.changes] == ["fees", "components", "published", "withdrawn"]
    assert all(c.code not in DEMO_CODES for c in part.changes if c.kind == "withdrawn")


def test_the_nightly_job_syncs_once_when_the_configured_hour_passes(hub: tuple[Any, Any]) -> None:
    _, ctx = hub
    evening = datetime(2026, 12, 1, 23, 0, tzinfo=HANOI)
    assert not due(ctx, evening), "the first look only notes the time"
    assert not due(ctx, evening + timedelta(hours=2))
    assert due(ctx, evening + timedelta(hours=3, minutes=1)), "02:00 passed since the last look"
    assert not due(ctx, evening + timedelta(hours=3, minutes=6)), "once a night"
    assert due(ctx, evening + timedelta(days=3)), "a hub down at 02:00 syncs when it is back"


def test_a_request_to_the_catalogue_controls_that_breaks_their_model_is_refused(portal: Portal) -> None:
    r = httpx.post(f"{portal.url}/_sim/catalogue/fees", json={"code": "2.000477", "channel": 9, "fees": []})
    assert r.status_code == 422
    refused = {e["loc"][-1] for e in r.json()["detail"]}
    assert {"channel", "decision", "decided_on"} <= refused


def test_lienthong_catalogue_sync_reads_the_portal_and_history_shows_the_versions(
        portal: Portal, redis_server: RedisServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from hub.cli import app
    from hub.config import get_settings
    from tests.conftest import seed_hub
    from tests.support import settings_env

    portal.reset()
    settings = hub_settings(tmp_path, redis_server.url, portal.url)
    h = seed_hub(settings, tmp_path)
    for name, value in settings_env(settings).items():
        if name.startswith("LIENTHONG_"):
            monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        done = CliRunner().invoke(app, ["catalogue", "sync"])
        assert done.exit_code == 0, done.output
        assert '"changed": 40' in done.output
        shown = CliRunner().invoke(app, ["catalogue", "history", "2.000477.000.00.00.H56"])
        assert shown.exit_code == 0 and '"message_id": "catalogue-2.000477-v1"' in shown.output
    finally:
        get_settings.cache_clear()
        h.engine.dispose()
