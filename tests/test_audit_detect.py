"""Detection rules over the access records, alerts raised once per rule and subject, their metrics,
the auditor's alert API and ``lienthong audit detect``: on real SQLite and PostgreSQL databases."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import insert, select, update
from typer.testing import CliRunner

from hub.access.accounts import add_account
from hub.alerts.detector import Detector
from hub.alerts.rules import Finding, detect
from hub.alerts.store import acknowledge, raise_findings, refresh_gauge
from hub.edge.app import create_app
from hub.store.engine import reading
from hub.store.tables import access_records, accounts, admin_actions, alerts, api_keys, partners
from tests.conftest import Hub, client
from tests.support import ThreadedServer, wait_until

PASSWORD = "correct horse battery"
NOW = datetime(2026, 11, 25, 3, 0, tzinfo=timezone.utc)  # Wednesday 10:00 in Hà Nội: office hours
CITIZEN_ID = "001099012345"
LOOKUP = {"route": "/v1/citizens/lookup", "path": f"/v1/citizens/lookup?id={CITIZEN_ID}", "method": "POST",
          "partner_code": "motcua", "key_id": 1, "citizen_index": "f" * 64}


def rec(at: datetime, **over: Any) -> dict[str, Any]:
    row = {"at": at, "request_id": "", "kind": "request", "outcome": "ok", "partner_code": None, "key_id": None,
           "account": None, "client_ip": "198.51.100.1", "forwarded_for": "", "user_agent": "", "device": "", "os": "",
           "browser": "", "method": "GET", "route": "/v1/messages", "path": "/v1/messages", "status": 200,
           "latency_us": 0, "request_bytes": 0, "response_bytes": 0, "message_ids": "", "summary": "",
           "citizen_index": None, "content": None}
    row.update(over)
    return row


def put(hub: Hub, rows: list[dict[str, Any]]) -> None:
    with hub.engine.begin() as conn:
        conn.execute(insert(access_records), rows)


def refusals(n: int, end: datetime, **over: Any) -> list[dict[str, Any]]:
    return [rec(end - timedelta(seconds=i), **{"outcome": "unknown_key", "status": 401, **over}) for i in range(n)]


def run(hub: Hub, rule: str, now: datetime = NOW, since: datetime | None = None, **settings: Any) -> list[Finding]:
    return detect(hub.engine, hub.settings.model_copy(update=settings), now=now, since=since, rules=[rule])


def all_alerts(hub: Hub) -> list[Any]:
    with reading(hub.engine) as conn:
        return conn.execute(select(alerts).order_by(alerts.c.id)).all()


def local(y: int, m: int, d: int, hh: int, mm: int) -> datetime:
    """A time in Hà Nội (UTC+7, no daylight saving), as UTC."""
    return datetime(y, m, d, hh, mm, tzinfo=timezone(timedelta(hours=7))).astimezone(timezone.utc)


# --- the rules ---------------------------------------------------------------------------------------


def test_auth_failures_ip_fires_at_20_refusals_in_60_s_from_one_address_not_at_19(hub: Hub) -> None:
    put(hub, refusals(19, NOW, client_ip="203.0.113.9")
        + refusals(30, NOW - timedelta(seconds=90), client_ip="203.0.113.9")  # outside the window
        + [rec(NOW, client_ip="203.0.113.9", outcome="rate_limited", status=429) for _ in range(5)]  # not a 401
        + refusals(15, NOW, client_ip="203.0.113.10"))
    assert run(hub, "auth_failures_ip") == []
    put(hub, [rec(NOW - timedelta(seconds=30), client_ip="203.0.113.9", outcome="login_failed:password", status=401,
                  account="alice")])
    found = run(hub, "auth_failures_ip")
    assert [(f.subject, f.severity) for f in found] == [("ip:203.0.113.9", "warning")]
    assert "20 refused" in found[0].detail and "unknown_key×19" in found[0].detail
    assert found[0].at == NOW


def test_auth_failures_key_fires_for_a_revoked_key_tried_from_many_addresses_at_10_not_at_9(hub: Hub) -> None:
    rows = [rec(NOW - timedelta(seconds=5 * i), key_id=7777, partner_code="motcua", outcome="revoked", status=401,
                client_ip=f"203.0.113.{i % 5}") for i in range(9)]
    put(hub, rows + refusals(20, NOW - timedelta(seconds=70), key_id=7777, outcome="revoked"))  # too old
    assert run(hub, "auth_failures_key") == []
    put(hub, [rec(NOW, key_id=7777, partner_code="motcua", outcome="ip_not_allowed", status=401, client_ip="192.0.2.1")])
    found = run(hub, "auth_failures_key")
    assert [(f.subject, f.severity) for f in found] == [("key:7777", "critical")]
    assert "from 6 address(es)" in found[0].detail and "revoked×9" in found[0].detail and "motcua" in found[0].detail
    assert run(hub, "auth_failures_ip") == []  # no single address reached its threshold


def test_lookup_off_hours_fires_after_closing_before_opening_and_on_sunday_not_in_office_hours(hub: Hub) -> None:
    put(hub, [
        rec(local(2026, 11, 25, 10, 0), account="cb_hoa", **LOOKUP),
        rec(local(2026, 11, 25, 17, 29), account="cb_lan", **LOOKUP),
        rec(local(2026, 11, 25, 17, 31), account="cb_minh", **LOOKUP),
        rec(local(2026, 11, 26, 7, 29), account="cb_minh", **{**LOOKUP, "outcome": "scope:lookup", "status": 403}),
        rec(local(2026, 11, 26, 7, 29), account="cb_tuan", **LOOKUP),
        rec(local(2026, 11, 25, 22, 0), account="cb_hoa", route="/v1/messages", path="/v1/messages"),  # not a look-up
        rec(local(2026, 11, 24, 23, 0), account="cb_cuong", **LOOKUP),  # before the window
        rec(local(2026, 11, 29, 10, 0), account="cb_dung", **LOOKUP),  # Sunday
    ])
    found = run(hub, "lookup_off_hours", now=local(2026, 11, 26, 10, 0), since=local(2026, 11, 25, 7, 0))
    assert [(f.subject, f.severity) for f in found] == [("account:cb_minh", "warning"), ("account:cb_tuan", "warning")]
    assert found[0].detail.startswith("2 population-database look-up(s)") and "(1 refused)" in found[0].detail
    assert found[0].at == local(2026, 11, 26, 7, 29) and "2026-11-26 07:29:00" in found[0].detail
    assert [f.subject for f in run(hub, "lookup_off_hours", now=local(2026, 11, 30, 10, 0),
                                   since=local(2026, 11, 28, 0, 0))] == ["account:cb_dung"]
    for f in found:
        assert CITIZEN_ID not in f.detail and "f" * 64 not in f.detail and "lookup?id" not in f.detail


def test_lookup_volume_fires_above_the_floor_and_above_factor_times_the_daily_average(hub: Hub) -> None:
    today = local(2026, 11, 25, 0, 0)
    history = [rec(today - timedelta(days=d) + timedelta(hours=9, seconds=i), account="cb_binh", **LOOKUP)
               for d in range(1, 31) for i in range(30)]  # 30 a day: limit max(50, 3 × 30) = 90
    put(hub, history
        + [rec(NOW - timedelta(seconds=i), account="cb_an", **LOOKUP) for i in range(50)]
        + [rec(NOW - timedelta(seconds=i), account="cb_binh", **LOOKUP) for i in range(90)]
        + [rec(today - timedelta(minutes=5), account="cb_an", **LOOKUP) for _ in range(20)])  # yesterday
    assert run(hub, "lookup_volume") == []
    put(hub, [rec(NOW - timedelta(seconds=100), account=a, **LOOKUP) for a in ("cb_an", "cb_binh")])
    found = run(hub, "lookup_volume")
    assert [(f.subject, f.severity) for f in found] == [("account:cb_an", "critical"), ("account:cb_binh", "critical")]
    assert "51 population-database look-ups today" in found[0].detail and "above 50 " in found[0].detail
    assert "91 population-database look-ups today" in found[1].detail and "above 90 " in found[1].detail
    assert all(CITIZEN_ID not in f.detail for f in found)


def test_new_address_fires_for_a_key_with_history_not_for_a_new_key_or_a_known_address(hub: Hub) -> None:
    past = NOW - timedelta(days=3)
    put(hub, [rec(past - timedelta(minutes=i), key_id=501, partner_code="motcua") for i in range(10)]
        + [rec(past - timedelta(minutes=i), key_id=503, partner_code="motcua") for i in range(9)]  # too little history
        + [rec(NOW - timedelta(days=31), key_id=501, client_ip="203.0.113.70")]  # beyond the history days
        + [rec(NOW - timedelta(minutes=2), key_id=501, partner_code="motcua"),  # the known address
           rec(NOW - timedelta(minutes=3), key_id=501, client_ip="203.0.113.99", outcome="revoked", status=401),
           rec(NOW - timedelta(minutes=1), key_id=502, partner_code="motcua", client_ip="203.0.113.60"),  # a new key
           rec(NOW - timedelta(minutes=1), key_id=503, partner_code="motcua", client_ip="203.0.113.61")])
    since = NOW - timedelta(minutes=10)
    assert run(hub, "new_address", since=since) == []
    put(hub, [rec(NOW - timedelta(minutes=4), key_id=501, partner_code="motcua", client_ip="203.0.113.50"),
              rec(NOW - timedelta(minutes=1), key_id=501, partner_code="motcua", client_ip="203.0.113.50"),
              rec(NOW - timedelta(minutes=1), key_id=501, partner_code="motcua", client_ip="203.0.113.70")])
    found = run(hub, "new_address", since=since)
    assert [(f.subject, f.severity) for f in found] == [("key:501", "warning")]
    assert "203.0.113.50 (2 call(s)" in found[0].detail and "203.0.113.70" in found[0].detail
    assert "203.0.113.99" not in found[0].detail and found[0].at == NOW - timedelta(minutes=1)
    # The detector remembers the addresses it saw: a later pass asks the database only about new ones.
    memo: dict = {}
    assert len(detect(hub.engine, hub.settings, now=NOW, since=since, rules=["new_address"], memo=memo)) == 1
    assert detect(hub.engine, hub.settings, now=NOW, since=since, rules=["new_address"], memo=memo) == []
    put(hub, [rec(NOW, key_id=501, partner_code="motcua", client_ip="203.0.113.51")])
    [again] = detect(hub.engine, hub.settings, now=NOW, since=since, rules=["new_address"], memo=memo)
    assert "203.0.113.51" in again.detail and "203.0.113.50" not in again.detail


def test_traffic_spike_fires_above_factor_times_the_hourly_average_and_the_minimum(hub: Hub) -> None:
    baseline_end = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)  # the hour before NOW's hour
    put(hub, [rec(baseline_end - timedelta(hours=h, minutes=m), key_id=602, partner_code="national_dvc")
              for h in range(168) for m in (10, 20, 30)]  # 3 an hour for 7 days: limit 10 × 3 = 30
        + [rec(NOW - timedelta(seconds=i), key_id=601, partner_code="motcua") for i in range(19)]  # no history
        + [rec(NOW - timedelta(seconds=i), key_id=602, partner_code="national_dvc") for i in range(30)]
        + [rec(NOW - timedelta(minutes=61), key_id=601) for _ in range(40)])  # before the last hour
    limits = {"alert_spike_minimum": 20, "alert_spike_factor": 10.0}
    assert run(hub, "traffic_spike", **limits) == []
    put(hub, [rec(NOW - timedelta(minutes=30), key_id=k) for k in (601, 602)])
    found = run(hub, "traffic_spike", **limits)
    assert [(f.subject, f.severity) for f in found] == [("key:601", "warning"), ("key:602", "warning")]
    assert "20 requests in the last hour" in found[0].detail and "average 3.0" in found[1].detail
    assert run(hub, "traffic_spike") == []  # the default minimum is 1,000


def test_unused_credentials_lists_keys_and_accounts_unused_beyond_the_review_days(hub: Hub) -> None:
    now = datetime.now(timezone.utc)
    with hub.engine.begin() as conn:
        ids = dict(conn.execute(select(partners.c.code, api_keys.c.id).join(api_keys, api_keys.c.partner_id == partners.c.id)).all())
        conn.execute(update(api_keys).where(api_keys.c.id == ids["motcua"]).values(last_used_at=now - timedelta(days=91)))
        conn.execute(update(api_keys).where(api_keys.c.id == ids["postal_vnpost"])
                     .values(last_used_at=now - timedelta(days=89)))
    for name in ("olga", "audrey"):
        add_account(hub.engine, name, name.title(), "auditor", PASSWORD, actor="test")
    with hub.engine.begin() as conn:
        conn.execute(update(accounts).where(accounts.c.username == "olga").values(last_login_at=now - timedelta(days=100)))
    found = run(hub, "unused_credentials", now=now)
    assert sorted((f.subject, f.severity) for f in found) == [("account:olga", "info"), (f"key:{ids['motcua']}", "info")]
    assert all(hub.keys["motcua"][8:] not in f.detail for f in found)
    assert run(hub, "unused_credentials", now=now, review_days=120) == []


# --- raising, the detector, metrics --------------------------------------------------------------------


def test_raising_updates_the_open_alert_of_a_rule_and_subject_instead_of_duplicating_it(
        hub: Hub, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="hub.alerts.store")
    detector = Detector(hub.engine, hub.settings)
    put(hub, refusals(20, NOW, client_ip="203.0.113.9"))
    detector.run_once(NOW)
    detector.run_once(NOW + timedelta(seconds=5))  # the same evidence again: nothing changes
    [first] = all_alerts(hub)
    assert (first.rule, first.subject, first.state, first.count, first.last_at) == (
        "auth_failures_ip", "ip:203.0.113.9", "open", 1, NOW)
    put(hub, refusals(1, NOW + timedelta(seconds=10), client_ip="203.0.113.9"))
    detector.run_once(NOW + timedelta(seconds=20))
    [updated] = all_alerts(hub)
    assert (updated.id, updated.count, updated.first_at, updated.last_at) == (first.id, 2, NOW, NOW + timedelta(seconds=10))
    assert "21 refused" in updated.detail
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "auth_failures_ip" in warnings[0].getMessage()

    acknowledge(hub.engine, first.id, actor="audrey")
    detector.run_once(NOW + timedelta(seconds=25))  # nothing new since: the acknowledged alert stays the only one
    assert len(all_alerts(hub)) == 1
    put(hub, refusals(1, NOW + timedelta(seconds=30), client_ip="203.0.113.9"))
    detector.run_once(NOW + timedelta(seconds=40))  # still going on: a new alert
    assert [(a.state, a.count) for a in all_alerts(hub)] == [("acknowledged", 2), ("open", 1)]
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 2
    assert all(hub.keys[p][8:] not in caplog.text for p in hub.keys)


def test_detector_thread_raises_every_interval_and_the_gauge_shows_the_open_count(hub: Hub) -> None:
    raised_before = REGISTRY.get_sample_value("lienthong_alerts_raised_total", {"rule": "auth_failures_key"}) or 0.0
    put(hub, refusals(10, datetime.now(timezone.utc), key_id=4242, outcome="expired"))
    detector = Detector(hub.engine, hub.settings, interval=0.1)
    detector.start()
    try:
        wait_until(lambda: all_alerts(hub), 10, what="an alert")
        assert REGISTRY.get_sample_value("lienthong_alerts_raised_total", {"rule": "auth_failures_key"}) == raised_before + 1
        wait_until(lambda: REGISTRY.get_sample_value("lienthong_alerts_open", {"rule": "auth_failures_key"}) == 1, 10)
        assert REGISTRY.get_sample_value("lienthong_alerts_open", {"rule": "traffic_spike"}) == 0
        acknowledge(hub.engine, all_alerts(hub)[0].id, actor="audrey")
        wait_until(lambda: REGISTRY.get_sample_value("lienthong_alerts_open", {"rule": "auth_failures_key"}) == 0, 10)
    finally:
        detector.stop()
        detector.join(5)
    assert not detector.is_alive() and len(all_alerts(hub)) == 1


def test_audit_detect_cli_prints_the_findings_and_dry_run_raises_nothing(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    for module in ("hub.cli.helpers", "hub.cli.audit"):
        monkeypatch.setattr(f"{module}.get_settings", lambda: hub.settings)
    from hub.cli import app

    put(hub, refusals(25, datetime.now(timezone.utc), client_ip="203.0.113.33"))
    result = CliRunner().invoke(app, ["audit", "detect", "--dry-run"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert [f["subject"] for f in out["findings"]] == ["ip:203.0.113.33"] and out["opened"] == []
    assert all_alerts(hub) == []
    result = CliRunner().invoke(app, ["audit", "detect"])
    assert result.exit_code == 0 and len(json.loads(result.output)["opened"]) == 1 and len(all_alerts(hub)) == 1


# --- the auditor's API ---------------------------------------------------------------------------------


@pytest.fixture
def server(hub: Hub) -> Iterator[str]:
    for name, role in (("alice", "admin"), ("audrey", "auditor")):
        add_account(hub.engine, name, name.title(), role, PASSWORD, actor="test")
    with ThreadedServer(create_app(hub.settings)).start() as s:
        yield s.url


def login(base: str, username: str) -> httpx.Client:
    r = httpx.post(f"{base}/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {r.json()['token']}"}, timeout=30)


def test_alerts_api_lists_pages_and_acknowledges_alerts_for_auditors(hub: Hub, server: str) -> None:
    raise_findings(hub.engine, [Finding("auth_failures_ip", "ip:203.0.113.9", "warning", "20 refused", NOW),
                                Finding("auth_failures_key", "key:7", "critical", "10 refused", NOW),
                                Finding("auth_failures_ip", "ip:203.0.113.10", "warning", "25 refused", NOW)])
    refresh_gauge(hub.engine)
    auditor = login(server, "audrey")
    listed = auditor.get("/v1/audit/alerts").json()
    assert [a["subject"] for a in listed["items"]] == ["ip:203.0.113.9", "key:7", "ip:203.0.113.10"]
    assert listed["next_after"] is None and listed["items"][0]["state"] == "open" and listed["items"][0]["count"] == 1
    page = auditor.get("/v1/audit/alerts", params={"limit": 2}).json()
    rest = auditor.get("/v1/audit/alerts", params={"limit": 2, "after": page["next_after"]}).json()
    assert [a["subject"] for a in page["items"] + rest["items"]] == [a["subject"] for a in listed["items"]]
    only = auditor.get("/v1/audit/alerts", params={"state": "open", "rule": "auth_failures_ip"}).json()["items"]
    assert [a["subject"] for a in only] == ["ip:203.0.113.9", "ip:203.0.113.10"]
    assert auditor.get("/v1/audit/alerts", params={"state": "closed"}).status_code == 422

    target = listed["items"][1]["id"]
    acked = auditor.post(f"/v1/audit/alerts/{target}:acknowledge")
    assert acked.status_code == 200 and acked.json()["state"] == "acknowledged"
    assert [a["id"] for a in auditor.get("/v1/audit/alerts", params={"state": "acknowledged"}).json()["items"]] == [target]
    with reading(hub.engine) as conn:
        action = conn.execute(select(admin_actions).where(admin_actions.c.action == "alert.acknowledge")).one()
    assert (action.actor, action.target) == ("audrey", f"alert:{target}")
    assert json.loads(action.before)["state"] == "open" and json.loads(action.after)["state"] == "acknowledged"
    missing = auditor.post("/v1/audit/alerts/999999:acknowledge")
    assert missing.status_code == 404 and missing.json()["type"] == "/problems/not-found"

    with client(server) as anyone:
        metrics = anyone.get("/metrics").text
    assert 'lienthong_alerts_open{rule="auth_failures_ip"} 2.0' in metrics


def test_alerts_api_refuses_partner_keys_and_admins_403_and_unauthenticated_callers_401(hub: Hub, server: str) -> None:
    raise_findings(hub.engine, [Finding("auth_failures_ip", "ip:203.0.113.9", "warning", "20 refused", NOW)])
    [alert] = all_alerts(hub)
    with client(server, hub.keys["ops"]) as partner, client(server) as anonymous:
        assert partner.get("/v1/audit/alerts").status_code == 403
        assert partner.post(f"/v1/audit/alerts/{alert.id}:acknowledge").status_code == 403
        assert anonymous.get("/v1/audit/alerts").status_code == 401
        assert anonymous.post(f"/v1/audit/alerts/{alert.id}:acknowledge").status_code == 401
    assert login(server, "alice").get("/v1/audit/alerts").status_code == 403
    assert all_alerts(hub)[0].state == "open"
