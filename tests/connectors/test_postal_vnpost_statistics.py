"""Postal statistics per agency and period (connectors/postal_vnpost/statistics.py), on SQLite and PostgreSQL.

Rules: on a known data set (orders booked with ``records.book``, moved by ``records.record_events``)
the counts, the nearest-rank median and p90 of booking -> hand-over and booking -> delivery hours and
the cash collected on delivery are exactly the hand-computed ones; the period is [from, to) of
booking time in Vietnam time; another partner's orders are not counted; the API's JSON and CSV and
``lienthong postal stats`` say the same, byte for byte; a long period is read month by month with
progress; a bad period or format is a 422 problem, never a 500; a partner key without the ``ops``
scope is refused.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from connectors.postal_vnpost import records
from connectors.postal_vnpost.statistics import COLUMNS, Period, nearest_rank, read
from tests.conftest import Hub
from tests.support import ROOT, client, settings_env

PARTNER = "postal_vnpost"
A, B = "000.00.00.H49", "000.00.01.H49"
VN = timezone(timedelta(hours=7))
JOB = records.Job(name="Nguyễn Thị Thuỷ", phone="0912345678", address="Số 12 đường Trần Hưng Đạo", ward="Hồng Gai",
                  district="193", province="22", what=["Tờ khai"], cod_amount=0)


def at(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    """A time in Vietnam (UTC+7), as the agencies read their clocks."""
    return datetime(year, month, day, hour, minute, tzinfo=VN)


#: (number, agency, leg, booked at, [(step, at, cod)]): the known data set, January 2026 in Vietnam time.
ORDERS: list[tuple[str, str, str, datetime, list[tuple[str, datetime, int | None]]]] = [
    # agency A, pickups
    ("P0", A, "pickup", at(12, 31, 23, 59, year=2025), []),  # booked the day before the period: not counted
    ("P1", A, "pickup", at(1, 5, 8), [("collected", at(1, 5, 10), None), ("handed_over", at(1, 5, 14), None)]),  # 6 h
    ("P2", A, "pickup", at(1, 6, 8), [("collected", at(1, 6, 9), None), ("handed_over", at(1, 7, 8), None)]),  # 24 h
    ("P3", A, "pickup", at(1, 7, 9), [("collected", at(1, 7, 10), None), ("handed_over", at(1, 7, 11, 30), None)]),  # 2.5 h
    ("P4", A, "pickup", at(1, 8, 8), [("cancelled", at(1, 8, 9), None)]),
    ("P5", A, "pickup", at(1, 9, 8), [("collected", at(1, 9, 12), None)]),  # collected, not yet handed over
    # 31 Jan 23:30 in Vietnam is still January (16:30 UTC); handed over 12 h later, in February
    ("P6", A, "pickup", at(1, 31, 23, 30), [("collected", at(2, 1, 8), None), ("handed_over", at(2, 1, 11, 30), None)]),
    # 1 Feb 00:30 in Vietnam is 31 Jan 17:30 UTC: outside a January in Vietnam time
    ("P7", A, "pickup", at(2, 1, 0, 30), []),
    # agency A, results
    ("R1", A, "result", at(1, 10, 8), [("delivered", at(1, 11, 10), 35000)]),  # 26 h
    ("R2", A, "result", at(1, 12, 8), [("failed", at(1, 12, 15), None), ("delivered", at(1, 13, 9), 20000)]),  # 25 h
    ("R3", A, "result", at(1, 14, 8), [("failed", at(1, 14, 16), None), ("returned", at(1, 16, 8), None)]),
    ("R4", A, "result", at(1, 15, 8), [("delivered", at(1, 15, 12), 0)]),  # 4 h, nothing to collect
    ("R5", A, "result", at(1, 20, 8), [("in_transit", at(1, 20, 10), None)]),
    # agency B
    ("P8", B, "pickup", at(1, 20, 8), [("collected", at(1, 20, 8, 45), None), ("handed_over", at(1, 20, 10, 15), None)]),  # 2.25 h
    ("R6", B, "result", at(1, 21, 8), [("delivered", at(1, 21, 9, 30), 15000)]),  # 1.5 h
]

# Agency A, January 2026 (P0 and P7 outside):
#   pickups booked P1-P6 = 6; collected P1 P2 P3 P5 P6 = 5; handed over P1 P2 P3 P6 = 4; cancelled P4 = 1;
#   hand-over hours [6, 24, 2.5, 12] sorted [2.5, 6, 12, 24], n = 4: median rank ceil(0.5*4) = 2 -> 6,
#   p90 rank ceil(0.9*4) = ceil(3.6) = 4 -> 24;
#   results sent R1-R5 = 5; delivered R1 R2 R4 = 3; failed R2 R3 = 2 (R2 delivered later, still counted);
#   returned R3 = 1; delivery hours [26, 25, 4] sorted [4, 25, 26], n = 3: median rank ceil(1.5) = 2 -> 25,
#   p90 rank ceil(2.7) = 3 -> 26; cash on delivery 35000 + 20000 + 0 = 55000.
# Agency B: one of each, so median = p90 = the one duration: 2.25 h and 1.5 h; 15000 collected.
EXPECTED_A = {"agency_id": A, "pickups_booked": 6, "pickups_collected": 5, "pickups_handed_over": 4,
              "pickups_cancelled": 1, "results_sent": 5, "results_delivered": 3, "results_failed": 2,
              "results_returned": 1, "pickup_hours_median": 6.0, "pickup_hours_p90": 24.0,
              "result_hours_median": 25.0, "result_hours_p90": 26.0, "cod_collected_vnd": 55000}
EXPECTED_B = {"agency_id": B, "pickups_booked": 1, "pickups_collected": 1, "pickups_handed_over": 1,
              "pickups_cancelled": 0, "results_sent": 1, "results_delivered": 1, "results_failed": 0,
              "results_returned": 0, "pickup_hours_median": 2.25, "pickup_hours_p90": 2.25,
              "result_hours_median": 1.5, "result_hours_p90": 1.5, "cod_collected_vnd": 15000}
EXPECTED_CSV = (
    ",".join(COLUMNS) + "\r\n"
    "000.00.00.H49,6,5,4,1,5,3,2,1,6.0,24.0,25.0,26.0,55000\r\n"
    "000.00.01.H49,1,1,1,0,1,1,0,0,2.25,2.25,1.5,1.5,15000\r\n"
)


def seed(engine: Any, partner: str = PARTNER, prefix: str = "") -> None:
    """The known data set, booked and moved forward through the records' own functions."""
    with engine.begin() as conn:
        for n, (name, agency, leg, booked, steps) in enumerate(ORDERS, 1):
            number = f"{agency}-260101-{n:04d}{prefix}"
            records.book(conn, partner, number, dossier_code=f"{agency}-260101-{n:04d}", agency_id=agency,
                         leg=leg, job=JOB, at=booked)  # type: ignore[arg-type]
            records.record_events(conn, partner, [
                records.Event(event_id=f"{prefix}{name}-{i}", order_number=number, step=f"postal.{step}",
                              operator_code="14", recognised=True, at=when, cod_amount=cod)
                for i, (step, when, cod) in enumerate(steps)], "feed")


@pytest.fixture
def data(hub: Hub) -> Hub:
    seed(hub.engine)
    seed(hub.engine, partner="other_post", prefix="X")  # another postal partner's orders: never counted
    return hub


def cli(hub: Hub, *args: str) -> subprocess.CompletedProcess[bytes]:
    """``lienthong postal stats ...`` in its own process, on the hub's database."""
    return subprocess.run([sys.executable, "-m", "hub.cli", "postal", "stats", *args], cwd=ROOT,
                          env=settings_env(hub.settings), capture_output=True, timeout=120)


def test_nearest_rank_picks_the_ceil_p_n_th_value_of_the_sorted_durations() -> None:
    assert nearest_rank([], 50) is None
    assert nearest_rank([7.0], 90) == 7.0
    assert nearest_rank([24, 6, 12, 2.5], 50) == 6  # rank ceil(2) = 2 of [2.5, 6, 12, 24]: the lower middle
    assert nearest_rank([24, 6, 12, 2.5], 90) == 24  # rank ceil(3.6) = 4
    assert nearest_rank(list(range(1, 11)), 90) == 9  # rank ceil(9.0) = 9
    assert nearest_rank(list(range(1, 12)), 90) == 10  # rank ceil(9.9) = 10


def test_statistics_of_the_known_data_set_are_the_hand_computed_ones(data: Hub) -> None:
    rows = read(data.engine, PARTNER, Period.parse("2026-01-01", "2026-02-01"))
    assert rows == [EXPECTED_A, EXPECTED_B]


def test_one_agency_is_its_own_row_and_an_agency_without_orders_is_a_row_of_zeros(data: Hub) -> None:
    period = Period.parse("2026-01-01", "2026-02-01")
    assert read(data.engine, PARTNER, period, agency=B) == [EXPECTED_B]
    [empty] = read(data.engine, PARTNER, period, agency="000.00.02.H49")
    assert empty["pickups_booked"] == 0 and empty["pickup_hours_median"] is None and empty["cod_collected_vnd"] == 0


def test_a_long_period_is_read_month_by_month_with_progress(data: Hub) -> None:
    seen: list[tuple[int, int]] = []
    rows = read(data.engine, PARTNER, Period.parse("2025-12-15", "2026-03-01"), agency=A, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(1, 3), (2, 3), (3, 3)], "15-31 December, January, February"
    assert rows[0]["pickups_booked"] == 8, "P0 (31 December) and P7 (1 February) are in this period"


def test_api_json_csv_and_the_command_say_the_same(data: Hub, api: str) -> None:
    with client(api, data.keys["ops"]) as ops:
        as_json = ops.get("/v1/postal/statistics", params={"from": "2026-01-01", "to": "2026-02-01"})
        as_csv = ops.get("/v1/postal/statistics", params={"from": "2026-01-01", "to": "2026-02-01", "format": "csv"})
    assert as_json.status_code == 200, as_json.text
    body = as_json.json()
    assert body["agencies"] == [EXPECTED_A, EXPECTED_B]
    assert (body["from"], body["to"], body["timezone"], body["percentiles"]) == (
        "2026-01-01", "2026-02-01", "Asia/Ho_Chi_Minh", "nearest-rank")
    assert as_csv.status_code == 200 and as_csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert as_csv.text == EXPECTED_CSV
    assert list(csv.DictReader(io.StringIO(as_csv.text)))[1]["cod_collected_vnd"] == "15000"

    run_json = cli(data, "--from", "2026-01-01", "--to", "2026-02-01")
    run_csv = cli(data, "--from", "2026-01-01", "--to", "2026-02-01", "--format", "csv")
    assert run_json.returncode == 0, run_json.stderr.decode()
    assert run_json.stdout == as_json.content, "the command prints what the API answers"
    assert run_csv.returncode == 0 and run_csv.stdout == as_csv.content


def test_the_command_reads_one_agency_over_a_long_period(data: Hub) -> None:
    run = cli(data, "--agency", B, "--from", "2025-11-01", "--to", "2026-05-01", "--format", "csv")
    assert run.returncode == 0, run.stderr.decode()
    assert run.stdout.decode().splitlines()[1] == "000.00.01.H49,1,1,1,0,1,1,0,0,2.25,2.25,1.5,1.5,15000"


@pytest.mark.parametrize("args", [["--from", "2026-01-01"], ["--from", "2026-02-01", "--to", "2026-01-01"],
                                  ["--format", "xml"], ["--agency", "=HYPERLINK()"]])
def test_the_command_refuses_a_bad_period_format_or_agency_before_reading_anything(args: list[str]) -> None:
    from typer.testing import CliRunner

    from hub.cli import app

    run = CliRunner().invoke(app, ["postal", "stats", *args])
    assert run.exit_code == 2 and run.stdout == "", run.output


@pytest.mark.parametrize("query", [
    {"from": "2026-01-01"},  # only one end
    {"from": "2026-02-01", "to": "2026-01-01"},  # to before from
    {"from": "2026-01-01", "to": "2026-01-01"},  # empty
    {"from": "2020-01-01", "to": "2026-01-02"},  # longer than five years
    {"from": "2026-02-30", "to": "2026-03-01"},  # not a date
    {"from": "20260101", "to": "20260201"},  # not YYYY-MM-DD
    {"from": "9999-12-01", "to": "9999-12-31"},  # beyond the years a period may name
    {"format": "xml"},
    {"agency": "=cmd|' /C calc'!A0"},  # not an agency id (nor a spreadsheet formula in a CSV)
])
def test_a_bad_query_is_a_validation_problem_never_a_500(hub: Hub, api: str, query: dict[str, str]) -> None:
    with client(api, hub.keys["ops"]) as ops:
        r = ops.get("/v1/postal/statistics", params=query)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json") and r.json()["type"].endswith("validation")


def test_without_dates_it_is_the_current_month(data: Hub, api: str) -> None:
    with client(api, data.keys["ops"]) as ops:
        r = ops.get("/v1/postal/statistics")
    assert r.status_code == 200, r.text
    today = datetime.now(timezone(timedelta(hours=7))).date()
    assert r.json()["from"] == today.replace(day=1).isoformat()


@pytest.mark.parametrize("who", ["postal_vnpost", "motcua"])
def test_a_partner_key_without_the_ops_scope_is_refused(data: Hub, api: str, who: str) -> None:
    with client(api, data.keys[who]) as c:
        r = c.get("/v1/postal/statistics", params={"from": "2026-01-01", "to": "2026-02-01"})
    assert r.status_code == 403 and r.json()["type"].endswith("forbidden")
    assert "55000" not in r.text


def test_no_key_no_statistics(data: Hub, api: str) -> None:
    r = httpx.get(f"{api}/v1/postal/statistics", params={"from": "2026-01-01", "to": "2026-02-01"})
    assert r.status_code == 401


def test_operators_and_admins_read_the_statistics_an_auditor_does_not(data: Hub, api: str) -> None:
    from hub.access.accounts import add_account

    answers = {}
    for role, name in (("operator", "olga"), ("admin", "alice"), ("auditor", "audrey")):
        add_account(data.engine, name, name.title(), role, "correct horse battery", actor="test")
        login = httpx.post(f"{api}/v1/auth/login", json={"username": name, "password": "correct horse battery"}, timeout=30)
        assert login.status_code == 200, login.text
        answers[role] = httpx.get(f"{api}/v1/postal/statistics", params={"from": "2026-01-01", "to": "2026-02-01"},
                                  headers={"Authorization": f"Bearer {login.json()['token']}"}, timeout=30)
    assert answers["operator"].status_code == 200 and answers["operator"].json()["agencies"] == [EXPECTED_A, EXPECTED_B]
    assert answers["admin"].status_code == 200
    assert answers["auditor"].status_code == 403
